"""Service settings through a real server: seed 000's command-line procedure for Default Host Management
Configuration, verbatim with the aws CLI, and its least-privilege SCP and IAM examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.integration.test_organizations import SEED_000_SCP, member_session
from tests.support.iam import allow, user_with_policy
from tests.support.server import Credentials, ServerProcess

ROLE = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
DHMC = "/ssm/managed-instance/default-ec2-instance-management-role"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Sid": "", "Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SEED_ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:GetServiceSetting", "ssm:ResetServiceSetting", "ssm:UpdateServiceSetting"],
     "Resource": "arn:aws:ssm:{region}:{account}:servicesetting" + DHMC},
    {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "arn:aws:iam::{account}:role/service-role/" + ROLE,
     "Condition": {"StringEquals": {"iam:PassedToService": ["ssm.amazonaws.com"]}}}]}
SEED_IAM_DENY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"],
     "Resource": "arn:aws:ssm:{region}:{account}:servicesetting" + DHMC},
    {"Effect": "Deny", "Action": ["iam:AttachRolePolicy", "iam:DeleteRole", "iam:PassRole"],
     "Resource": "arn:aws:iam::{account}:role/service-role/" + ROLE}]}


def account_of(server: ServerProcess) -> str:
    return str(server.client("sts").get_caller_identity()["Account"])


def filled(policy: dict[str, object], server: ServerProcess, account: str | None = None) -> dict[str, object]:
    text = json.dumps(policy).replace("{region}", server.region).replace("{account}", account or account_of(server))
    return dict(json.loads(text))


def setting_arn(server: ServerProcess, region: str | None = None, account: str | None = None) -> str:
    return f"arn:aws:ssm:{region or server.region}:{account or account_of(server)}:servicesetting{DHMC}"


def create_dhmc_role(server: ServerProcess, tmp_path: Path, creds: Credentials | None = None) -> None:
    """Steps 1-3 of the seed's command-line procedure, as written."""
    (tmp_path / "trust-policy.json").write_text(json.dumps(TRUST))
    server.aws("iam", "create-role", "--role-name", ROLE, "--path", "/service-role/",
               "--assume-role-policy-document", "file://trust-policy.json", cwd=tmp_path, creds=creds)
    server.aws("iam", "attach-role-policy", "--policy-arn",
               "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy", "--role-name", ROLE, creds=creds)


def test_seed_000_command_line_procedure_enables_shows_and_resets_dhmc(server: ServerProcess, tmp_path: Path) -> None:
    create_dhmc_role(server, tmp_path)
    before = server.aws_json("ssm", "get-service-setting", "--setting-id", setting_arn(server))["ServiceSetting"]
    assert before["Status"] == "Default" and before["SettingValue"] == "" and before["LastModifiedUser"] == "System"
    update = server.aws("ssm", "update-service-setting", "--setting-id", setting_arn(server),
                        "--setting-value", f"service-role/{ROLE}")
    assert update.stdout == ""  # "the command prints nothing when it succeeds"
    shown = server.aws_json("ssm", "get-service-setting", "--setting-id", setting_arn(server))["ServiceSetting"]
    assert shown["SettingId"] == DHMC and shown["SettingValue"] == f"service-role/{ROLE}"
    assert shown["ARN"] == setting_arn(server) and shown["Status"] == "Customized"
    assert shown["LastModifiedUser"].endswith(":user/admin") and "LastModifiedDate" in shown
    reset = server.aws_json("ssm", "reset-service-setting", "--setting-id", setting_arn(server))["ServiceSetting"]
    assert reset["Status"] == "Default" and reset["SettingValue"] == ""


def test_a_setting_belongs_to_one_region_only(server: ServerProcess, tmp_path: Path) -> None:
    east, west = server.client("ssm", region="us-east-1"), server.client("ssm", region="eu-west-1")
    east.update_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled", SettingValue="true")
    assert east.get_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")[
        "ServiceSetting"]["SettingValue"] == "true"
    west_view = west.get_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")["ServiceSetting"]
    assert west_view["SettingValue"] == "false" and west_view["Status"] == "Default"
    assert west_view["ARN"].startswith("arn:aws:ssm:eu-west-1:")
    west.update_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled", SettingValue="true")
    west.reset_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")
    assert east.get_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")[
        "ServiceSetting"]["Status"] == "Customized"
    east.reset_service_setting(SettingId="/ssm/parameter-store/high-throughput-enabled")


