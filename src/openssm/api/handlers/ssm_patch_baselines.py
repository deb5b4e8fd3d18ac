"""Patch baselines over JSON 1.1: CreatePatchBaseline, GetPatchBaseline, UpdatePatchBaseline,
DeletePatchBaseline, DescribePatchBaselines, RegisterDefaultPatchBaseline, GetDefaultPatchBaseline; and
`baseline_document`, GetPatchBaseline's output as JSON for the patch snapshot a node downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, request_tags_condition, tag_map, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.services import patch_baselines
from openssm.services.patch_baseline_model import (
    BaselineIdentity,
    BaselineSpec,
    PatchBaseline,
    PatchFilter,
    PatchRule,
    PatchSource,
    arn_of,
    baseline_arn,
)
from openssm.services.patch_platforms import DEFAULT_OS, OperatingSystem
from openssm.store.lazy import LazyMapping

PAGE = 100  # AWS's DescribePatchBaselines answers up to MaxResults (1-100) baselines a page


def _filters(group: Mapping[str, Any] | None) -> tuple[PatchFilter, ...]:
    return tuple(PatchFilter(f["Key"], tuple(f["Values"])) for f in (group or {}).get("PatchFilters") or ())


def _rules(group: Mapping[str, Any] | None) -> tuple[PatchRule, ...]:
    return tuple(PatchRule(_filters(r["PatchFilterGroup"]), r.get("ComplianceLevel") or "UNSPECIFIED",
                           r.get("ApproveAfterDays"), r.get("ApproveUntilDate"), bool(r.get("EnableNonSecurity")))
                 for r in (group or {}).get("PatchRules") or ())


def _sources(items: Sequence[Mapping[str, Any]] | None) -> tuple[PatchSource, ...]:
    return tuple(PatchSource(s["Name"], tuple(s["Products"]), s["Configuration"]) for s in items or ())


# Request member -> (BaselineSpec field, how the wire value becomes the field's value)
_MEMBERS: dict[str, tuple[str, Any]] = {
    "Name": ("name", str),
    "Description": ("description", str),
    "GlobalFilters": ("global_filters", _filters),
    "ApprovalRules": ("approval_rules", _rules),
    "ApprovedPatches": ("approved_patches", tuple),
    "ApprovedPatchesComplianceLevel": ("approved_patches_compliance_level", str),
    "ApprovedPatchesEnableNonSecurity": ("approved_patches_enable_non_security", bool),
    "RejectedPatches": ("rejected_patches", tuple),
    "RejectedPatchesAction": ("rejected_patches_action", str),
    "Sources": ("sources", _sources),
    "AvailableSecurityUpdatesComplianceStatus": ("available_security_updates_compliance_status", str),
}


def spec_changes(p: Params) -> dict[str, Any]:
    """The BaselineSpec fields a request sets (the members it carries)."""
    return {field: convert(p[member]) for member, (field, convert) in _MEMBERS.items() if p.get(member) is not None}


def _filters_out(filters: Sequence[PatchFilter]) -> dict[str, Any]:
    return {"PatchFilters": [{"Key": f.key, "Values": list(f.values)} for f in filters]}


def _rule_out(r: PatchRule) -> dict[str, Any]:
    return without_nones({"PatchFilterGroup": _filters_out(r.filters), "ComplianceLevel": r.compliance_level,
                          "ApproveAfterDays": r.approve_after_days, "ApproveUntilDate": r.approve_until_date,
                          "EnableNonSecurity": r.enable_non_security})


def baseline_out(b: PatchBaseline, with_groups: bool = True) -> dict[str, Any]:
    """GetPatchBaseline's output (UpdatePatchBaseline's without PatchGroups); dates as datetimes."""
    s = b.spec
    return without_nones({
        "BaselineId": b.baseline_id, "Name": s.name, "OperatingSystem": s.operating_system.value,
        "GlobalFilters": _filters_out(s.global_filters),
        "ApprovalRules": {"PatchRules": [_rule_out(r) for r in s.approval_rules]},
        "ApprovedPatches": list(s.approved_patches),
        "ApprovedPatchesComplianceLevel": s.approved_patches_compliance_level,
        "ApprovedPatchesEnableNonSecurity": s.approved_patches_enable_non_security,
        "RejectedPatches": list(s.rejected_patches), "RejectedPatchesAction": s.rejected_patches_action,
        "PatchGroups": list(b.patch_groups) if with_groups else None,
        "CreatedDate": b.created_at, "ModifiedDate": b.modified_at, "Description": s.description,
        "Sources": [{"Name": x.name, "Products": list(x.products), "Configuration": x.configuration}
                    for x in s.sources],
        "AvailableSecurityUpdatesComplianceStatus": s.available_security_updates_compliance_status,
    })


def baseline_document(baseline: PatchBaseline) -> dict[str, Any]:
    """GetPatchBaseline's output fields as plain JSON (dates as ISO 8601 UTC strings), for the patch snapshot."""
    return {k: v.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if isinstance(v, dt.datetime) else v
            for k, v in baseline_out(baseline).items()}


