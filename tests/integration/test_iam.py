"""IAM through a real server with boto3 and the aws CLI: set-up, errors, and authorization of real users."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import allow, unique, user_with_policy
from tests.support.server import ServerProcess

SEED_004_ALLOW = ('{ "Version": "2012-10-17", "Statement": [ { "Effect": "Allow", "Action": "ssm:StartSession", '
                  '"Resource": [ "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", '
                  '"arn:aws:ssm:*:*:document/AWS-StartSSHSession" ] } ] }')
SEED_004_DENY = ('{ "Version": "2012-10-17", "Statement": [ { "Sid": "VisualEditor1", "Effect": "Deny", '
                 '"Action": "ssm:StartSession", "Resource": "arn:aws:ssm:*:*:document/AWS-StartSSHSession" } ] }')


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def test_users_groups_and_policies_round_trip(server: ServerProcess) -> None:
    iam = server.client("iam")
    user, group = unique("u"), unique("g")
    created = iam.create_user(UserName=user, Path="/eng/", Tags=[{"Key": "team", "Value": "blue"}])["User"]
    assert created["Arn"] == f"arn:aws:iam::123456789012:user/eng/{user}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    policy = iam.create_policy(PolicyName=unique("p"), PolicyDocument=json.dumps(allow("ssm:Get*")))["Policy"]
    iam.attach_group_policy(GroupName=group, PolicyArn=policy["Arn"])
    assert iam.get_policy(PolicyArn=policy["Arn"])["Policy"]["AttachmentCount"] == 1
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=json.dumps(allow("iam:GetUser")))
    got = iam.get_user_policy(UserName=user, PolicyName="inline")
    assert got["PolicyDocument"]["Statement"][0]["Action"] == "iam:GetUser"
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "team", "Value": "blue"}]


def test_iam_errors_use_aws_codes_and_messages(server: ServerProcess) -> None:
    iam = server.client("iam")
    with pytest.raises(ClientError) as err:
        iam.get_user(UserName="nobody-here")
    assert code(err) == "NoSuchEntity"
    assert err.value.response["Error"]["Message"] == "The user with name nobody-here cannot be found."
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    name = unique("dup")
    iam.create_user(UserName=name)
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName=name.upper())
    assert code(err) == "EntityAlreadyExists"
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as err:
        iam.delete_user(UserName=name)
    assert code(err) == "DeleteConflict"
    with pytest.raises(ClientError) as err:
        iam.put_user_policy(UserName=name, PolicyName="bad", PolicyDocument='{"Version": "2012-10-17"}')
    assert code(err) == "MalformedPolicyDocument"
    iam.create_access_key(UserName=name)
    with pytest.raises(ClientError) as err:
        iam.create_access_key(UserName=name)
    assert code(err) == "LimitExceeded"


def test_policy_versions_are_limited_to_five_and_the_default_cannot_be_deleted(server: ServerProcess) -> None:
    iam = server.client("iam")
    arn = iam.create_policy(PolicyName=unique("v"), PolicyDocument=json.dumps(allow("ssm:GetParameter")))[
        "Policy"]["Arn"]
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("ssm:*")), SetAsDefault=True)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v5"
    with pytest.raises(ClientError) as err:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(allow("ssm:*")))
    assert code(err) == "LimitExceeded"
    with pytest.raises(ClientError) as err:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v5")
    assert code(err) == "DeleteConflict"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert [v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]] == ["v5", "v4", "v3", "v2"]


def test_aws_managed_policies_are_bundled_and_attachable(server: ServerProcess) -> None:
    iam = server.client("iam")
    arns = {p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]}
    for name in ("AmazonSSMManagedInstanceCore", "AmazonSSMManagedEC2InstanceDefaultPolicy", "AmazonSSMFullAccess",
                 "AmazonSSMReadOnlyAccess", "AdministratorAccess", "ReadOnlyAccess"):
        assert f"arn:aws:iam::aws:policy/{name}" in arns
    core = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")["Policy"]
    assert core["DefaultVersionId"] == "v2" and core["PolicyId"].startswith("ANPA")
    doc = iam.get_policy_version(PolicyArn=core["Arn"], VersionId="v2")["PolicyVersion"]["Document"]
    actions = [a for s in doc["Statement"] for a in s["Action"]]
    assert "ssm:UpdateInstanceInformation" in actions and "ssmmessages:CreateControlChannel" in actions


def test_a_user_is_allowed_what_its_policy_allows_and_denied_the_rest(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("iam:ListUsers", "arn:aws:iam::123456789012:user/"))
    iam = server.client("iam", creds)
    assert iam.list_users()["Users"]
    with pytest.raises(ClientError) as err:
        iam.create_user(UserName=unique("x"))
    assert code(err) == "AccessDenied"
    message = err.value.response["Error"]["Message"]
    assert message.startswith(f"User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: "
                              "iam:CreateUser on resource: arn:aws:iam::123456789012:user/")
    assert "because no identity-based policy allows the iam:CreateUser action" in message


def test_a_permissions_boundary_limits_an_administrator(server: ServerProcess) -> None:
    iam = server.client("iam")
    user, creds = user_with_policy(server, allow("*"))
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    limited = server.client("iam", creds)
    assert limited.get_user(UserName=user)
    with pytest.raises(ClientError) as err:
        limited.create_group(GroupName=unique("g"))
    assert "because no permissions boundary allows the iam:CreateGroup action" in err.value.response["Error"][
        "Message"]


def test_policy_variables_let_users_manage_only_their_own_keys(server: ServerProcess) -> None:
    own = allow(["iam:CreateAccessKey", "iam:ListAccessKeys"], "arn:aws:iam::*:user/${aws:username}")
    user, creds = user_with_policy(server, own)
    other, _ = user_with_policy(server, None)
    iam = server.client("iam", creds)
    assert len(iam.list_access_keys()["AccessKeyMetadata"]) == 1
    with pytest.raises(ClientError):
        iam.list_access_keys(UserName=other)


def test_roles_instance_profiles_and_the_cli(server: ServerProcess, tmp_path: Path) -> None:
    trust = tmp_path / "trust-policy.json"
    trust.write_text('{ "Version":"2012-10-17", "Statement":[ { "Sid":"", "Effect":"Allow", "Principal":{ '
                     '"Service":"ssm.amazonaws.com" }, "Action":"sts:AssumeRole" } ] }')
    role = unique("role")
    out = server.aws_json("iam", "create-role", "--role-name", role, "--path", "/service-role/",
                          "--assume-role-policy-document", f"file://{trust}", cwd=tmp_path)
    assert out["Role"]["Arn"] == f"arn:aws:iam::123456789012:role/service-role/{role}"
    server.aws("iam", "attach-role-policy", "--policy-arn",
               "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy", "--role-name", role)
    attached = server.aws_json("iam", "list-attached-role-policies", "--role-name", role)
    assert attached["AttachedPolicies"][0]["PolicyName"] == "AmazonSSMManagedEC2InstanceDefaultPolicy"
    got = server.aws_json("iam", "get-role", "--role-name", role)["Role"]
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ssm.amazonaws.com"}
    iam = server.client("iam")
    profile = unique("profile")
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    assert iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Roles"][0]["RoleName"] == role
    with pytest.raises(ClientError) as err:
        iam.delete_role(RoleName=role)
    assert code(err) == "DeleteConflict"


def test_simulate_custom_policy_answers_with_seed_004_policies(server: ServerProcess) -> None:
    iam = server.client("iam")
    doc_arn = "arn:aws:ssm:us-east-1::document/AWS-StartSSHSession"
    instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
    allowed = iam.simulate_custom_policy(PolicyInputList=[SEED_004_ALLOW], ActionNames=["ssm:StartSession"],
                                         ResourceArns=[instance, doc_arn])["EvaluationResults"]
    assert [r["EvalDecision"] for r in allowed] == ["allowed", "allowed"]
    denied = iam.simulate_custom_policy(PolicyInputList=[SEED_004_ALLOW, SEED_004_DENY],
                                        ActionNames=["ssm:StartSession"], ResourceArns=[instance, doc_arn])
    assert [r["EvalDecision"] for r in denied["EvaluationResults"]] == ["allowed", "explicitDeny"]
    deciding = denied["EvaluationResults"][1]["MatchedStatements"][0]
    assert deciding["SourcePolicyId"] == "PolicyInputList.2"
    start = SEED_004_DENY.index('{ "Sid"') + 1
    assert deciding["StartPosition"] == {"Line": 1, "Column": start}
    assert deciding["EndPosition"]["Column"] == SEED_004_DENY.rindex("}", 0, SEED_004_DENY.rindex("]")) + 1


def test_simulate_principal_policy_uses_the_users_policies_and_reports_missing_context(server: ServerProcess) -> None:
    conditional = allow("ssm:PutParameter", Condition={"StringEquals": {"aws:RequestTag/env": "prod"}})
    user, _ = user_with_policy(server, conditional)
    iam = server.client("iam")
    arn = f"arn:aws:iam::123456789012:user/{user}"
    result = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ssm:PutParameter"])
    assert result["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert result["EvaluationResults"][0]["MissingContextValues"] == ["aws:RequestTag/env"]
    tagged = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=["ssm:PutParameter"], ContextEntries=[
        {"ContextKeyName": "aws:RequestTag/env", "ContextKeyValues": ["prod"], "ContextKeyType": "string"}])
    assert tagged["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_access_key_last_used_reports_the_last_successful_call(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("ssm:DescribeParameters"))
    iam = server.client("iam")
    never = iam.get_access_key_last_used(AccessKeyId=creds.access_key_id)["AccessKeyLastUsed"]
    assert never["ServiceName"] == "N/A" and "LastUsedDate" not in never
    server.client("ssm", creds, region="eu-west-1").describe_parameters()
    with pytest.raises(ClientError):
        server.client("iam", creds).list_users()
    used = iam.get_access_key_last_used(AccessKeyId=creds.access_key_id)
    assert used["UserName"] == user
    assert used["AccessKeyLastUsed"]["ServiceName"] == "ssm"
    assert used["AccessKeyLastUsed"]["Region"] == "eu-west-1"
