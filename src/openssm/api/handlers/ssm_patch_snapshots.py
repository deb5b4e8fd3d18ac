"""Patch snapshots over JSON 1.1: GetDeployablePatchSnapshotForInstance, asked by a node's own agent (with the
node's credentials) at the start of AWS-RunPatchBaseline. The answer's SnapshotDownloadUrl points at this server
(api/patch_snapshots)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_patch_baselines import baseline_document, spec_changes
from openssm.api.operations import Operation, Params
from openssm.api.patch_snapshots import download_url
from openssm.errors import AccessDenied, ValidationError
from openssm.services import patch_baseline_rules as rules
from openssm.services import patch_baselines, patch_snapshots
from openssm.services.patch_baseline_model import BaselineSpec, InstanceBaseline, PatchBaseline
from openssm.services.patch_platforms import OperatingSystem
from openssm.services.patch_snapshots import Resolved


def get_deployable_patch_snapshot_for_instance(ctx: RequestContext, p: Params) -> dict[str, Any]:
    instance_id = p["InstanceId"]
    if ctx.caller.instance_id != instance_id:
        # AWS: run from anywhere but the node itself, with other credentials, "the operation fails".
        raise AccessDenied(f"User: {ctx.caller.arn} is not authorized to perform: "
                           f"ssm:GetDeployablePatchSnapshotForInstance on resource: arn:aws:ssm:{ctx.region}:"
                           f"{ctx.account_id}:managed-instance/{instance_id} because only the node itself may ask "
                           "for its patch snapshot")
    override = p.get("BaselineOverride") or None
    with ctx.container.db.begin() as conn:
        found = patch_baselines.baseline_for_instance(conn, ctx.account_id, ctx.region, instance_id, ctx.now)
        baseline = _overridden(ctx, found, override) if override else found.baseline
        document = baseline_document(baseline)
        resolved = Resolved(found.operating_system, found.product, found.patch_group, baseline.baseline_id,
                            document)
        snapshot = patch_snapshots.deploy(conn, ctx.account_id, ctx.region, instance_id, p["SnapshotId"], resolved,
                                          patch_snapshots.override_digest(override), ctx.now)
    return {"InstanceId": instance_id, "SnapshotId": snapshot.snapshot_id, "Product": snapshot.product,
            "SnapshotDownloadUrl": download_url(ctx, snapshot)}


def _overridden(ctx: RequestContext, found: InstanceBaseline, raw: Mapping[str, Any]) -> PatchBaseline:
    """The node's baseline with the override's settings in place of its own, checked as CreatePatchBaseline checks
    a baseline. It keeps the id and name of the baseline it replaces (an override has neither), so the node's
    reports still name a baseline."""
    os_name = raw.get("OperatingSystem") or found.operating_system
    if os_name != found.operating_system:
        # AWS's payload sends the override whose OperatingSystem is the node's; another one is refused here.
        raise ValidationError(f"The BaselineOverride is for {os_name}, but the managed node runs "
                              f"{found.operating_system}.")
    changes = {k: v for k, v in spec_changes(dict(raw)).items() if k not in ("name", "description")}
    spec = BaselineSpec(**{**BaselineSpec(name=found.baseline.spec.name,
                                          operating_system=OperatingSystem(os_name)).__dict__, **changes,
                           "description": f"BaselineOverride of {found.baseline.baseline_id}"})
    rules.check(spec)
    return PatchBaseline(found.baseline.baseline_id, found.baseline.account_id, ctx.region, spec, ctx.now, ctx.now,
                         owner=found.baseline.owner)


OPERATIONS = [
    # The service authorization reference names no resource for this action ("*").
    Operation("ssm", "GetDeployablePatchSnapshotForInstance", get_deployable_patch_snapshot_for_instance),
]
