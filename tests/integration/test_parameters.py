"""Parameter Store through a real server with boto3 and the aws CLI: every operation and its errors."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import allow, unique, user_with_policy
from tests.support.server import ServerProcess


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


@pytest.fixture
def prefix() -> str:
    return "/" + unique("ps")


def test_put_get_and_overwrite_versions(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    assert ssm.put_parameter(Name=f"{prefix}/a", Value="one", Type="String")["Version"] == 1
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{prefix}/a", Value="two", Type="String")
    assert code(err) == "ParameterAlreadyExists"
    assert ssm.put_parameter(Name=f"{prefix}/a", Value="two", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=f"{prefix}/a")["Parameter"]
    assert (got["Value"], got["Version"], got["Type"]) == ("two", 2, "String")
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:123456789012:parameter{prefix}/a"
    assert ssm.get_parameter(Name=f"{prefix}/a:1")["Parameter"]["Value"] == "one"
    assert ssm.get_parameter(Name=got["ARN"])["Parameter"]["Value"] == "two"
    history = ssm.get_parameter_history(Name=f"{prefix}/a")["Parameters"]
    assert [h["Value"] for h in history] == ["one", "two"]


def test_missing_parameters_and_versions_are_reported(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=f"{prefix}/missing")
    assert code(err) == "ParameterNotFound"
    ssm.put_parameter(Name=f"{prefix}/v", Value="x", Type="String")
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=f"{prefix}/v:7")
    assert code(err) == "ParameterVersionNotFound"
    out = ssm.get_parameters(Names=[f"{prefix}/v", f"{prefix}/missing"])
    assert [p["Name"] for p in out["Parameters"]] == [f"{prefix}/v"]
    assert out["InvalidParameters"] == [f"{prefix}/missing"]


def test_names_and_values_are_validated_as_aws_does(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm", parameter_validation=False)
    cases = [
        ({"Name": "aws-reserved", "Value": "x", "Type": "String"}, "ValidationException"),
        ({"Name": "no/leading/slash", "Value": "x", "Type": "String"}, "ValidationException"),
        ({"Name": prefix + "/a" * 16, "Value": "x", "Type": "String"}, "HierarchyLevelLimitExceededException"),
        ({"Name": f"{prefix}/big", "Value": "x" * 4097, "Type": "String"}, "ValidationException"),
        ({"Name": f"{prefix}/typeless", "Value": "x"}, "ValidationException"),
        ({"Name": f"{prefix}/pat", "Value": "abc", "Type": "String", "AllowedPattern": "^\\d+$"},
         "ParameterPatternMismatchException"),
        ({"Name": f"{prefix}/enum", "Value": "x", "Type": "Text"}, "ValidationException"),
        ({"Name": f"{prefix}/key", "Value": "x", "Type": "String", "KeyId": "alias/aws/ssm"}, "ValidationException"),
    ]
    for params, expected in cases:
        with pytest.raises(ClientError) as err:
            ssm.put_parameter(**params)
        assert code(err) == expected, params
    ssm.put_parameter(Name=f"{prefix}/big", Value="x" * 5000, Type="String", Tier="Advanced")
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{prefix}/big", Value="x", Overwrite=True, Tier="Standard")
    assert "can't downgrade" in err.value.response["Error"]["Message"]


def test_tags_and_overwrite_cannot_be_combined(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    ssm.put_parameter(Name=f"{prefix}/t", Value="x", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{prefix}/t", Value="y", Type="String", Overwrite=True,
                          Tags=[{"Key": "env", "Value": "prod"}])
    assert "tags and overwrite can't be used together" in err.value.response["Error"]["Message"]
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t", Tags=[{"Key": "o", "Value": "1"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t")["TagList"]
    assert {t["Key"] for t in tags} == {"env", "o"}
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t", TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t")["TagList"] == [
        {"Key": "o", "Value": "1"}]
    with pytest.raises(ClientError) as err:
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{prefix}/none")
    assert code(err) == "InvalidResourceId"


def test_by_path_recursion_filters_and_pagination(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    for i in range(12):
        ssm.put_parameter(Name=f"{prefix}/app/k{i:02d}", Value=str(i), Type="String")
    ssm.put_parameter(Name=f"{prefix}/app/deep/secret", Value="s", Type="SecureString")
    one_level = ssm.get_parameters_by_path(Path=f"{prefix}/app", MaxResults=10)
    assert len(one_level["Parameters"]) == 10 and "NextToken" in one_level
    rest = ssm.get_parameters_by_path(Path=f"{prefix}/app", MaxResults=10, NextToken=one_level["NextToken"])
    assert len(rest["Parameters"]) == 2
    recursive = ssm.get_parameters_by_path(Path=f"{prefix}/app", Recursive=True, WithDecryption=True,
                                           ParameterFilters=[{"Key": "Type", "Values": ["SecureString"]}])
    assert [(p["Name"], p["Value"]) for p in recursive["Parameters"]] == [(f"{prefix}/app/deep/secret", "s")]
    with pytest.raises(ClientError) as err:
        ssm.get_parameters_by_path(Path=f"{prefix}/app", ParameterFilters=[{"Key": "Name", "Values": ["x"]}])
    assert code(err) == "InvalidFilterKey"


def test_describe_parameters_filters(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    ssm.put_parameter(Name=f"{prefix}/one", Value="1", Type="String", Tags=[{"Key": "team", "Value": "blue"}])
    ssm.put_parameter(Name=f"{prefix}/two", Value="2", Type="StringList")
    by_name = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}])
    assert [p["Name"] for p in by_name["Parameters"]] == [f"{prefix}/one", f"{prefix}/two"]
    by_type = ssm.describe_parameters(ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [prefix]},
                                                        {"Key": "Type", "Values": ["StringList"]}])
    assert [p["Name"] for p in by_type["Parameters"]] == [f"{prefix}/two"]
    by_tag = ssm.describe_parameters(ParameterFilters=[{"Key": "tag:team", "Values": ["blue"]},
                                                       {"Key": "Path", "Values": [prefix]}])
    assert [p["Name"] for p in by_tag["Parameters"]] == [f"{prefix}/one"]
    with pytest.raises(ClientError) as err:
        ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Sideways", "Values": ["x"]}])
    assert code(err) == "InvalidFilterOption"


def test_labels_select_versions_and_move_between_them(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    name = f"{prefix}/labelled"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    assert ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod", "1bad", "awsx"])[
        "InvalidLabels"] == ["1bad", "awsx"]
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v1"
    ssm.label_parameter_version(Name=name, Labels=["prod"])
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v2"
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["prod", "none"])
    assert removed["RemovedLabels"] == ["prod"] and removed["InvalidLabels"] == ["none"]


def test_delete_one_and_many(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    for n in ("a", "b"):
        ssm.put_parameter(Name=f"{prefix}/{n}", Value=n, Type="String")
    ssm.delete_parameter(Name=f"{prefix}/a")
    with pytest.raises(ClientError) as err:
        ssm.delete_parameter(Name=f"{prefix}/a")
    assert code(err) == "ParameterNotFound"
    out = ssm.delete_parameters(Names=[f"{prefix}/b", f"{prefix}/a"])
    assert out["DeletedParameters"] == [f"{prefix}/b"] and out["InvalidParameters"] == [f"{prefix}/a"]


def test_expiration_policy_makes_a_parameter_disappear(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policy = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": future}}]
    ssm.put_parameter(Name=f"{prefix}/lives", Value="x", Type="String", Tier="Advanced", Policies=json.dumps(policy))
    assert ssm.get_parameter(Name=f"{prefix}/lives")["Parameter"]["Value"] == "x"
    policy[0]["Attributes"]["Timestamp"] = past
    ssm.put_parameter(Name=f"{prefix}/dies", Value="x", Type="String", Tier="Advanced", Policies=json.dumps(policy))
    with pytest.raises(ClientError) as err:
        ssm.get_parameter(Name=f"{prefix}/dies")
    assert code(err) == "ParameterNotFound"
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=f"{prefix}/bad", Value="x", Type="String", Tier="Advanced",
                          Policies='[{"Type": "Explode"}]')
    assert code(err) == "InvalidPolicyTypeException"


def test_the_hundredth_version_drops_the_oldest_unless_it_is_labelled(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    name = f"{prefix}/many"
    ssm.put_parameter(Name=name, Value="0", Type="String")
    for i in range(1, 101):
        ssm.put_parameter(Name=name, Value=str(i), Overwrite=True)
    versions = [p["Version"] for p in ssm.get_parameter_history(Name=name, MaxResults=50)["Parameters"]]
    assert versions[0] == 2
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["keep"])
    with pytest.raises(ClientError) as err:
        ssm.put_parameter(Name=name, Value="x", Overwrite=True)
    assert code(err) == "ParameterMaxVersionLimitExceeded"


def test_secure_string_with_a_customer_key_and_kms_permissions(server: ServerProcess, prefix: str) -> None:
    kms, ssm = server.client("kms"), server.client("ssm")
    key = kms.create_key(Description="params")["KeyMetadata"]
    kms.create_alias(AliasName=f"alias/{unique('k')}", TargetKeyId=key["KeyId"])
    ssm.put_parameter(Name=f"{prefix}/s", Value="top-secret", Type="SecureString", KeyId=key["Arn"])
    ssm.put_parameter(Name=f"{prefix}/d", Value="default-key", Type="SecureString")
    raw = ssm.get_parameter(Name=f"{prefix}/s")["Parameter"]["Value"]
    assert raw != "top-secret"
    reader = allow("ssm:GetParameter*", f"arn:aws:ssm:*:*:parameter{prefix}/*")
    _, creds = user_with_policy(server, reader)
    limited = server.client("ssm", creds)
    assert limited.get_parameter(Name=f"{prefix}/d", WithDecryption=True)["Parameter"]["Value"] == "default-key"
    with pytest.raises(ClientError) as err:
        limited.get_parameter(Name=f"{prefix}/s", WithDecryption=True)
    assert code(err) == "AccessDeniedException"
    assert "kms:Decrypt" in err.value.response["Error"]["Message"]
    with_kms = {"Version": "2012-10-17", "Statement": reader["Statement"] + [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]}]}
    _, creds = user_with_policy(server, with_kms)
    assert server.client("ssm", creds).get_parameter(Name=f"{prefix}/s", WithDecryption=True)["Parameter"][
        "Value"] == "top-secret"


def test_path_and_tag_conditions_allow_and_deny_users(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm")
    ssm.put_parameter(Name=f"{prefix}/blue/x", Value="b", Type="String", Tags=[{"Key": "team", "Value": "blue"}])
    ssm.put_parameter(Name=f"{prefix}/red/x", Value="r", Type="String", Tags=[{"Key": "team", "Value": "red"}])
    by_tag = allow("ssm:GetParameter", Condition={"StringEquals": {"ssm:resourceTag/team": "blue"}})
    _, creds = user_with_policy(server, by_tag)
    tagged = server.client("ssm", creds)
    assert tagged.get_parameter(Name=f"{prefix}/blue/x")["Parameter"]["Value"] == "b"
    with pytest.raises(ClientError) as err:
        tagged.get_parameter(Name=f"{prefix}/red/x")
    assert err.value.response["Error"]["Message"].endswith(
        "because no identity-based policy allows the ssm:GetParameter action")
    by_path = allow("ssm:GetParameter", f"arn:aws:ssm:us-east-1:123456789012:parameter{prefix}/red/*")
    _, creds = user_with_policy(server, by_path)
    assert server.client("ssm", creds).get_parameter(Name=f"{prefix}/red/x")["Parameter"]["Value"] == "r"
    no_overwrite = allow("ssm:PutParameter", Condition={"Bool": {"ssm:Overwrite": "false"}})
    _, creds = user_with_policy(server, no_overwrite)
    writer = server.client("ssm", creds)
    writer.put_parameter(Name=f"{prefix}/new", Value="n", Type="String")
    with pytest.raises(ClientError):
        writer.put_parameter(Name=f"{prefix}/new", Value="m", Type="String", Overwrite=True)


def test_the_aws_cli_drives_parameter_store(server: ServerProcess, prefix: str) -> None:
    server.aws("ssm", "put-parameter", "--name", f"{prefix}/cli", "--value", "hello", "--type", "SecureString")
    out = server.aws_json("ssm", "get-parameter", "--name", f"{prefix}/cli", "--with-decryption")
    assert out["Parameter"]["Value"] == "hello"
    failed = server.aws("ssm", "get-parameter", "--name", f"{prefix}/none", check=False)
    assert failed.returncode != 0 and "ParameterNotFound" in failed.stderr


def test_a_key_policy_decides_who_may_use_a_key(server: ServerProcess) -> None:
    alice, alice_creds = user_with_policy(server, None)
    _, bob_creds = user_with_policy(server, allow("kms:*"))
    kms = server.client("kms")
    only_alice = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::123456789012:user/{alice}"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"},
         "Action": "kms:*", "Resource": "*"}]})
    key = kms.create_key(Policy=only_alice)["KeyMetadata"]["KeyId"]
    blob = server.client("kms", alice_creds).encrypt(KeyId=key, Plaintext=b"for alice")["CiphertextBlob"]
    assert server.client("kms", alice_creds).decrypt(CiphertextBlob=blob)["Plaintext"] == b"for alice"
    with pytest.raises(ClientError) as err:
        server.client("kms", bob_creds).decrypt(CiphertextBlob=blob)
    assert code(err) == "AccessDeniedException"
    default_key = kms.create_key()["KeyMetadata"]["KeyId"]
    server.client("kms", bob_creds).encrypt(KeyId=default_key, Plaintext=b"delegated to IAM")
    with pytest.raises(ClientError):
        server.client("kms", alice_creds).encrypt(KeyId=default_key, Plaintext=b"no IAM permission")
    assert json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]) == json.loads(only_alice)
