"""Patch baselines, default baselines, patch groups and patch properties through a real server, driven by
boto3 and the aws CLI, with AWS's errors for bad requests and authorization on baseline ARNs.

Every test works in its own Region: defaults and patch groups are per account and Region, and other suites
patch nodes in the server's default Region."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from tests.support.iam import allow, user_with_policy
from tests.support.server import ServerProcess

AWS_ACCOUNT = "075727635805"
DEBIAN_RULES = {"PatchRules": [{
    "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required", "Important"]},
                                          {"Key": "SECTION", "Values": ["*"]}]},
    "ComplianceLevel": "CRITICAL"}]}


def region_of(n: int) -> str:
    """A Region of this module's own (AWS's ids are accepted in any Region name)."""
    return ["ca-west-1", "ap-south-2", "eu-south-2", "me-central-1", "il-central-1", "ap-southeast-4"][n]


def error(call: Any, **kw: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kw)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def name() -> str:
    return f"pb-test-{uuid.uuid4().hex[:10]}"


def test_a_baseline_is_created_read_updated_listed_and_deleted(server: ServerProcess) -> None:
    ssm = server.client("ssm", region=region_of(0))
    token, title = uuid.uuid4().hex, name()
    created = ssm.create_patch_baseline(
        Name=title, OperatingSystem="DEBIAN", ApprovalRules=DEBIAN_RULES, RejectedPatches=["telnet"],
        RejectedPatchesAction="BLOCK", Description="prod", ClientToken=token, Tags=[{"Key": "env", "Value": "prod"}])
    baseline_id = created["BaselineId"]
    again = ssm.create_patch_baseline(Name=title, OperatingSystem="DEBIAN", ApprovalRules=DEBIAN_RULES,
                                      RejectedPatches=["telnet"], RejectedPatchesAction="BLOCK",
                                      Description="prod", ClientToken=token)
    assert again["BaselineId"] == baseline_id
    got = ssm.get_patch_baseline(BaselineId=baseline_id)
    assert (got["Name"], got["OperatingSystem"], got["RejectedPatches"], got["RejectedPatchesAction"],
            got["PatchGroups"], got["ApprovedPatchesComplianceLevel"]) == (
        title, "DEBIAN", ["telnet"], "BLOCK", [], "UNSPECIFIED")
    assert got["ApprovalRules"]["PatchRules"][0]["ComplianceLevel"] == "CRITICAL"
    assert got["CreatedDate"] == got["ModifiedDate"]

    merged = ssm.update_patch_baseline(BaselineId=baseline_id, Description="changed", ApprovedPatches=["curl"])
    assert (merged["Description"], merged["RejectedPatches"], merged["ApprovedPatches"]) == (
        "changed", ["telnet"], ["curl"])
    assert error(ssm.update_patch_baseline, BaselineId=baseline_id, Replace=True)[0] == "ValidationException"
    replaced = ssm.update_patch_baseline(BaselineId=baseline_id, Replace=True, Name=title, Description="only this")
    assert (replaced["Description"], replaced["RejectedPatches"], replaced["ApprovalRules"]["PatchRules"],
            replaced["RejectedPatchesAction"]) == ("only this", [], [], "ALLOW_AS_DEPENDENCY")

    mine = ssm.describe_patch_baselines(Filters=[{"Key": "NAME_PREFIX", "Values": [title]}])["BaselineIdentities"]
    assert mine == [{"BaselineId": baseline_id, "BaselineName": title, "OperatingSystem": "DEBIAN",
                     "BaselineDescription": "only this", "DefaultBaseline": False}]
    assert ssm.delete_patch_baseline(BaselineId=baseline_id)["BaselineId"] == baseline_id
    assert error(ssm.get_patch_baseline, BaselineId=baseline_id) == (
        "DoesNotExistException", f"Patch Baseline {baseline_id} does not exist.")


def test_awss_baselines_are_listed_as_defaults_and_read_only(server: ServerProcess) -> None:
    region = region_of(1)
    ssm = server.client("ssm", region=region)
    pages = ssm.get_paginator("describe_patch_baselines").paginate(
        Filters=[{"Key": "OWNER", "Values": ["AWS"]}], PaginationConfig={"PageSize": 4})
    listed = [i for page in pages for i in page["BaselineIdentities"]]
    by_name = {i["BaselineName"]: i for i in listed}
    debian = by_name["AWS-DebianDefaultPatchBaseline"]
    assert debian["BaselineId"] == f"arn:aws:ssm:{region}:{AWS_ACCOUNT}:patchbaseline/pb-09a5f8eb62bde80b1"
    assert debian["DefaultBaseline"] and debian["OperatingSystem"] == "DEBIAN"
    assert {"AWS-UbuntuDefaultPatchBaseline", "AWS-AmazonLinux2023DefaultPatchBaseline", "AWS-DefaultPatchBaseline",
            "AWS-RedHatDefaultPatchBaseline", "AWS-RockyLinuxDefaultPatchBaseline"} <= set(by_name)
    assert not by_name["AWS-WindowsPredefinedPatchBaseline-OS"]["DefaultBaseline"]
    got = ssm.get_patch_baseline(BaselineId=debian["BaselineId"])
    priorities = got["ApprovalRules"]["PatchRules"][0]["PatchFilterGroup"]["PatchFilters"]
    assert {"Key": "PRIORITY", "Values": ["Required", "Important", "Standard", "Optional", "Extra"]} in priorities
    assert error(ssm.update_patch_baseline, BaselineId=debian["BaselineId"], Description="x")[0] == (
        "ValidationException")
    assert error(ssm.delete_patch_baseline, BaselineId=debian["BaselineId"])[0] == "ValidationException"
    default = ssm.get_default_patch_baseline()  # WINDOWS when no OperatingSystem is given, as AWS answers
    assert (default["BaselineId"], default["OperatingSystem"]) == (
        f"arn:aws:ssm:{region}:{AWS_ACCOUNT}:patchbaseline/pb-09ca3fb51f0412ec3", "WINDOWS")


def test_a_registered_default_and_patch_groups_choose_the_baseline_and_block_deletion(
        server: ServerProcess) -> None:
    ssm = server.client("ssm", region=region_of(2))
    mine = ssm.create_patch_baseline(Name=name(), OperatingSystem="UBUNTU", ApprovalRules=DEBIAN_RULES)["BaselineId"]
    grouped = ssm.create_patch_baseline(Name=name(), OperatingSystem="UBUNTU")["BaselineId"]
    assert ssm.register_default_patch_baseline(BaselineId=mine)["BaselineId"] == mine
    default = ssm.get_default_patch_baseline(OperatingSystem="UBUNTU")
    assert (default["BaselineId"], default["OperatingSystem"]) == (mine, "UBUNTU")
    code, message = error(ssm.delete_patch_baseline, BaselineId=mine)
    assert code == "ResourceInUseException" and "default" in message

    registered = ssm.register_patch_baseline_for_patch_group(BaselineId=grouped, PatchGroup="web servers")
    assert (registered["BaselineId"], registered["PatchGroup"]) == (grouped, "web servers")
    assert error(ssm.register_patch_baseline_for_patch_group, BaselineId=mine, PatchGroup="web servers")[0] == (
        "AlreadyExistsException")
    assert ssm.get_patch_baseline(BaselineId=grouped)["PatchGroups"] == ["web servers"]
    for_group = ssm.get_patch_baseline_for_patch_group(PatchGroup="web servers", OperatingSystem="UBUNTU")
    assert (for_group["BaselineId"], for_group["OperatingSystem"]) == (grouped, "UBUNTU")
    other = ssm.get_patch_baseline_for_patch_group(PatchGroup="nobody", OperatingSystem="UBUNTU")
    assert other["BaselineId"] == mine
    mappings = ssm.describe_patch_groups(Filters=[{"Key": "NAME_PREFIX", "Values": ["web"]}])["Mappings"]
    assert [(m["PatchGroup"], m["BaselineIdentity"]["BaselineId"]) for m in mappings] == [("web servers", grouped)]
    assert error(ssm.delete_patch_baseline, BaselineId=grouped)[0] == "ResourceInUseException"
    ssm.deregister_patch_baseline_for_patch_group(BaselineId=grouped, PatchGroup="web servers")
    assert error(ssm.deregister_patch_baseline_for_patch_group, BaselineId=grouped,
                 PatchGroup="web servers")[0] == "InvalidResourceId"
    ssm.delete_patch_baseline(BaselineId=grouped)


def test_baselines_are_tagged_and_authorized_on_their_arn(server: ServerProcess) -> None:
    region = region_of(3)
    ssm = server.client("ssm", region=region)
    baseline_id = ssm.create_patch_baseline(Name=name(), OperatingSystem="WINDOWS")["BaselineId"]
    other = ssm.create_patch_baseline(Name=name(), OperatingSystem="WINDOWS")["BaselineId"]
    ssm.add_tags_to_resource(ResourceType="PatchBaseline", ResourceId=baseline_id,
                             Tags=[{"Key": "team", "Value": "ops"}])
    assert ssm.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"] == [
        {"Key": "team", "Value": "ops"}]
    ssm.remove_tags_from_resource(ResourceType="PatchBaseline", ResourceId=baseline_id, TagKeys=["team"])
    assert ssm.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)["TagList"] == []

    account = server.client("sts").get_caller_identity()["Account"]
    _, creds = user_with_policy(server, allow("ssm:GetPatchBaseline",
                                              f"arn:aws:ssm:{region}:{account}:patchbaseline/{baseline_id}"))
    limited = server.client("ssm", creds, region=region)
    assert limited.get_patch_baseline(BaselineId=baseline_id)["BaselineId"] == baseline_id
    code, message = error(limited.get_patch_baseline, BaselineId=other)
    assert code == "AccessDeniedException" and f"patchbaseline/{other}" in message


def test_bad_requests_get_awss_errors(server: ServerProcess) -> None:
    ssm = server.client("ssm", region=region_of(4))
    bad_rules: list[tuple[dict[str, Any], str]] = [
        ({"OperatingSystem": "WINDOWS", "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [
            {"Key": "PRIORITY", "Values": ["Required"]}]}, "ApproveAfterDays": 7}]}}, "Invalid Filter Key: PRIORITY"),
        ({"OperatingSystem": "REDHAT_ENTERPRISE_LINUX", "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {
            "PatchFilters": [{"Key": "SEVERITY", "Values": ["Critical"]}]}}]}}, "either ApproveAfterDays"),
        ({"OperatingSystem": "UBUNTU", "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": []},
                                                                         "ApproveUntilDate": "2026-01-01",
                                                                         "ApproveAfterDays": 1}]}},
         "but not both"),
        ({"OperatingSystem": "WINDOWS", "ApprovedPatches": ["openssl"]}, "KB article"),
        ({"OperatingSystem": "AMAZON_LINUX", "GlobalFilters": {"PatchFilters": [
            {"Key": "PRODUCT", "Values": ["AmazonLinux2018.09"]}]}},
         "Invalid Filter Value: AmazonLinux2018.09 for Key: PRODUCT, valid values are: AmazonLinux2012.03, "),
        ({"OperatingSystem": "WINDOWS", "Sources": [{"Name": "repo", "Products": ["*"], "Configuration": "x"}]},
         "Sources are supported for Linux"),
    ]
    for request, words in bad_rules:
        code, message = error(ssm.create_patch_baseline, Name=name(), **request)
        assert code == "ValidationException" and words in message, (request, message)
    assert error(ssm.get_patch_baseline, BaselineId="pb-0123456789abcdef0")[0] == "DoesNotExistException"
    assert error(ssm.get_patch_baseline, BaselineId="not_a_baseline_identifier")[0] == "InvalidResourceId"
    code, _ = error(ssm.describe_patch_baselines, Filters=[{"Key": "COLOUR", "Values": ["blue"]}])
    assert code == "ValidationException"
    with pytest.raises(ParamValidationError):
        ssm.create_patch_baseline(Name="x")  # below botocore's minimum length: refused by the client itself
    raw = server.aws("ssm", "create-patch-baseline", "--name", "bad name!", "--region", region_of(4), check=False)
    assert raw.returncode != 0 and "ValidationException" in raw.stderr


def test_patch_properties_and_the_aws_cli(server: ServerProcess) -> None:
    region = region_of(5)
    ssm = server.client("ssm", region=region)
    products = ssm.describe_patch_properties(OperatingSystem="WINDOWS", Property="PRODUCT", PatchSet="APPLICATION",
                                             MaxResults=50)["Properties"]
    assert {"Name": "Office 2016", "ProductFamily": "Office"} in products
    priorities = ssm.describe_patch_properties(OperatingSystem="DEBIAN", Property="PRIORITY")["Properties"]
    assert [p["Name"] for p in priorities] == ["Required", "Important", "Standard", "Optional", "Extra"]
    assert error(ssm.describe_patch_properties, OperatingSystem="DEBIAN", Property="MSRC_SEVERITY")[0] == (
        "ValidationException")

    title = name()
    created = server.aws_json("ssm", "create-patch-baseline", "--name", title, "--operating-system",
                              "AMAZON_LINUX_2023", "--approval-rules",
                              "PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=CLASSIFICATION,Values=[Security]},"
                              "{Key=SEVERITY,Values=[Critical,Important]}]},ApproveAfterDays=7,ComplianceLevel=HIGH}]",
                              region=region)
    listed = server.aws_json("ssm", "describe-patch-baselines", "--filters", "Key=OWNER,Values=[Self]",
                             "Key=OPERATING_SYSTEM,Values=[AMAZON_LINUX_2023]", region=region)
    assert [i["BaselineId"] for i in listed["BaselineIdentities"]] == [created["BaselineId"]]
    default = server.aws_json("ssm", "get-default-patch-baseline", "--operating-system", "AMAZON_LINUX_2023",
                              region=region)
    assert default["BaselineId"].endswith("patchbaseline/pb-05c9c9bf778d4c4d0")
    # The user guide's command for patching Microsoft applications, verbatim.
    app = server.aws_json("ssm", "create-patch-baseline", "--name", "My-Windows-App-Baseline", "--approval-rules",
                          "PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=PRODUCT_FAMILY,Values='Active Directory'},"
                          "{Key=PRODUCT,Values='Active Directory Rights Management Services Client 2.0'},"
                          "{Key=PATCH_SET,Values='APPLICATION'}]},ApproveAfterDays=5}]", region=region)
    got = ssm.get_patch_baseline(BaselineId=app["BaselineId"])
    assert got["OperatingSystem"] == "WINDOWS"
    assert got["ApprovalRules"]["PatchRules"][0]["PatchFilterGroup"]["PatchFilters"][0] == {
        "Key": "PRODUCT_FAMILY", "Values": ["Active Directory"]}


def test_baselines_defaults_and_groups_on_postgresql(fresh_server: Callable[..., ServerProcess],
                                                     postgres_url: str) -> None:
    ssm = fresh_server("--database-url", postgres_url).client("ssm")
    long_group = "g" * 256
    baseline_id = ssm.create_patch_baseline(Name=name(), OperatingSystem="DEBIAN", ApprovalRules=DEBIAN_RULES,
                                            ClientToken="t" * 64)["BaselineId"]
    ssm.register_default_patch_baseline(BaselineId=baseline_id)
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=long_group)
    got = ssm.get_patch_baseline(BaselineId=baseline_id)
    assert (got["PatchGroups"], got["ApprovalRules"]) == ([long_group], {"PatchRules": [{
        **DEBIAN_RULES["PatchRules"][0], "EnableNonSecurity": False}]})
    assert ssm.get_default_patch_baseline(OperatingSystem="DEBIAN")["BaselineId"] == baseline_id
    assert [m["PatchGroup"] for m in ssm.describe_patch_groups()["Mappings"]] == [long_group]


REPOSITORY_BASELINE = {
    "Description": "My patch repository for Amazon Linux 2017.09", "Name": "Amazon-Linux-2017.09",
    "OperatingSystem": "AMAZON_LINUX",
    "ApprovalRules": {"PatchRules": [{"ApproveAfterDays": 7, "EnableNonSecurity": True, "PatchFilterGroup": {
        "PatchFilters": [{"Key": "SEVERITY", "Values": ["Important", "Critical"]},
                         {"Key": "CLASSIFICATION", "Values": ["Security", "Bugfix"]},
                         {"Key": "PRODUCT", "Values": ["AmazonLinux2017.09"]}]}}]},
    "Sources": [{"Name": "My-AL2017.09", "Products": ["AmazonLinux2017.09"],
                 "Configuration": "[amzn-main] \nname=amzn-main-Base\nmirrorlist=http://repo./$awsregion./$awsdomain/"
                                  "/$releasever/main/mirror.list \npriority=10 \ngpgcheck=1 \nenabled=1"}],
}


def test_the_user_guides_cli_examples_work_verbatim(server: ServerProcess, tmp_path: Path) -> None:
    """"Working with Patch Manager (AWS CLI)": its commands as printed (plus the endpoint)."""
    region = "ap-southeast-5"

    def aws(*args: str) -> Any:
        return server.aws_json("ssm", *args, region=region)

    baseline_id = aws("create-patch-baseline", "--name", "Windows-Server-2012R2", "--tags",
                      "Key=Environment,Value=Production", "--description",
                      "Windows Server 2012 R2, Important and Critical security updates", "--approved-patches",
                      "KB2032276,MS10-048", "--rejected-patches", "KB2124261", "--rejected-patches-action",
                      "ALLOW_AS_DEPENDENCY", "--approval-rules",
                      "PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=MSRC_SEVERITY,Values=[Important,Critical]},"
                      "{Key=CLASSIFICATION,Values=SecurityUpdates},{Key=PRODUCT,Values=WindowsServer2012R2}]},"
                      "ApproveAfterDays=5}]")["BaselineId"]
    updated = aws("update-patch-baseline", "--baseline-id", baseline_id, "--rejected-patches", "KB2032276",
                  "MS10-048", "--approved-patches", "KB2124261")
    assert (updated["RejectedPatches"], updated["ApprovedPatches"]) == (["KB2032276", "MS10-048"], ["KB2124261"])
    renamed = aws("update-patch-baseline", "--baseline-id", baseline_id, "--name",
                  "Windows-Server-2012-R2-Important-and-Critical-Security-Updates")
    assert renamed["Name"] == "Windows-Server-2012-R2-Important-and-Critical-Security-Updates"
    aws("add-tags-to-resource", "--resource-type", "PatchBaseline", "--resource-id", baseline_id, "--tags",
        "Key=Project,Value=Testing")
    tags = aws("list-tags-for-resource", "--resource-type", "PatchBaseline", "--resource-id", baseline_id)
    assert {"Key": "Project", "Value": "Testing"} in tags["TagList"]
    assert aws("register-patch-baseline-for-patch-group", "--baseline-id", baseline_id, "--patch-group",
               "Web Servers") == {"PatchGroup": "Web Servers", "BaselineId": baseline_id}
    assert aws("describe-patch-groups")["Mappings"][0]["PatchGroup"] == "Web Servers"
    aws("deregister-patch-baseline-for-patch-group", "--patch-group", "Web Servers", "--baseline-id", baseline_id)
    assert aws("delete-patch-baseline", "--baseline-id", baseline_id) == {"BaselineId": baseline_id}

    (tmp_path / "my-patch-repository.json").write_text(json.dumps(REPOSITORY_BASELINE))
    created = server.aws_json("ssm", "create-patch-baseline", "--cli-input-json", "file://my-patch-repository.json",
                              region=region, cwd=tmp_path)
    got = server.client("ssm", region=region).get_patch_baseline(BaselineId=created["BaselineId"])
    assert got["Sources"] == REPOSITORY_BASELINE["Sources"]

    # The aws CLI's own create-patch-baseline examples.
    for rules in ("ApproveAfterDays=7", "ApproveUntilDate=2020-07-07"):
        assert aws("create-patch-baseline", "--name", "Windows-Production-Baseline-AutoApproval",
                   "--operating-system", "WINDOWS", "--approval-rules",
                   "PatchRules=[{PatchFilterGroup={PatchFilters=[{Key=MSRC_SEVERITY,Values=[Critical,Important,"
                   "Moderate]},{Key=CLASSIFICATION,Values=[SecurityUpdates,Updates,UpdateRollups,CriticalUpdates]}]},"
                   f"{rules}}}]", "--description",
                   "Baseline containing all updates approved for Windows Server production systems")["BaselineId"]
    alpha = aws("create-patch-baseline", "--name", "Amazon-Linux-2017.09-Alpha-Baseline", "--description",
                "My custom approve/reject patch baseline for Amazon Linux 2017.09 instances", "--operating-system",
                "AMAZON_LINUX", "--approved-patches", "CVE-2018-1234567,example-pkg-EE-2018*.amzn1.noarch",
                "--approved-patches-compliance-level", "HIGH", "--approved-patches-enable-non-security", "--tags",
                "Key=Environment,Value=Alpha")["BaselineId"]
    alpha_got = server.client("ssm", region=region).get_patch_baseline(BaselineId=alpha)
    assert (alpha_got["ApprovedPatchesComplianceLevel"], alpha_got["ApprovedPatchesEnableNonSecurity"]) == (
        "HIGH", True)

    ohio_default = "arn:aws:ssm:us-east-2:733109147000:patchbaseline/pb-0574b43a65ea646ed"
    assert server.aws_json("ssm", "get-default-patch-baseline", "--region", "us-east-2")["BaselineId"] == (
        ohio_default)
    assert server.aws_json("ssm", "register-default-patch-baseline", "--region", "us-east-2", "--baseline-id",
                           ohio_default) == {"BaselineId": ohio_default}
    listed = server.aws_json("ssm", "describe-patch-baselines", "--region", "us-east-2", "--filters",
                             "Key=OWNER,Values=[All]")["BaselineIdentities"]
    assert {"BaselineName": "AWS-DefaultPatchBaseline", "DefaultBaseline": True, "OperatingSystem": "WINDOWS",
            "BaselineDescription": "Default Patch Baseline Provided by AWS.", "BaselineId": ohio_default} in listed
