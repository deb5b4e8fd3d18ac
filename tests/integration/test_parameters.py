"""Parameter Store through a real server with boto3 and the aws CLI: writing, reading, versions, labels,
tags, tiers, policies and data types, with AWS's errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.iam import unique
from tests.support.server import ServerProcess


def error(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return str(err.value.response["Error"]["Code"]), str(err.value.response["Error"].get("Message", ""))


def fails(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call(**params)
    return error(err)


@pytest.fixture
def prefix() -> str:
    return "/" + unique("ps")


@pytest.fixture
def ssm(server: ServerProcess) -> Any:
    return server.client("ssm")


def test_put_get_and_overwrite_make_versions_readable_by_selector_and_arn(ssm: Any, prefix: str) -> None:
    put = ssm.put_parameter(Name=f"{prefix}/a", Value="one", Type="String")
    assert (put["Version"], put["Tier"]) == (1, "Standard")
    assert fails(ssm.put_parameter, Name=f"{prefix}/a", Value="two", Type="String") == (
        "ParameterAlreadyExists",
        "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
    assert ssm.put_parameter(Name=f"{prefix}/a", Value="two", Overwrite=True)["Version"] == 2
    got = ssm.get_parameter(Name=f"{prefix}/a")["Parameter"]
    assert (got["Value"], got["Version"], got["Type"], got["DataType"]) == ("two", 2, "String", "text")
    assert got["ARN"] == f"arn:aws:ssm:us-east-1:123456789012:parameter{prefix}/a"
    first = ssm.get_parameter(Name=f"{prefix}/a:1")["Parameter"]
    assert (first["Value"], first["Selector"], first["Name"]) == ("one", ":1", f"{prefix}/a")
    assert ssm.get_parameter(Name=got["ARN"])["Parameter"]["Value"] == "two"
    assert ssm.get_parameter(Name=got["ARN"] + ":1")["Parameter"]["Value"] == "one"


def test_missing_parameters_and_versions_are_reported_as_aws_does(ssm: Any, prefix: str) -> None:
    assert fails(ssm.get_parameter, Name=f"{prefix}/missing") == ("ParameterNotFound", "")
    ssm.put_parameter(Name=f"{prefix}/v", Value="x", Type="String")
    assert fails(ssm.get_parameter, Name=f"{prefix}/v:7") == (
        "ParameterVersionNotFound",
        f"Systems Manager could not find version 7 of {prefix}/v. Verify the version and try again.")
    assert fails(ssm.get_parameter_history, Name=f"{prefix}/missing")[0] == "ParameterNotFound"
    out = ssm.get_parameters(Names=[f"{prefix}/v", f"{prefix}/missing", f"{prefix}/v:9", f"{prefix}/v:1"])
    assert [(p["Name"], p["Version"]) for p in out["Parameters"]] == [(f"{prefix}/v", 1), (f"{prefix}/v", 1)]
    assert out["InvalidParameters"] == [f"{prefix}/missing", f"{prefix}/v:9"]


def test_names_values_and_types_are_validated_with_aws_messages(server: ServerProcess, prefix: str) -> None:
    ssm = server.client("ssm", parameter_validation=False)
    put = ssm.put_parameter
    assert fails(put, Name="x" * 2049, Value="x", Type="String") == (
        "ValidationException", "1 validation error detected: Value '" + "x" * 2049 + "' at 'name' failed to satisfy "
        "constraint: Member must have length less than or equal to 2048")
    code, message = fails(put, Name=f"{prefix}/enum", Value="x", Type="Text")
    assert code == "ValidationException" and message.endswith(
        "failed to satisfy constraint: Member must satisfy enum value set: [String, StringList, SecureString]")
    assert fails(put, Name="aws-reserved", Value="x", Type="String") == (
        "ValidationException", 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).')
    assert fails(put, Name="/aws/mine/x", Value="x", Type="String") == (
        "AccessDeniedException", "No access to reserved parameter name: aws/mine/x.")
    assert fails(put, Name="no/leading/slash", Value="x", Type="String") == (
        "ValidationException", "Parameter name must be a fully qualified name")
    assert fails(put, Name=prefix + "/a" * 16, Value="x", Type="String")[0] == "HierarchyLevelLimitExceededException"
    assert fails(put, Name=f"{prefix}/typeless", Value="x") == (
        "ValidationException", "A parameter type is required when you create a parameter.")
    assert fails(put, Name=f"{prefix}/key", Value="x", Type="String", KeyId="alias/aws/ssm") == (
        "ValidationException", "KeyId is required for SecureString type parameter only.")
    assert fails(put, Name=f"{prefix}/empty", Value="", Type="String")[0] == "ValidationException"
    assert fails(ssm.get_parameter, Name="no/leading/slash")[0] == "ValidationException"


def test_allowed_pattern_is_enforced_and_kept_across_versions(ssm: Any, prefix: str) -> None:
    name = f"{prefix}/port"
    assert fails(ssm.put_parameter, Name=name, Value="abc", Type="String", AllowedPattern=r"^\d+$") == (
        "ParameterPatternMismatchException", r"Parameter value, cannot be validated against allowedPattern: ^\d+$")
    ssm.put_parameter(Name=name, Value="8080", Type="String", AllowedPattern=r"^\d+$")
    assert fails(ssm.put_parameter, Name=name, Value="http", Overwrite=True)[0] == "ParameterPatternMismatchException"
    assert fails(ssm.put_parameter, Name=f"{prefix}/bad", Value="x", Type="String",
                 AllowedPattern="([")[0] == "InvalidAllowedPatternException"


def test_tiers_hold_4_kb_or_8_kb_and_advanced_cannot_go_back(ssm: Any, prefix: str) -> None:
    big = "x" * 5000
    code, message = fails(ssm.put_parameter, Name=f"{prefix}/big", Value=big, Type="String")
    assert code == "ValidationException" and message.startswith(
        "Standard tier parameters support a maximum parameter value of 4096 characters.")
    assert ssm.put_parameter(Name=f"{prefix}/big", Value=big, Type="String", Tier="Advanced")["Tier"] == "Advanced"
    assert fails(ssm.put_parameter, Name=f"{prefix}/big", Value="x", Overwrite=True, Tier="Standard") == (
        "ValidationException", "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from "
        "the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
        "parameter and recreate it as a standard parameter.")
    assert ssm.put_parameter(Name=f"{prefix}/big", Value="small", Overwrite=True)["Tier"] == "Advanced"
    assert ssm.put_parameter(Name=f"{prefix}/auto", Value="x", Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Standard"
    assert ssm.put_parameter(Name=f"{prefix}/auto2", Value=big, Type="String",
                             Tier="Intelligent-Tiering")["Tier"] == "Advanced"
    assert fails(ssm.put_parameter, Name=f"{prefix}/huge", Value="x" * 8193, Type="String",
                 Tier="Advanced")[0] == "ValidationException"


def test_an_expiration_policy_makes_a_parameter_disappear(ssm: Any, prefix: str) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    policies = [{"Type": "Expiration", "Version": "1.0", "Attributes": {"Timestamp": future}},
                {"Type": "ExpirationNotification", "Version": "1.0", "Attributes": {"Before": "1", "Unit": "Hours"}}]
    ssm.put_parameter(Name=f"{prefix}/lives", Value="x", Type="String", Tier="Advanced", Policies=json.dumps(policies))
    assert ssm.get_parameter(Name=f"{prefix}/lives")["Parameter"]["Value"] == "x"
    described = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [f"{prefix}/lives"]}])
    shown = described["Parameters"][0]["Policies"]
    assert [(p["PolicyType"], p["PolicyStatus"]) for p in shown] == [("Expiration", "Pending"),
                                                                     ("ExpirationNotification", "Pending")]
    policies[0]["Attributes"]["Timestamp"] = past
    ssm.put_parameter(Name=f"{prefix}/dies", Value="x", Type="String", Tier="Advanced",
                      Policies=json.dumps(policies[:1]))
    assert fails(ssm.get_parameter, Name=f"{prefix}/dies")[0] == "ParameterNotFound"
    assert ssm.put_parameter(Name=f"{prefix}/dies", Value="reborn", Type="String")["Version"] == 1
    assert fails(ssm.put_parameter, Name=f"{prefix}/bad", Value="x", Type="String", Tier="Advanced",
                 Policies='[{"Type": "Explode", "Attributes": {}}]')[0] == "InvalidPolicyTypeException"
    assert fails(ssm.put_parameter, Name=f"{prefix}/bad", Value="x", Type="String", Tier="Advanced",
                 Policies=json.dumps(policies[:1] * 2))[0] == "IncompatiblePolicyException"


def test_the_ec2_image_data_type_takes_only_image_ids(ssm: Any, prefix: str) -> None:
    ssm.put_parameter(Name=f"{prefix}/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    assert ssm.get_parameter(Name=f"{prefix}/ami")["Parameter"]["DataType"] == "aws:ec2:image"
    assert fails(ssm.put_parameter, Name=f"{prefix}/ami", Value="not-an-image", Overwrite=True)[0] == \
        "ValidationException"
    assert fails(ssm.put_parameter, Name=f"{prefix}/dt", Value="x", Type="String", DataType="json") == (
        "ValidationException", "The following data type is not supported: json (Data type names are all lowercase.)")


def test_tags_and_overwrite_cannot_be_combined_and_tags_are_managed_by_resource(ssm: Any, prefix: str) -> None:
    ssm.put_parameter(Name=f"{prefix}/t", Value="x", Type="String", Tags=[{"Key": "env", "Value": "dev"}])
    code, message = fails(ssm.put_parameter, Name=f"{prefix}/t", Value="y", Type="String", Overwrite=True,
                          Tags=[{"Key": "env", "Value": "prod"}])
    assert (code, message) == ("ValidationException", "Invalid request: tags and overwrite can't be used together. "
                               "To create a parameter with tags, please remove overwrite flag. To update tags for an "
                               "existing parameter, please use AddTagsToResource or RemoveTagsFromResource.")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t", Tags=[{"Key": "o", "Value": "1"},
                                                                                      {"Key": "env", "Value": "qa"}])
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t")["TagList"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("env", "qa"), ("o", "1")]
    ssm.remove_tags_from_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t", TagKeys=["env"])
    assert ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=f"{prefix}/t")["TagList"] == [
        {"Key": "o", "Value": "1"}]
    assert fails(ssm.list_tags_for_resource, ResourceType="Parameter", ResourceId=f"{prefix}/none")[0] == \
        "InvalidResourceId"
    assert fails(ssm.list_tags_for_resource, ResourceType="OpsItem", ResourceId="oi-0123456789ab")[0] == \
        "InvalidResourceType"


def test_labels_select_versions_move_between_them_and_are_limited(ssm: Any, prefix: str) -> None:
    name = f"{prefix}/labelled"
    ssm.put_parameter(Name=name, Value="v1", Type="String")
    ssm.put_parameter(Name=name, Value="v2", Type="String", Overwrite=True)
    assert ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=["prod", "1bad", "awsx"])[
        "InvalidLabels"] == ["1bad", "awsx"]
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v1"
    assert ssm.label_parameter_version(Name=name, Labels=["prod"])["ParameterVersion"] == 2
    assert ssm.get_parameter(Name=f"{name}:prod")["Parameter"]["Value"] == "v2"
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Labels"]) for h in history] == [(1, []), (2, ["prod"])]
    removed = ssm.unlabel_parameter_version(Name=name, ParameterVersion=2, Labels=["prod", "none"])
    assert removed["RemovedLabels"] == ["prod"] and removed["InvalidLabels"] == ["none"]
    ssm.label_parameter_version(Name=name, ParameterVersion=1, Labels=[f"l{i}" for i in range(10)])
    assert fails(ssm.label_parameter_version, Name=name, ParameterVersion=1, Labels=["more"])[0] == \
        "ParameterVersionLabelLimitExceeded"
    assert fails(ssm.label_parameter_version, Name=name, ParameterVersion=5, Labels=["x"])[0] == \
        "ParameterVersionNotFound"
    assert fails(ssm.label_parameter_version, Name=f"{prefix}/none", Labels=["x"])[0] == "ParameterNotFound"


def test_delete_one_and_many(ssm: Any, prefix: str) -> None:
    for n in ("a", "b"):
        ssm.put_parameter(Name=f"{prefix}/{n}", Value=n, Type="String")
    ssm.delete_parameter(Name=f"{prefix}/a")
    assert fails(ssm.delete_parameter, Name=f"{prefix}/a") == ("ParameterNotFound", "")
    out = ssm.delete_parameters(Names=[f"{prefix}/b", f"{prefix}/a"])
    assert out["DeletedParameters"] == [f"{prefix}/b"] and out["InvalidParameters"] == [f"{prefix}/a"]


def test_the_hundredth_version_drops_the_oldest_unless_it_is_labelled(ssm: Any, prefix: str) -> None:
    name = f"{prefix}/many"
    ssm.put_parameter(Name=name, Value="0", Type="String")
    for i in range(1, 101):
        ssm.put_parameter(Name=name, Value=str(i), Overwrite=True)
    versions = [p["Version"] for p in ssm.get_parameter_history(Name=name, MaxResults=50)["Parameters"]]
    assert versions[0] == 2
    ssm.label_parameter_version(Name=name, ParameterVersion=2, Labels=["keep"])
    code, message = fails(ssm.put_parameter, Name=name, Value="x", Overwrite=True)
    assert code == "ParameterMaxVersionLimitExceeded" and message.startswith(
        f"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. "
        "Version 2, the oldest version, can't be deleted because it has a label associated with it.")


def test_the_aws_cli_drives_parameter_store(server: ServerProcess, prefix: str) -> None:
    name = f"{prefix}/cli"
    out = server.aws_json("ssm", "put-parameter", "--name", name, "--value", "hello", "--type", "SecureString")
    assert out == {"Version": 1, "Tier": "Standard"}
    assert server.aws_json("ssm", "get-parameter", "--name", name, "--with-decryption")["Parameter"]["Value"] == \
        "hello"
    server.aws("ssm", "put-parameter", "--name", name, "--value", "again", "--overwrite")
    server.aws("ssm", "label-parameter-version", "--name", name, "--parameter-version", "1", "--labels", "first")
    history = server.aws_json("ssm", "get-parameter-history", "--name", name, "--with-decryption")["Parameters"]
    assert [(h["Value"], h["Labels"]) for h in history] == [("hello", ["first"]), ("again", [])]
    server.aws("ssm", "add-tags-to-resource", "--resource-type", "Parameter", "--resource-id", name, "--tags",
               "Key=team,Value=blue")
    tags = server.aws_json("ssm", "list-tags-for-resource", "--resource-type", "Parameter", "--resource-id", name)
    assert tags["TagList"] == [{"Key": "team", "Value": "blue"}]
    server.aws("ssm", "delete-parameter", "--name", name)
    failed = server.aws("ssm", "get-parameter", "--name", name, check=False)
    assert failed.returncode != 0 and "ParameterNotFound" in failed.stderr
    failed = server.aws("ssm", "put-parameter", "--name", f"{prefix}/x", "--value", "v", "--type", "Text", check=False)
    assert failed.returncode != 0 and "ValidationException" in failed.stderr