def baseline_ref(ctx: RequestContext, raw_id: str) -> ResourceRef:
    """A baseline's ARN (AWS's own baselines: their ARN as given) and, if a policy asks, its tags."""
    baseline_id = patch_baselines.canonical_id(ctx.account_id, ctx.region, raw_id)
    arn = arn_of(ctx.region, ctx.account_id, baseline_id)
    if arn == baseline_id:  # AWS's own baselines carry no tags here
        return ResourceRef(arn)

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, patch_baselines.TAG_KIND,
                                                    baseline_id)

    return ResourceRef(arn, LazyMapping(load_tags))


def named_baseline(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """The resources of a call naming one baseline by BaselineId."""
    return [baseline_ref(ctx, p["BaselineId"])]


def create_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    changes = spec_changes(p)
    changes.pop("name", None)
    spec = replace(BaselineSpec(name=p["Name"], operating_system=OperatingSystem(p.get("OperatingSystem")
                                                                                 or DEFAULT_OS)), **changes)
    with ctx.container.db.begin() as conn:
        baseline_id = patch_baselines.create(conn, ctx.account_id, ctx.region, spec, tag_map(p.get("Tags")),
                                             p.get("ClientToken"), ctx.now)
    return {"BaselineId": baseline_id}


def get_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        return baseline_out(patch_baselines.get(conn, ctx.account_id, ctx.region, p["BaselineId"]))


def update_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        updated = patch_baselines.update(conn, ctx.account_id, ctx.region, p["BaselineId"], spec_changes(p),
                                         bool(p.get("Replace")), ctx.now)
    return baseline_out(updated, with_groups=False)


def delete_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        return {"BaselineId": patch_baselines.delete(conn, ctx.account_id, ctx.region, p["BaselineId"])}


def identity_out(i: BaselineIdentity) -> dict[str, Any]:
    return without_nones({"BaselineId": i.baseline_id, "BaselineName": i.name,
                          "OperatingSystem": i.operating_system.value, "BaselineDescription": i.description,
                          "DefaultBaseline": i.default})


def filter_pairs(p: Params) -> list[tuple[str, list[str]]]:
    return [(f.get("Key") or "", list(f.get("Values") or ())) for f in p.get("Filters") or ()]


def describe_patch_baselines(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = patch_baselines.describe(conn, ctx.account_id, ctx.region, filter_pairs(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"BaselineIdentities": [identity_out(i) for i in page], "NextToken": token})


def register_default_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        return {"BaselineId": patch_baselines.register_default(conn, ctx.account_id, ctx.region, p["BaselineId"])}


def _default(ctx: RequestContext, p: Params) -> PatchBaseline:
    """The OS's default baseline, resolved once per request (authorization needs it before the handler)."""
    if "default" not in ctx.memo:
        os_name = OperatingSystem(p.get("OperatingSystem") or DEFAULT_OS)
        with ctx.container.db.read() as conn:
            ctx.memo["default"] = patch_baselines.get_default(conn, ctx.account_id, ctx.region, os_name)
    return cast(PatchBaseline, ctx.memo["default"])


def get_default_patch_baseline(ctx: RequestContext, p: Params) -> dict[str, Any]:
    baseline = _default(ctx, p)
    return {"BaselineId": baseline.baseline_id, "OperatingSystem": baseline.spec.operating_system.value}


OPERATIONS = [
    Operation("ssm", "CreatePatchBaseline", create_patch_baseline,
              resources=lambda ctx, p: [ResourceRef(baseline_arn(ctx.region, ctx.account_id, "*"))],
              condition_keys=request_tags_condition),
    Operation("ssm", "GetPatchBaseline", get_patch_baseline, resources=named_baseline, read_only=True),
    Operation("ssm", "UpdatePatchBaseline", update_patch_baseline, resources=named_baseline),
    Operation("ssm", "DeletePatchBaseline", delete_patch_baseline, resources=named_baseline),
    Operation("ssm", "DescribePatchBaselines", describe_patch_baselines, read_only=True),
    Operation("ssm", "RegisterDefaultPatchBaseline", register_default_patch_baseline, resources=named_baseline),
    Operation("ssm", "GetDefaultPatchBaseline", get_default_patch_baseline,
              resources=lambda ctx, p: [baseline_ref(ctx, _default(ctx, p).baseline_id)], read_only=True),
]
