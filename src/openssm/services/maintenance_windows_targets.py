"""A window's targets: RegisterTargetWithMaintenanceWindow, UpdateMaintenanceWindowTarget,
DeregisterTargetFromMaintenanceWindow, DescribeMaintenanceWindowTargets; which managed nodes they name now
(read when a task starts, so tags changed since registration count); DescribeMaintenanceWindowsForTarget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import association_targets
from openssm.services import maintenance_windows as windows_service
from openssm.services import maintenance_windows_rules as rules
from openssm.services.maintenance_windows_model import (
    MAX_TARGETS,
    DoesNotExist,
    Target,
    TargetInUse,
    TargetSpec,
    TaskSpec,
    Window,
    WindowTarget,
)
from openssm.store.tables.maintenance_windows import window_targets, window_tasks

FILTER_KEYS = ("WindowTargetId", "Type", "OwnerInformation", "Name")


def register(conn: Connection, account_id: str, region: str, window_id: str, spec: TargetSpec,
             client_token: str | None, now: dt.datetime) -> str:
    windows_service.row(conn, account_id, region, window_id)
    rules.check_targets(spec.targets, spec.resource_type)
    return windows_service.add_member(conn, window_targets, window_id, spec.to_json(), client_token, MAX_TARGETS,
                                      "target", {"created_at": now})


def get(conn: Connection, account_id: str, region: str, window_id: str, target_id: str) -> WindowTarget:
    windows_service.row(conn, account_id, region, window_id)
    t = window_targets.c
    found = conn.execute(sa.select(window_targets).where(t.window_id == window_id,
                                                         t.window_target_id == target_id)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window target {target_id} does not exist in maintenance window "
                           f"{window_id}")
    return WindowTarget(window_id, target_id, TargetSpec.from_json(found.spec))


def update(conn: Connection, account_id: str, region: str, window_id: str, target_id: str,
           spec: TargetSpec) -> WindowTarget:
    get(conn, account_id, region, window_id, target_id)
    rules.check_targets(spec.targets, spec.resource_type)
    conn.execute(sa.update(window_targets).where(window_targets.c.window_target_id == target_id)
                 .values(spec=spec.to_json()))
    return WindowTarget(window_id, target_id, spec)


def deregister(conn: Connection, account_id: str, region: str, window_id: str, target_id: str, safe: bool) -> None:
    """With Safe, a target a task still names is kept (TargetInUseException), as AWS does."""
    get(conn, account_id, region, window_id, target_id)
    if safe:
        users = [r.window_task_id for r in conn.execute(sa.select(window_tasks.c.window_task_id, window_tasks.c.spec)
                                                        .where(window_tasks.c.window_id == window_id))
                 if any(t.key == "WindowTargetIds" and target_id in t.values
                        for t in TaskSpec.from_json(r.spec).targets)]
        if users:
            raise TargetInUse(f"Target {target_id} is in use by task(s) {', '.join(users)} of maintenance window "
                              f"{window_id}; deregister them first, or deregister with Safe set to false.")
    conn.execute(sa.delete(window_targets).where(window_targets.c.window_target_id == target_id))


def of_window(conn: Connection, window_id: str) -> list[WindowTarget]:
    t = window_targets.c
    return [WindowTarget(window_id, r.window_target_id, TargetSpec.from_json(r.spec)) for r in conn.execute(
        sa.select(window_targets).where(t.window_id == window_id).order_by(t.created_at, t.window_target_id))]


def describe(conn: Connection, account_id: str, region: str, window_id: str,
             filters: Sequence[tuple[str, Sequence[str]]]) -> list[WindowTarget]:
    windows_service.row(conn, account_id, region, window_id)
    rules.check_filter_keys(filters, FILTER_KEYS)
    fields = {"WindowTargetId": lambda w: w.window_target_id, "Type": lambda w: w.spec.resource_type,
              "OwnerInformation": lambda w: w.spec.owner_information, "Name": lambda w: w.spec.name}
    return [w for w in of_window(conn, window_id) if all(fields[k](w) in v for k, v in filters)]


def windows_for(conn: Connection, account_id: str, region: str, targets: Sequence[Target],
                now: dt.datetime) -> list[Window]:
    """DescribeMaintenanceWindowsForTarget: the windows with a registered target naming any of the nodes
    `targets` names (by id, or by the tags those nodes have now)."""
    if not targets:
        raise ValidationError("Targets must name the nodes to look for, by InstanceIds, tag:<key> or tag-key.")
    for target in targets:
        rules.check_target(target)
    nodes = [n for n in association_targets.fleet(conn, account_id, region, now)
             if association_targets.matches(targets, n)]
    wanted_ids = {v for t in targets if t.key == "InstanceIds" for v in t.values}
    found = []
    for w in windows_service.describe(conn, account_id, region, []):
        for registered in of_window(conn, w.window_id):
            named = {v for t in registered.spec.targets if t.key == "InstanceIds" for v in t.values}
            if named & wanted_ids or any(association_targets.matches(registered.spec.targets, n) for n in nodes):
                found.append(w)
                break
    return found

