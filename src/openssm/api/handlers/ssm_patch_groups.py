"""Patch groups and patch properties over JSON 1.1: RegisterPatchBaselineForPatchGroup,
DeregisterPatchBaselineForPatchGroup, GetPatchBaselineForPatchGroup, DescribePatchGroups,
DescribePatchProperties."""

from __future__ import annotations

from typing import Any, cast

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, without_nones
from openssm.api.handlers.ssm_patch_baselines import baseline_ref, filter_pairs, identity_out, named_baseline
from openssm.api.operations import Operation, Params
from openssm.services import patch_baseline_groups, patch_baselines, patch_properties
from openssm.services.patch_baseline_model import PatchBaseline
from openssm.services.patch_platforms import DEFAULT_OS, OperatingSystem

GROUPS_PAGE = 100
PROPERTIES_PAGE = 50


def register_patch_baseline_for_patch_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        baseline_id = patch_baseline_groups.register(conn, ctx.account_id, ctx.region, p["BaselineId"],
                                                     p["PatchGroup"], ctx.now)
    return {"BaselineId": baseline_id, "PatchGroup": p["PatchGroup"]}


def deregister_patch_baseline_for_patch_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        baseline_id = patch_baseline_groups.deregister(conn, ctx.account_id, ctx.region, p["BaselineId"],
                                                       p["PatchGroup"])
    return {"BaselineId": baseline_id, "PatchGroup": p["PatchGroup"]}


def _group_baseline(ctx: RequestContext, p: Params) -> PatchBaseline:
    """The group's baseline, resolved once per request (authorization needs it before the handler)."""
    if "baseline" not in ctx.memo:
        os_name = OperatingSystem(p.get("OperatingSystem") or DEFAULT_OS)
        with ctx.container.db.read() as conn:
            ctx.memo["baseline"] = patch_baselines.baseline_for_group(conn, ctx.account_id, ctx.region,
                                                                            p["PatchGroup"], os_name)
    return cast(PatchBaseline, ctx.memo["baseline"])


def get_patch_baseline_for_patch_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    baseline = _group_baseline(ctx, p)
    return {"BaselineId": baseline.baseline_id, "PatchGroup": p["PatchGroup"],
            "OperatingSystem": baseline.spec.operating_system.value}


def describe_patch_groups(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = patch_baseline_groups.describe(conn, ctx.account_id, ctx.region, filter_pairs(p))
    page, token = paginate(p, found, GROUPS_PAGE)
    return without_nones({"Mappings": [{"PatchGroup": m.patch_group, "BaselineIdentity": identity_out(m.baseline)}
                                       for m in page], "NextToken": token})


def describe_patch_properties(ctx: RequestContext, p: Params) -> dict[str, Any]:
    found = patch_properties.properties(OperatingSystem(p["OperatingSystem"]), p["Property"], p.get("PatchSet"))
    page, token = paginate(p, found, PROPERTIES_PAGE)
    return without_nones({"Properties": list(page), "NextToken": token})


OPERATIONS = [
    Operation("ssm", "RegisterPatchBaselineForPatchGroup", register_patch_baseline_for_patch_group,
              resources=named_baseline),
    Operation("ssm", "DeregisterPatchBaselineForPatchGroup", deregister_patch_baseline_for_patch_group,
              resources=named_baseline),
    Operation("ssm", "GetPatchBaselineForPatchGroup", get_patch_baseline_for_patch_group,
              resources=lambda ctx, p: [baseline_ref(ctx, _group_baseline(ctx, p).baseline_id)], read_only=True),
    Operation("ssm", "DescribePatchGroups", describe_patch_groups, read_only=True),
    Operation("ssm", "DescribePatchProperties", describe_patch_properties, read_only=True),
]
