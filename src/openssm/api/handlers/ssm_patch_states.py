"""Patch compliance views over JSON 1.1: DescribeInstancePatchStates, DescribeInstancePatchStatesForPatchGroup,
DescribePatchGroupState, DescribeInstancePatches, DescribeAvailablePatches and
DescribeEffectivePatchesForPatchBaseline — what nodes reported after AWS-RunPatchBaseline (services/patch_states,
services/patch_catalog).

The service authorization reference names no resource for the first five ("*");
DescribeEffectivePatchesForPatchBaseline is authorized on the baseline's ARN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, without_nones
from openssm.api.handlers.ssm_patch_baselines import named_baseline
from openssm.api.operations import Operation, Params
from openssm.services import instances, patch_baselines, patch_catalog, patch_states
from openssm.services.instances import InvalidInstanceId
from openssm.services.patch_baseline_model import PatchFilter
from openssm.services.patch_catalog import AvailablePatch, InstancePatch
from openssm.services.patch_platforms import OperatingSystem, UnsupportedOperatingSystem
from openssm.services.patch_states import NON_COMPLIANT_COUNTS, STATE_COUNTS, PatchState, StateFilter

STATES_PAGE = 50  # PatchComplianceMaxResults is 10 to 100; AWS does not publish the default
PATCHES_PAGE = 50
AVAILABLE_PAGE = 50  # PatchBaselineMaxResults is 1 to 100
# DescribePatchGroupState's member for each count a node's patch state holds.
_GROUP_FIELDS = {"InstalledCount": "InstancesWithInstalledPatches",
                 "InstalledOtherCount": "InstancesWithInstalledOtherPatches",
                 "InstalledPendingRebootCount": "InstancesWithInstalledPendingRebootPatches",
                 "InstalledRejectedCount": "InstancesWithInstalledRejectedPatches",
                 "MissingCount": "InstancesWithMissingPatches", "FailedCount": "InstancesWithFailedPatches",
                 "NotApplicableCount": "InstancesWithNotApplicablePatches",
                 "UnreportedNotApplicableCount": "InstancesWithUnreportedNotApplicablePatches",
                 "CriticalNonCompliantCount": "InstancesWithCriticalNonCompliantPatches",
                 "SecurityNonCompliantCount": "InstancesWithSecurityNonCompliantPatches",
                 "OtherNonCompliantCount": "InstancesWithOtherNonCompliantPatches"}


def _state_out(s: PatchState) -> dict[str, Any]:
    return without_nones({
        "InstanceId": s.instance_id, "PatchGroup": s.patch_group, "BaselineId": s.baseline_id,
        "SnapshotId": s.snapshot_id, "InstallOverrideList": s.install_override_list,
        "OwnerInformation": s.owner_information,
        **{name: s.counts[name] for name in (*STATE_COUNTS, *NON_COMPLIANT_COUNTS)},
        "OperationStartTime": s.operation_start, "OperationEndTime": s.operation_end, "Operation": s.operation,
        "LastNoRebootInstallOperationTime": s.last_no_reboot_install, "RebootOption": s.reboot_option})


def describe_instance_patch_states(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = patch_states.states(conn, ctx.account_id, ctx.region, p["InstanceIds"], ctx.now)
    page, token = paginate(p, found, STATES_PAGE)
    return without_nones({"InstancePatchStates": [_state_out(s) for s in page], "NextToken": token})


def describe_instance_patch_states_for_patch_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = [StateFilter(f["Key"], tuple(f["Values"]), f["Type"]) for f in p.get("Filters") or ()]
    with ctx.container.db.read() as conn:
        found = patch_states.group_states(conn, ctx.account_id, ctx.region, p["PatchGroup"], filters, ctx.now)
    page, token = paginate(p, found, STATES_PAGE)
    return without_nones({"InstancePatchStates": [_state_out(s) for s in page], "NextToken": token})


def describe_patch_group_state(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        state = patch_states.group_state(conn, ctx.account_id, ctx.region, p["PatchGroup"], ctx.now)
    # Available security updates are a Windows state, which OpenSSM's nodes do not report.
    return {"Instances": state.instances, **{field: state.with_counts[name] for name, field in _GROUP_FIELDS.items()},
            "InstancesWithAvailableSecurityUpdates": 0}


def _patch_filters(raw: Sequence[Mapping[str, Any]] | None) -> list[PatchFilter]:
    return [PatchFilter(f.get("Key") or "", tuple(f.get("Values") or ())) for f in raw or ()]


def _instance_patch_out(row: InstancePatch) -> dict[str, Any]:
    return without_nones({"Title": row.title, "KBId": row.kb_id, "Classification": row.classification,
                          "Severity": row.severity, "State": row.state, "InstalledTime": row.installed_time,
                          "CVEIds": row.cve_ids})


def describe_instance_patches(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        if instances.get(conn, ctx.account_id, ctx.region, p["InstanceId"], ctx.now) is None:
            raise InvalidInstanceId(f"Instance Id {p['InstanceId']} is not a managed node of this account in "
                                    f"{ctx.region}.")
        found = patch_catalog.instance_patches(conn, ctx.account_id, ctx.region, p["InstanceId"],
                                               _patch_filters(p.get("Filters")))
    page, token = paginate(p, found, PATCHES_PAGE)
    return without_nones({"Patches": [_instance_patch_out(r) for r in page], "NextToken": token})


def _available_out(patch: AvailablePatch) -> dict[str, Any]:
    return without_nones({
        "Id": patch.id, "Title": patch.title, "Product": patch.product, "Name": patch.name, "Arch": patch.arch,
        "Epoch": patch.epoch, "Version": patch.version, "Release": patch.release,
        "Classification": patch.classification, "Severity": patch.severity, "Repository": patch.repository,
        "ReleaseDate": patch.release_date, "CVEIds": list(patch.cve_ids) or None,
        "AdvisoryIds": list(patch.advisory_ids) or None, "BugzillaIds": list(patch.bugzilla_ids) or None})


def describe_available_patches(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = patch_catalog.available_patches(conn, ctx.account_id, ctx.region, _patch_filters(p.get("Filters")))
    page, token = paginate(p, found, AVAILABLE_PAGE)
    return without_nones({"Patches": [_available_out(a) for a in page], "NextToken": token})


def describe_effective_patches_for_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        baseline = patch_baselines.find(conn, ctx.account_id, ctx.region, p["BaselineId"])
    if baseline.spec.operating_system is not OperatingSystem.WINDOWS:
        # The API reference: "Applies to patch baselines for Windows only."
        raise UnsupportedOperatingSystem(f"DescribeEffectivePatchesForPatchBaseline applies to patch baselines for "
                                         f"Windows only; {p['BaselineId']} is for "
                                         f"{baseline.spec.operating_system.value}.")
    # OpenSSM has no catalogue of Microsoft's updates to evaluate a Windows baseline against.
    none: list[dict[str, Any]] = []
    page, token = paginate(p, none, AVAILABLE_PAGE)
    return without_nones({"EffectivePatches": list(page), "NextToken": token})


OPERATIONS = [
    Operation("ssm", "DescribeInstancePatchStates", describe_instance_patch_states, read_only=True),
    Operation("ssm", "DescribeInstancePatchStatesForPatchGroup", describe_instance_patch_states_for_patch_group,
              read_only=True),
    Operation("ssm", "DescribePatchGroupState", describe_patch_group_state, read_only=True),
    Operation("ssm", "DescribeInstancePatches", describe_instance_patches, read_only=True),
    Operation("ssm", "DescribeAvailablePatches", describe_available_patches, read_only=True),
    Operation("ssm", "DescribeEffectivePatchesForPatchBaseline", describe_effective_patches_for_patch_baseline,
              resources=named_baseline, read_only=True),
]
