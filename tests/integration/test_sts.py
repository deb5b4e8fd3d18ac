"""STS through a real server: AssumeRole with trust policies, session tags and session policies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import allow, unique, user_with_policy
from tests.support.server import Credentials, ServerProcess


def make_role(server: ServerProcess, trusted: str, *, tag_session: bool = False, max_duration: int = 3600,
              tags: dict[str, str] | None = None, source_identity: bool = False) -> str:
    actions = ["sts:AssumeRole", *(["sts:TagSession"] if tag_session else []),
               *(["sts:SetSourceIdentity"] if source_identity else [])]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": trusted},
                                                     "Action": actions}]}
    role = unique("role")
    iam = server.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=max_duration,
                    Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    iam.put_role_policy(RoleName=role, PolicyName="ssm", PolicyDocument=json.dumps(allow("ssm:*")))
    return f"arn:aws:iam::123456789012:role/{role}"


def session(result: dict[str, Any]) -> Credentials:
    c = result["Credentials"]
    return Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])


def test_get_caller_identity_for_a_user_and_a_role_session(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    assert server.client("sts", creds).get_caller_identity()["Arn"] == f"arn:aws:iam::123456789012:user/{user}"
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}")
    assumed = server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="build-42")
    assert assumed["Credentials"]["AccessKeyId"].startswith("ASIA")
    identity = server.client("sts", session(assumed)).get_caller_identity()
    role_name = role_arn.rsplit("/", 1)[-1]
    assert identity["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{role_name}/build-42"
    assert identity["UserId"].startswith("AROA") and identity["UserId"].endswith(":build-42")


def test_a_role_session_has_the_roles_permissions_not_the_callers(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}")
    with pytest.raises(ClientError):
        server.client("ssm", creds).describe_parameters()
    assumed = session(server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="sess"))
    server.client("ssm", assumed).describe_parameters()
    with pytest.raises(ClientError) as err:
        server.client("iam", assumed).list_users()
    assert "assumed-role" in err.value.response["Error"]["Message"]


def test_a_session_policy_narrows_the_session_to_the_intersection(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}")
    ssm = server.client("ssm")
    name = "/" + unique("sts") + "/value"
    ssm.put_parameter(Name=name, Value="v", Type="String")
    narrow = json.dumps(allow("ssm:DescribeParameters"))
    assumed = session(server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="sess", Policy=narrow))
    server.client("ssm", assumed).describe_parameters()
    with pytest.raises(ClientError) as err:
        server.client("ssm", assumed).get_parameter(Name=name)
    assert "because no session policy allows the ssm:GetParameter action" in err.value.response["Error"]["Message"]


def test_session_tags_become_principal_tags_for_conditions(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow(["sts:AssumeRole", "sts:TagSession"]))
    role = unique("abac")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::123456789012:user/{user}"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    iam = server.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=role, PolicyName="abac", PolicyDocument=json.dumps(allow(
        "ssm:GetParameter", "arn:aws:ssm:*:*:parameter/${aws:PrincipalTag/team}/*")))
    team = unique("team")
    server.client("ssm").put_parameter(Name=f"/{team}/key", Value="mine", Type="String")
    server.client("ssm").put_parameter(Name=f"/{team}-other/key", Value="theirs", Type="String")
    assumed = session(server.client("sts", creds).assume_role(
        RoleArn=f"arn:aws:iam::123456789012:role/{role}", RoleSessionName="sess", Tags=[{"Key": "team", "Value": team}]))
    ssm = server.client("ssm", assumed)
    assert ssm.get_parameter(Name=f"/{team}/key")["Parameter"]["Value"] == "mine"
    with pytest.raises(ClientError):
        ssm.get_parameter(Name=f"/{team}-other/key")


def test_a_trust_policy_that_does_not_name_the_caller_refuses_it(server: ServerProcess) -> None:
    _, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, "arn:aws:iam::123456789012:user/someone-else")
    with pytest.raises(ClientError) as err:
        server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="sess")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_an_account_trust_needs_the_callers_own_permission(server: ServerProcess) -> None:
    role_arn = make_role(server, "arn:aws:iam::123456789012:root")
    _, without = user_with_policy(server, allow("ssm:DescribeParameters"))
    with pytest.raises(ClientError):
        server.client("sts", without).assume_role(RoleArn=role_arn, RoleSessionName="sess")
    _, with_permission = user_with_policy(server, allow("sts:AssumeRole", role_arn))
    assert server.client("sts", with_permission).assume_role(RoleArn=role_arn, RoleSessionName="sess")


def test_duration_beyond_the_roles_maximum_is_refused(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}", max_duration=3600)
    sts = server.client("sts", creds)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="sess", DurationSeconds=7200)
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "MaxSessionDuration" in err.value.response["Error"]["Message"]
    unchecked = server.client("sts", creds, parameter_validation=False)
    with pytest.raises(ClientError) as err:
        unchecked.assume_role(RoleArn=role_arn, RoleSessionName="sess", DurationSeconds=60)
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_session_credentials_without_their_token_are_refused(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}")
    assumed = session(server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="sess"))
    tokenless = Credentials(assumed.access_key_id, assumed.secret_access_key)
    with pytest.raises(ClientError) as err:
        server.client("ssm", tokenless).describe_parameters()
    assert err.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_get_session_token_gives_a_user_temporary_credentials(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("ssm:DescribeParameters"))
    temp = session(server.client("sts", creds).get_session_token(DurationSeconds=900))
    assert server.client("sts", temp).get_caller_identity()["Arn"].endswith(f":user/{user}")
    server.client("ssm", temp).describe_parameters()


def test_get_session_token_credentials_cannot_call_iam_without_mfa(server: ServerProcess) -> None:
    _, creds = user_with_policy(server, allow("iam:ListUsers"))
    server.client("iam", creds).list_users()
    temp = session(server.client("sts", creds).get_session_token(DurationSeconds=900))
    with pytest.raises(ClientError) as err:
        server.client("iam", temp).list_users()
    assert err.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_assume_role_with_tags_and_a_session_policy_through_the_aws_cli(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow(["sts:AssumeRole", "sts:TagSession"]))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}", tag_session=True, source_identity=True)
    narrow = json.dumps(allow("ssm:DescribeParameters"))
    out = server.aws_json("sts", "assume-role", "--role-arn", role_arn, "--role-session-name", "cli-session",
                          "--tags", "Key=team,Value=blue", "--transitive-tag-keys", "team", "--policy", narrow,
                          "--source-identity", "alice", "--duration-seconds", "900", creds=creds)
    assert out["AssumedRoleUser"]["Arn"].endswith(":assumed-role/" + role_arn.rsplit("/", 1)[-1] + "/cli-session")
    assert out["SourceIdentity"] == "alice" and 0 < out["PackedPolicySize"] < 100
    temp = session(out)
    identity = server.aws_json("sts", "get-caller-identity", creds=temp)
    assert identity["Arn"] == out["AssumedRoleUser"]["Arn"] and identity["Account"] == "123456789012"
    server.aws_json("ssm", "describe-parameters", creds=temp)
    refused = server.aws("ssm", "get-parameter", "--name", "/anything", creds=temp, check=False)
    assert refused.returncode != 0 and "AccessDeniedException" in refused.stderr


def test_source_identity_needs_the_trust_policy_to_allow_setting_it(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow("sts:AssumeRole"))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}")
    with pytest.raises(ClientError) as err:
        server.client("sts", creds).assume_role(RoleArn=role_arn, RoleSessionName="s1", SourceIdentity="alice")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "sts:SetSourceIdentity" in err.value.response["Error"]["Message"]


def test_session_tag_errors_are_invalid_parameter_value(server: ServerProcess) -> None:
    user, creds = user_with_policy(server, allow(["sts:AssumeRole", "sts:TagSession"]))
    role_arn = make_role(server, f"arn:aws:iam::123456789012:user/{user}", tag_session=True)
    sts = server.client("sts", creds)
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", Tags=[{"Key": "a", "Value": "1"},
                                                                     {"Key": "A", "Value": "2"}])
    assert err.value.response["Error"] == {
        "Type": "Sender", "Code": "InvalidParameterValue",
        "Message": "Duplicate tag keys found. Please note that Tag keys are case insensitive."}
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="s1", Tags=[{"Key": "a", "Value": "1"}],
                        TransitiveTagKeys=["b"])
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_a_missing_role_is_access_denied_and_a_bad_session_name_a_validation_error(server: ServerProcess) -> None:
    _, creds = user_with_policy(server, allow("sts:AssumeRole"))
    sts = server.client("sts", creds)
    missing = "arn:aws:iam::123456789012:role/" + unique("missing")
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=missing, RoleSessionName="s1")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["Error"]["Message"].endswith(f"sts:AssumeRole on resource: {missing}")
    unchecked = server.client("sts", creds, parameter_validation=False)
    with pytest.raises(ClientError) as err:
        unchecked.assume_role(RoleArn=missing, RoleSessionName="has space")
    assert err.value.response["Error"]["Code"] == "ValidationError"


def test_the_root_has_its_own_identity_and_may_not_assume_roles(fresh_server: Callable[..., ServerProcess]) -> None:
    dev = fresh_server("--dev")
    root = Credentials("AKIAROOTOFDEVACCOUNT", "anything")
    identity = dev.aws_json("sts", "get-caller-identity", creds=root)
    assert identity == {"UserId": "123456789012", "Account": "123456789012",
                        "Arn": "arn:aws:iam::123456789012:root"}
    iam = dev.client("iam", root)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="anyone", AssumeRolePolicyDocument=json.dumps(trust))
    with pytest.raises(ClientError) as err:
        dev.client("sts", root).assume_role(RoleArn="arn:aws:iam::123456789012:role/anyone", RoleSessionName="s1")
    assert err.value.response["Error"]["Message"] == "Roles may not be assumed by root accounts."
