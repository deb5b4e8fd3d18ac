"""Maintenance windows over JSON 1.1: CreateMaintenanceWindow, UpdateMaintenanceWindow, GetMaintenanceWindow,
DeleteMaintenanceWindow, DescribeMaintenanceWindows, DescribeMaintenanceWindowSchedule and
DescribeMaintenanceWindowsForTarget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, request_tags_condition, tag_map, without_nones
from openssm.api.handlers.ssm_maintenance_window_common import (
    PAGE,
    filters_from,
    targets_from,
    window_ref,
    window_resource,
)
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.services import maintenance_windows, maintenance_windows_schedule, maintenance_windows_targets
from openssm.services.maintenance_windows import wire_time
from openssm.services.maintenance_windows_model import Window, WindowSpec

# Wire member -> WindowSpec field, for UpdateMaintenanceWindow's merge.
_MEMBERS = {"Name": "name", "Schedule": "schedule", "Duration": "duration", "Cutoff": "cutoff",
            "AllowUnassociatedTargets": "allow_unassociated_targets", "Description": "description",
            "StartDate": "start_date", "EndDate": "end_date", "ScheduleTimezone": "schedule_timezone",
            "ScheduleOffset": "schedule_offset", "Enabled": "enabled"}
_REQUIRED = ("Name", "Schedule", "Duration", "Cutoff", "AllowUnassociatedTargets")


def _spec(p: Params) -> WindowSpec:
    return WindowSpec(**{field: p[member] for member, field in _MEMBERS.items() if p.get(member) is not None})


def window_out(w: Window) -> dict[str, Any]:
    s = w.spec
    return without_nones({
        "WindowId": w.window_id, "Name": s.name, "Description": s.description, "StartDate": s.start_date,
        "EndDate": s.end_date, "Schedule": s.schedule, "ScheduleTimezone": s.schedule_timezone,
        "ScheduleOffset": s.schedule_offset, "NextExecutionTime": wire_time(s, w.next_run_at),
        "Duration": s.duration, "Cutoff": s.cutoff, "AllowUnassociatedTargets": s.allow_unassociated_targets,
        "Enabled": s.enabled, "CreatedDate": w.created_at, "ModifiedDate": w.updated_at})


def create_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        window_id = maintenance_windows.create(conn, ctx.account_id, ctx.region, _spec(p), tag_map(p.get("Tags")),
                                               p.get("ClientToken"), ctx.now)
    return {"WindowId": window_id}


def _merged(current: WindowSpec, p: Params) -> WindowSpec:
    """UpdateMaintenanceWindow: the members given replace the current ones; with Replace, those left out are
    reset (and CreateMaintenanceWindow's required members must all be given), as AWS documents."""
    if p.get("Replace"):
        missing = [m for m in _REQUIRED if p.get(m) is None]
        if missing:
            raise ValidationError(f"When Replace is true, every member CreateMaintenanceWindow requires must be "
                                  f"specified; missing: {', '.join(missing)}.")
        return _spec({**p, "Enabled": p.get("Enabled", current.enabled)})
    kept = {member: getattr(current, field) for member, field in _MEMBERS.items()}
    return _spec({**kept, **{k: v for k, v in p.items() if v is not None}})


def update_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        current = maintenance_windows.get(conn, ctx.account_id, ctx.region, p["WindowId"])
        updated = maintenance_windows.update(conn, ctx.account_id, ctx.region, p["WindowId"],
                                             _merged(current.spec, p), ctx.now)
    out = window_out(updated)
    return {k: v for k, v in out.items() if k not in ("NextExecutionTime", "CreatedDate", "ModifiedDate")}


def get_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        return window_out(maintenance_windows.get(conn, ctx.account_id, ctx.region, p["WindowId"]))


def delete_maintenance_window(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        maintenance_windows.delete(conn, ctx.account_id, ctx.region, p["WindowId"])
    return {"WindowId": p["WindowId"]}


_IDENTITY = ("WindowId", "Name", "Description", "Enabled", "Duration", "Cutoff", "Schedule", "ScheduleTimezone",
             "ScheduleOffset", "EndDate", "StartDate", "NextExecutionTime")


def describe_maintenance_windows(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = maintenance_windows.describe(conn, ctx.account_id, ctx.region, filters_from(p))
    page, token = paginate(p, found, PAGE)
    return without_nones({"WindowIdentities": [{k: v for k, v in window_out(w).items() if k in _IDENTITY}
                                               for w in page], "NextToken": token})


def _instance_targets(p: Params) -> list[Any]:
    if p.get("ResourceType") == "RESOURCE_GROUP":
        raise ValidationError("ResourceType RESOURCE_GROUP is not supported: OpenSSM has no resource groups.")
    return list(targets_from(p.get("Targets")))


def describe_maintenance_window_schedule(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p.get("Filters"):
        raise ValidationError("Filters are not supported by OpenSSM's DescribeMaintenanceWindowSchedule; page "
                              "through the runs instead.")
    if bool(p.get("WindowId")) == bool(p.get("Targets")):
        raise ValidationError("Specify either WindowId or Targets (with ResourceType).")
    targets = _instance_targets(p)
    with ctx.container.db.read() as conn:
        runs = maintenance_windows_schedule.schedule(conn, ctx.account_id, ctx.region, p.get("WindowId"), targets,
                                                     ctx.now, maintenance_windows_schedule.MAX_LISTED)
    page, token = paginate(p, runs, PAGE)
    return without_nones({"ScheduledWindowExecutions": [
        {"WindowId": r.window.window_id, "Name": r.window.spec.name, "ExecutionTime": wire_time(r.window.spec, r.at)}
        for r in page], "NextToken": token})


def describe_maintenance_windows_for_target(ctx: RequestContext, p: Params) -> dict[str, Any]:
    targets = _instance_targets(p)
    with ctx.container.db.read() as conn:
        found = maintenance_windows_targets.windows_for(conn, ctx.account_id, ctx.region, targets, ctx.now)
    page, token = paginate(p, found, PAGE)
    return without_nones({"WindowIdentities": [{"WindowId": w.window_id, "Name": w.spec.name} for w in page],
                          "NextToken": token})


def _create_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    # A window that does not exist yet: its ARN with the id wildcarded, as AWS authorizes creation.
    return [ResourceRef(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:maintenancewindow/*")]


def _schedule_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [window_ref(ctx, p["WindowId"])] if p.get("WindowId") else [ResourceRef("*")]


OPERATIONS = [
    Operation("ssm", "CreateMaintenanceWindow", create_maintenance_window, resources=_create_resources,
              condition_keys=request_tags_condition),
    Operation("ssm", "UpdateMaintenanceWindow", update_maintenance_window, resources=window_resource),
    Operation("ssm", "GetMaintenanceWindow", get_maintenance_window, resources=window_resource, read_only=True),
    Operation("ssm", "DeleteMaintenanceWindow", delete_maintenance_window, resources=window_resource),
    Operation("ssm", "DescribeMaintenanceWindows", describe_maintenance_windows, read_only=True),
    Operation("ssm", "DescribeMaintenanceWindowSchedule", describe_maintenance_window_schedule,
              resources=_schedule_resources, read_only=True),
    Operation("ssm", "DescribeMaintenanceWindowsForTarget", describe_maintenance_windows_for_target,
              read_only=True),
]
