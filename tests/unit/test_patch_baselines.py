"""Patch baselines on the store: creating (idempotent by ClientToken, limited), reading, updating (merged or
replaced), deleting (refused while in use), listing with filters, AWS's predefined baselines and defaults."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.api.handlers.ssm_patch_baselines import baseline_document, baseline_out, spec_changes
from openssm.errors import ValidationError
from openssm.services import patch_baseline_groups, patch_baselines
from openssm.services.parameter_model import InvalidResourceId, Scope
from openssm.services.patch_baseline_model import (
    BaselineSpec,
    DoesNotExist,
    IdempotentParameterMismatch,
    PatchFilter,
    PatchRule,
    ResourceInUse,
    ResourceLimitExceeded,
)
from openssm.services.patch_platforms import OperatingSystem
from openssm.services.resource_tags import ResourceTagStore
from openssm.store.db import open_database

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
ACCOUNT, REGION = "111122223333", "us-east-1"
AWS_DEBIAN = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-09a5f8eb62bde80b1"
AWS_WINDOWS = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-09ca3fb51f0412ec3"
CRITICAL_FIRST = PatchRule((PatchFilter("PRIORITY", ("Required", "Important")),), "CRITICAL")
DEBIAN = BaselineSpec(name="debian-prod", operating_system=OperatingSystem.DEBIAN, description="prod",
                      approval_rules=(CRITICAL_FIRST,), rejected_patches=("telnet",))


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as c:
        yield c


def create(conn: Connection, spec: BaselineSpec = DEBIAN, token: str | None = None, **tags: str) -> str:
    return patch_baselines.create(conn, ACCOUNT, REGION, spec, tags, token, NOW)


def test_a_created_baseline_reads_back_with_its_settings_dates_and_tags(conn: Connection) -> None:
    baseline_id = create(conn, env="prod")
    got = patch_baselines.get(conn, ACCOUNT, REGION, baseline_id)
    assert baseline_id.startswith("pb-0") and len(baseline_id) == 20
    assert (got.spec, got.created_at, got.modified_at, got.owner, got.patch_groups) == (DEBIAN, NOW, NOW, "Self", ())
    assert ResourceTagStore().of(conn, ACCOUNT, REGION, "PatchBaseline", baseline_id) == {"env": "prod"}
    by_arn = patch_baselines.get(conn, ACCOUNT, REGION, f"arn:aws:ssm:{REGION}:{ACCOUNT}:patchbaseline/{baseline_id}")
    assert by_arn.baseline_id == baseline_id


def test_a_repeated_client_token_answers_the_first_baseline_and_refuses_other_settings(conn: Connection) -> None:
    first = create(conn, token="t-1")
    assert create(conn, token="t-1") == first
    with pytest.raises(IdempotentParameterMismatch):
        create(conn, BaselineSpec(name="other", operating_system=OperatingSystem.DEBIAN), token="t-1")


def test_an_account_holds_at_most_fifty_baselines_per_region(conn: Connection) -> None:
    for _ in range(50):
        create(conn)
    with pytest.raises(ResourceLimitExceeded):
        create(conn)
    assert patch_baselines.create(conn, ACCOUNT, "eu-west-1", DEBIAN, {}, None, NOW)


def test_unknown_and_malformed_ids_get_awss_errors(conn: Connection) -> None:
    with pytest.raises(DoesNotExist, match="Patch Baseline pb-0123456789abcdef0 does not exist."):
        patch_baselines.get(conn, ACCOUNT, REGION, "pb-0123456789abcdef0")
    with pytest.raises(InvalidResourceId):
        patch_baselines.get(conn, ACCOUNT, REGION, "not-a-baseline-id-at-all")
    with pytest.raises(DoesNotExist):  # another account's baseline is not this one's
        patch_baselines.get(conn, "999988887777", REGION, create(conn))


def test_an_update_merges_the_given_members_and_replace_resets_the_others(conn: Connection) -> None:
    baseline_id = create(conn)
    later = NOW + dt.timedelta(hours=1)
    merged = patch_baselines.update(conn, ACCOUNT, REGION, baseline_id, {"description": "new"}, False, later)
    assert (merged.spec.description, merged.spec.rejected_patches, merged.modified_at) == ("new", ("telnet",), later)
    with pytest.raises(ValidationError, match="Name is required when Replace is true"):
        patch_baselines.update(conn, ACCOUNT, REGION, baseline_id, {"approved_patches": ("curl",)}, True, later)
    replaced = patch_baselines.update(conn, ACCOUNT, REGION, baseline_id,
                                      {"name": "debian-prod", "approved_patches": ("curl",)}, True, later)
    assert replaced.spec == BaselineSpec(name="debian-prod", operating_system=OperatingSystem.DEBIAN,
                                         approved_patches=("curl",))


def test_an_update_is_checked_like_a_creation(conn: Connection) -> None:
    baseline_id = create(conn)
    bad = (PatchRule((PatchFilter("MSRC_SEVERITY", ("Critical",)),)),)
    with pytest.raises(ValidationError, match="Invalid Filter Key: MSRC_SEVERITY"):
        patch_baselines.update(conn, ACCOUNT, REGION, baseline_id, {"approval_rules": bad}, False, NOW)


def test_awss_baselines_are_read_only(conn: Connection) -> None:
    with pytest.raises(ValidationError, match="provided by AWS"):
        patch_baselines.update(conn, ACCOUNT, REGION, AWS_DEBIAN, {"description": "x"}, False, NOW)
    with pytest.raises(ValidationError, match="provided by AWS"):
        patch_baselines.delete(conn, ACCOUNT, REGION, AWS_DEBIAN)


def test_a_baseline_in_use_as_default_or_by_a_patch_group_is_not_deleted(conn: Connection) -> None:
    default, grouped = create(conn), create(conn)
    patch_baselines.register_default(conn, ACCOUNT, REGION, default)
    patch_baseline_groups.register(conn, ACCOUNT, REGION, grouped, "web", NOW)
    with pytest.raises(ResourceInUse, match="default"):
        patch_baselines.delete(conn, ACCOUNT, REGION, default)
    with pytest.raises(ResourceInUse, match="web"):
        patch_baselines.delete(conn, ACCOUNT, REGION, grouped)
    patch_baseline_groups.deregister(conn, ACCOUNT, REGION, grouped, "web")
    assert patch_baselines.delete(conn, ACCOUNT, REGION, grouped) == grouped
    with pytest.raises(DoesNotExist):
        patch_baselines.get(conn, ACCOUNT, REGION, grouped)
    assert patch_baselines.delete(conn, ACCOUNT, REGION, grouped) == grouped  # gone already: still a success


def test_every_account_sees_awss_baselines_by_arn_only(conn: Connection) -> None:
    listed = patch_baselines.describe(conn, ACCOUNT, REGION, [("OWNER", ["AWS"])])
    names = {i.name for i in listed}
    assert {"AWS-DebianDefaultPatchBaseline", "AWS-UbuntuDefaultPatchBaseline", "AWS-RedHatDefaultPatchBaseline",
            "AWS-AmazonLinux2023DefaultPatchBaseline", "AWS-DefaultPatchBaseline",
            "AWS-WindowsPredefinedPatchBaseline-OS-Applications", "AWS-MacOSDefaultPatchBaseline"} <= names
    assert all(i.baseline_id.startswith("arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-0") for i in listed)
    defaults = {i.operating_system for i in listed if i.default}
    assert defaults == set(OperatingSystem)  # exactly one default per operating system
    assert patch_baselines.get(conn, ACCOUNT, REGION, AWS_DEBIAN).spec.name == "AWS-DebianDefaultPatchBaseline"
    with pytest.raises(DoesNotExist):
        patch_baselines.get(conn, ACCOUNT, REGION, "pb-09a5f8eb62bde80b1")
    other_region = patch_baselines.get_default(conn, ACCOUNT, "eu-west-1", OperatingSystem.DEBIAN)
    assert other_region.baseline_id == "arn:aws:ssm:eu-west-1:075727635805:patchbaseline/pb-09a5f8eb62bde80b1"
    # us-east-2's are owned by another account, with the ids AWS's user guide shows where it shows them.
    ohio = patch_baselines.get_default(conn, ACCOUNT, "us-east-2")
    assert ohio.baseline_id == "arn:aws:ssm:us-east-2:733109147000:patchbaseline/pb-0574b43a65ea646ed"
    assert patch_baselines.get(conn, ACCOUNT, "us-east-2", ohio.baseline_id).spec.name == "AWS-DefaultPatchBaseline"
    assert patch_baselines.get_default(conn, ACCOUNT, "us-east-2", OperatingSystem.DEBIAN).baseline_id == (
        "arn:aws:ssm:us-east-2:733109147000:patchbaseline/pb-09a5f8eb62bde80b1")


def test_describe_filters_by_name_prefix_owner_and_operating_system(conn: Connection) -> None:
    mine = create(conn)
    windows = create(conn, BaselineSpec(name="win-prod", approval_rules=(PatchRule(
        (PatchFilter("CLASSIFICATION", ("SecurityUpdates",)),), approve_after_days=3),)))

    def ids(*filters: tuple[str, list[str]]) -> list[str]:
        return [i.baseline_id for i in patch_baselines.describe(conn, ACCOUNT, REGION, list(filters))]

    assert sorted(ids(("OWNER", ["Self"]))) == sorted([mine, windows])
    assert len(ids(("OWNER", ["All"]))) == len(ids())
    assert ids(("NAME_PREFIX", ["win-"])) == [windows]
    assert ids(("OPERATING_SYSTEM", ["DEBIAN"]), ("OWNER", ["Self"])) == [mine]
    assert AWS_DEBIAN in ids(("OPERATING_SYSTEM", ["DEBIAN"]))
    with pytest.raises(ValidationError, match="Invalid filter key"):
        ids(("COLOUR", ["blue"]))
    with pytest.raises(ValidationError, match="Invalid value BEOS for filter OPERATING_SYSTEM"):
        ids(("OPERATING_SYSTEM", ["BEOS"]))
    with pytest.raises(ValidationError, match="at least one value"):
        ids(("OWNER", []))


def test_the_default_is_awss_until_the_account_registers_its_own(conn: Connection) -> None:
    assert patch_baselines.get_default(conn, ACCOUNT, REGION).baseline_id == AWS_WINDOWS
    assert patch_baselines.get_default(conn, ACCOUNT, REGION, OperatingSystem.DEBIAN).baseline_id == AWS_DEBIAN
    mine = create(conn)
    assert patch_baselines.register_default(conn, ACCOUNT, REGION, mine) == mine
    assert patch_baselines.get_default(conn, ACCOUNT, REGION, OperatingSystem.DEBIAN).baseline_id == mine
    flags = {i.baseline_id: i.default for i in patch_baselines.describe(conn, ACCOUNT, REGION,
                                                                        [("OPERATING_SYSTEM", ["DEBIAN"])])}
    assert flags == {AWS_DEBIAN: False, mine: True}
    assert patch_baselines.get_default(conn, "999988887777", REGION, OperatingSystem.DEBIAN).baseline_id == AWS_DEBIAN
    patch_baselines.register_default(conn, ACCOUNT, REGION, AWS_DEBIAN)
    assert patch_baselines.get_default(conn, ACCOUNT, REGION, OperatingSystem.DEBIAN).baseline_id == AWS_DEBIAN


def test_the_wire_members_map_to_settings_and_back(conn: Connection) -> None:
    changes = spec_changes({"Description": "d", "ApprovalRules": {"PatchRules": [{
        "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required"]}]},
        "ComplianceLevel": "HIGH", "ApproveAfterDays": 0}]},
        "Sources": [{"Name": "backports", "Products": ["Debian12"], "Configuration": "deb http://x y main"}]})
    baseline_id = create(conn)
    updated = patch_baselines.update(conn, ACCOUNT, REGION, baseline_id, changes, False, NOW)
    out = baseline_out(updated, with_groups=False)
    assert out["ApprovalRules"] == {"PatchRules": [{
        "PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY", "Values": ["Required"]}]},
        "ComplianceLevel": "HIGH", "ApproveAfterDays": 0, "EnableNonSecurity": False}]}
    assert out["Sources"] == [{"Name": "backports", "Products": ["Debian12"], "Configuration": "deb http://x y main"}]
    assert "PatchGroups" not in out


def test_the_snapshot_document_is_get_patch_baselines_output_as_plain_json(conn: Connection) -> None:
    baseline = patch_baselines.get(conn, ACCOUNT, REGION, create(conn))
    document = baseline_document(baseline)
    assert (document["CreatedDate"], document["ModifiedDate"]) == ("2026-12-07T10:00:00Z", "2026-12-07T10:00:00Z")
    assert (document["BaselineId"], document["OperatingSystem"], document["RejectedPatches"],
            document["RejectedPatchesAction"]) == (baseline.baseline_id, "DEBIAN", ["telnet"], "ALLOW_AS_DEPENDENCY")
    assert set(document) >= {"GlobalFilters", "ApprovalRules", "ApprovedPatches", "ApprovedPatchesComplianceLevel",
                             "ApprovedPatchesEnableNonSecurity", "Sources", "Description", "Name"}


def test_custom_baselines_are_taggable_and_awss_are_not(conn: Connection) -> None:
    target = patch_baselines.BaselineTagTarget()
    scope = Scope(ACCOUNT, REGION, "", NOW)
    baseline_id = create(conn)
    assert target.tag_resource_id(conn, scope, baseline_id) == baseline_id
    assert target.tag_resource_arn(scope, baseline_id) == f"arn:aws:ssm:{REGION}:{ACCOUNT}:patchbaseline/{baseline_id}"
    with pytest.raises(InvalidResourceId):
        target.tag_resource_id(conn, scope, AWS_DEBIAN)
