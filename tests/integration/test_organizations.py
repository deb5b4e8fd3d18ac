"""Organizations through a real server: member accounts, OUs and SCPs enforced on members only."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError

from tests.support.server import Credentials, ServerProcess

SEED_000_SCP = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Deny", "Action": ["ssm:UpdateServiceSetting", "ssm:ResetServiceSetting"],
        "Resource": "arn:aws:ssm:*:*:servicesetting/ssm/managed-instance/default-ec2-instance-management-role",
        "Condition": {"StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-function": ["administrator"]}},
    }, {
        "Effect": "Deny", "Action": ["iam:PassRole"],
        "Resource": "arn:aws:iam::*:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole",
        "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"},
                      "StringNotEqualsIgnoreCase": {"aws:PrincipalTag/job-function": ["administrator"]}},
    }],
}
DENY_PUT = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "ssm:PutParameter", "Resource": "*"}]}


def member_session(server: ServerProcess, account_id: str) -> Credentials:
    assumed = server.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="admin")
    c = assumed["Credentials"]
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


@pytest.fixture
def org_server(fresh_server: Callable[..., ServerProcess]) -> ServerProcess:
    return fresh_server()


def test_an_scp_denies_a_member_account_even_its_administrator(org_server: ServerProcess) -> None:
    org = org_server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    status = org.create_account(AccountName="dev", Email="dev@example.com")["CreateAccountStatus"]
    assert status["State"] == "SUCCEEDED"
    member = status["AccountId"]
    assert len(member) == 12 and member != "123456789012"
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    creds = member_session(org_server, member)
    member_ssm = org_server.client("ssm", creds)
    assert org_server.client("sts", creds).get_caller_identity()["Account"] == member
    member_ssm.put_parameter(Name="/before/scp", Value="ok", Type="String")
    policy = org.create_policy(Name="no-put", Description="deny puts", Type="SERVICE_CONTROL_POLICY",
                               Content=json.dumps(DENY_PUT))["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=ou)
    with pytest.raises(ClientError) as err:
        member_ssm.put_parameter(Name="/after/scp", Value="no", Type="String")
    assert "with an explicit deny in a service control policy" in err.value.response["Error"]["Message"]
    assert member_ssm.get_parameter(Name="/before/scp")["Parameter"]["Value"] == "ok"
    org_server.client("ssm").put_parameter(Name="/management/unaffected", Value="ok", Type="String")
    org.detach_policy(PolicyId=policy, TargetId=ou)
    member_ssm.put_parameter(Name="/after/detach", Value="ok", Type="String")
    assert [c["Id"] for c in org.list_children(ParentId=ou, ChildType="ACCOUNT")["Children"]] == [member]


def test_accounts_are_separate_namespaces(org_server: ServerProcess) -> None:
    org = org_server.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="iso", Email="iso@example.com")["CreateAccountStatus"]["AccountId"]
    org_server.client("ssm").put_parameter(Name="/shared/name", Value="management", Type="String")
    member_ssm = org_server.client("ssm", member_session(org_server, member))
    with pytest.raises(ClientError) as err:
        member_ssm.get_parameter(Name="/shared/name")
    assert err.value.response["Error"]["Code"] == "ParameterNotFound"
    member_ssm.put_parameter(Name="/shared/name", Value="member", Type="String")
    assert org_server.client("ssm").get_parameter(Name="/shared/name")["Parameter"]["Value"] == "management"


def test_seed_000_scp_is_accepted_and_errors_follow_aws(org_server: ServerProcess) -> None:
    org = org_server.client("organizations")
    with pytest.raises(ClientError) as err:
        org.describe_organization()
    assert err.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"
    org.create_organization(FeatureSet="ALL")
    with pytest.raises(ClientError) as err:
        org.create_organization(FeatureSet="ALL")
    assert err.value.response["Error"]["Code"] == "AlreadyInOrganizationException"
    root = org.list_roots()["Roots"][0]["Id"]
    created = org.create_policy(Name="dhmc", Description="seed 000", Type="SERVICE_CONTROL_POLICY",
                                Content=json.dumps(SEED_000_SCP))["Policy"]["PolicySummary"]
    with pytest.raises(ClientError) as err:
        org.attach_policy(PolicyId=created["Id"], TargetId=root)
    assert err.value.response["Error"]["Code"] == "PolicyTypeNotEnabledException"
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    org.attach_policy(PolicyId=created["Id"], TargetId=root)
    attached = {p["Name"] for p in org.list_policies_for_target(TargetId=root, Filter="SERVICE_CONTROL_POLICY")[
        "Policies"]}
    assert attached == {"FullAWSAccess", "dhmc"}
    with pytest.raises(ClientError) as err:
        org.create_policy(Name="bad", Description="", Type="SERVICE_CONTROL_POLICY", Content='{"Statement": 1}')
    assert err.value.response["Error"]["Code"] == "MalformedPolicyDocumentException"
    with pytest.raises(ClientError) as err:
        org.delete_policy(PolicyId=created["Id"])
    assert err.value.response["Error"]["Code"] == "PolicyInUseException"


def test_an_scp_on_the_account_itself_denies_iam_through_the_aws_cli(org_server: ServerProcess) -> None:
    org_server.aws_json("organizations", "create-organization", "--feature-set", "ALL")
    root = org_server.aws_json("organizations", "list-roots")["Roots"][0]["Id"]
    status = org_server.aws_json("organizations", "create-account", "--account-name", "sandbox",
                                 "--email", "sandbox@example.com")["CreateAccountStatus"]
    member = status["AccountId"]
    described = org_server.aws_json("organizations", "describe-create-account-status",
                                    "--create-account-request-id", status["Id"])["CreateAccountStatus"]
    assert (described["State"], described["AccountId"]) == ("SUCCEEDED", member)
    enabled = org_server.aws_json("organizations", "enable-policy-type", "--root-id", root,
                                  "--policy-type", "SERVICE_CONTROL_POLICY")
    assert enabled["Root"]["PolicyTypes"] == [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}]
    deny = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]})
    policy = org_server.aws_json("organizations", "create-policy", "--name", "no-users", "--description", "",
                                 "--type", "SERVICE_CONTROL_POLICY", "--content", deny)["Policy"]["PolicySummary"]
    assert policy["Arn"].startswith("arn:aws:organizations::123456789012:policy/o-") and not policy["AwsManaged"]
    org_server.aws("organizations", "attach-policy", "--policy-id", policy["Id"], "--target-id", member)
    creds = member_session(org_server, member)
    refused = org_server.aws("iam", "create-user", "--user-name", "blocked", creds=creds, check=False)
    assert refused.returncode != 0 and "with an explicit deny in a service control policy" in refused.stderr
    org_server.aws("iam", "create-user", "--user-name", "management-may")
    org_server.aws("organizations", "detach-policy", "--policy-id", policy["Id"], "--target-id", member)
    created = org_server.aws_json("iam", "create-user", "--user-name", "allowed-now", creds=creds)["User"]
    assert created["Arn"] == f"arn:aws:iam::{member}:user/allowed-now"


def test_members_may_describe_the_organization_but_not_manage_it(org_server: ServerProcess) -> None:
    org = org_server.client("organizations")
    created = org.create_organization(FeatureSet="ALL")["Organization"]
    member = org.create_account(AccountName="m", Email="m@example.com")["CreateAccountStatus"]["AccountId"]
    member_org = org_server.client("organizations", member_session(org_server, member))
    described = member_org.describe_organization()["Organization"]
    assert (described["Id"], described["MasterAccountId"]) == (created["Id"], "123456789012")
    with pytest.raises(ClientError) as err:
        member_org.list_accounts()
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["Error"]["Message"] == "You don't have permissions to access this resource."
    with pytest.raises(ClientError) as err:
        org.delete_organization()
    assert err.value.response["Error"]["Code"] == "OrganizationNotEmptyException"
    org.remove_account_from_organization(AccountId=member)
    with pytest.raises(ClientError) as err:
        member_org.describe_organization()
    assert err.value.response["Error"]["Code"] == "AWSOrganizationsNotInUseException"
    org.delete_organization()


def test_listings_paginate_name_their_targets_and_carry_tags(org_server: ServerProcess) -> None:
    org = org_server.client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    ou = org.create_organizational_unit(ParentId=root, Name="apps", Tags=[{"Key": "tier", "Value": "1"}])[
        "OrganizationalUnit"]
    assert ou["Path"] == f"{org_id}/{root}/{ou['Id']}/"
    members = [org.create_account(AccountName=f"a{i}", Email=f"a{i}@example.com")["CreateAccountStatus"]["AccountId"]
               for i in range(3)]
    pages = list(org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 2}))
    assert len(pages) == 2
    assert [a["Id"] for p in pages for a in p["Accounts"]] == ["123456789012", *members]
    org.move_account(AccountId=members[0], SourceParentId=root, DestinationParentId=ou["Id"])
    assert org.list_parents(ChildId=members[0])["Parents"] == [{"Id": ou["Id"], "Type": "ORGANIZATIONAL_UNIT"}]
    account = org.describe_account(AccountId=members[0])["Account"]
    assert (account["Name"], account["JoinedMethod"]) == ("a0", "CREATED")
    assert account["Arn"] == f"arn:aws:organizations::123456789012:account/{org_id}/{members[0]}"
    targets = {t["TargetId"]: t for t in org.list_targets_for_policy(PolicyId="p-FullAWSAccess")["Targets"]}
    assert targets[root]["Name"] == "Root" and targets[root]["Type"] == "ROOT"
    assert targets[ou["Id"]] == {"TargetId": ou["Id"], "Name": "apps", "Type": "ORGANIZATIONAL_UNIT",
                                 "Arn": f"arn:aws:organizations::123456789012:ou/{org_id}/{ou['Id']}"}
    assert targets[members[1]]["Name"] == "a1" and targets[members[1]]["Type"] == "ACCOUNT"
    assert org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"] == [{"Key": "tier", "Value": "1"}]
    org.tag_resource(ResourceId=members[1], Tags=[{"Key": "env", "Value": "dev"}])
    assert org.list_tags_for_resource(ResourceId=members[1])["Tags"] == [{"Key": "env", "Value": "dev"}]
    failed = org.create_account(AccountName="again", Email="A0@example.com")["CreateAccountStatus"]
    assert (failed["State"], failed["FailureReason"]) == ("FAILED", "EMAIL_ALREADY_EXISTS")
    with pytest.raises(ClientError) as err:
        org.detach_policy(PolicyId="p-FullAWSAccess", TargetId=ou["Id"])
    assert err.value.response["Error"]["Code"] == "ConstraintViolationException"