@pytest.mark.parametrize(("setting_id", "value", "code"), [
    ("/ssm/no/such-setting", "x", "ServiceSettingNotFound"),
    ("/ssm/opsinsights/opscenter", "Maybe", "ValidationException"),
    (DHMC, "NoSuchRole", "ValidationException"),
    ("arn:aws:ssm:us-east-1:999999999999:servicesetting" + DHMC, "x", "ValidationException"),
])
def test_bad_settings_and_values_get_aws_errors(server: ServerProcess, setting_id: str, value: str, code: str) -> None:
    with pytest.raises(ClientError) as err:
        server.client("ssm").update_service_setting(SettingId=setting_id, SettingValue=value)
    assert err.value.response["Error"]["Code"] == code


def test_a_role_that_does_not_trust_ssm_cannot_be_the_default_role(server: ServerProcess) -> None:
    iam = server.client("iam")
    iam.create_role(RoleName="Ec2Only", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    with pytest.raises(ClientError) as err:
        server.client("ssm").update_service_setting(SettingId=DHMC, SettingValue="Ec2Only")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "ssm.amazonaws.com" in err.value.response["Error"]["Message"]


def test_the_seed_least_privilege_policy_allows_and_pass_role_needs_passed_to_service(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = fresh_server()
    create_dhmc_role(server, tmp_path)
    _, admin = user_with_policy(server, filled(SEED_ADMIN_POLICY, server))
    server.client("ssm", admin).update_service_setting(SettingId=setting_arn(server), SettingValue=f"service-role/{ROLE}")
    wrong_service = filled(SEED_ADMIN_POLICY, server)
    wrong_service["Statement"][1]["Condition"]["StringEquals"]["iam:PassedToService"] = ["ec2.amazonaws.com"]  # type: ignore[index]
    _, other = user_with_policy(server, wrong_service)
    with pytest.raises(ClientError) as err:
        server.client("ssm", other).update_service_setting(SettingId=DHMC, SettingValue=f"service-role/{ROLE}")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "iam:PassRole" in err.value.response["Error"]["Message"]


def test_the_seed_iam_deny_policy_stops_even_an_administrator(server: ServerProcess) -> None:
    iam = server.client("iam")
    user, creds = user_with_policy(server, allow("*"))
    iam.put_user_policy(UserName=user, PolicyName="dhmc-deny", PolicyDocument=json.dumps(filled(SEED_IAM_DENY, server)))
    ssm = server.client("ssm", creds)
    assert ssm.get_service_setting(SettingId=DHMC)["ServiceSetting"]["SettingId"] == DHMC
    for call in (lambda: ssm.update_service_setting(SettingId=DHMC, SettingValue="x"),
                 lambda: ssm.reset_service_setting(SettingId=DHMC)):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "with an explicit deny in an identity-based policy" in err.value.response["Error"]["Message"]


def test_the_seed_scp_lets_only_administrators_of_a_member_account_change_dhmc(
        fresh_server: Callable[..., ServerProcess], tmp_path: Path) -> None:
    server = fresh_server()
    org = server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    scp = org.create_policy(Name="dhmc", Description="seed 000", Type="SERVICE_CONTROL_POLICY",
                            Content=json.dumps(SEED_000_SCP))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=root)
    account = org.create_account(AccountName="dev", Email="dev@example.com")["CreateAccountStatus"]["AccountId"]
    member = member_session(server, account)
    create_dhmc_role(server, tmp_path, creds=member)
    member_iam = server.client("iam", member)
    everything = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    people = {}
    for name, job in (("dev", "developer"), ("boss", "Administrator")):
        member_iam.create_user(UserName=name, Tags=[{"Key": "job-function", "Value": job}])
        member_iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=everything)
        key = member_iam.create_access_key(UserName=name)["AccessKey"]
        people[name] = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    arn = setting_arn(server, account=account)
    with pytest.raises(ClientError) as err:
        server.client("ssm", people["dev"]).update_service_setting(SettingId=arn, SettingValue=f"service-role/{ROLE}")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "service control policy" in err.value.response["Error"]["Message"]
    server.client("ssm", people["boss"]).update_service_setting(SettingId=arn, SettingValue=f"service-role/{ROLE}")
    assert server.client("ssm", people["dev"]).get_service_setting(SettingId=arn)["ServiceSetting"][
        "Status"] == "Customized"
