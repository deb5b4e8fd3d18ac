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
