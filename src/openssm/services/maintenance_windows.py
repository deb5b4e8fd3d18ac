"""Maintenance windows: CreateMaintenanceWindow, UpdateMaintenanceWindow, GetMaintenanceWindow,
DeleteMaintenanceWindow and DescribeMaintenanceWindows, and tags on windows.

A window keeps its next occurrence (`next_run_at`) for the scheduler (maintenance_windows_scheduler.py);
changing the schedule or enabling the window recomputes it from now; a disabled window has none.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services import maintenance_windows_rules as rules
from openssm.services.maintenance_windows_model import (
    MAX_WINDOWS,
    DoesNotExist,
    IdempotentParameterMismatch,
    ResourceLimitExceeded,
    Window,
    WindowSpec,
    window_arn,
)
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import ResourceTagStore, unknown_resource
from openssm.store.tables.maintenance_windows import windows

TAG_KIND = "MaintenanceWindow"
FILTER_KEYS = ("Name", "Enabled")


def _new_id() -> str:
    return "mw-" + secrets.token_hex(9)[:17]


def row(conn: Connection, account_id: str, region: str, window_id: str) -> sa.Row[tuple[object, ...]]:
    c = windows.c
    found = conn.execute(sa.select(windows).where(c.window_id == window_id, c.account_id == account_id,
                                                  c.region == region)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window {window_id} does not exist")
    return found


def add_member(conn: Connection, table: sa.Table, window_id: str, spec_json: str, client_token: str | None,
               limit: int, noun: str, values: Mapping[str, object]) -> str:
    """Register a target or task (`noun`) of a window: the same ClientToken with the same request answers the
    member it made (IdempotentParameterMismatch with another request); past `limit` members,
    ResourceLimitExceeded. `table`'s key column is window_<noun>_id."""
    c, id_column = table.c, f"window_{noun}_id"
    if client_token:
        earlier = conn.execute(sa.select(c[id_column], c.spec).where(
            c.window_id == window_id, c.client_token == client_token)).first()
        if earlier is not None:
            if earlier.spec != spec_json:
                raise IdempotentParameterMismatch(f"ClientToken {client_token} was already used to register a "
                                                  f"{noun} with different parameters.")
            return str(earlier[0])
    count = conn.execute(sa.select(sa.func.count()).select_from(table).where(c.window_id == window_id)).scalar_one()
    if count >= limit:
        raise ResourceLimitExceeded(f"Maximum number of {noun}s ({limit}) reached for maintenance window "
                                    f"{window_id}.")
    member_id = str(uuid.uuid4())
    conn.execute(sa.insert(table).values({id_column: member_id, "window_id": window_id, "spec": spec_json,
                                          "client_token": client_token, **values}))
    return member_id


def window_of(r: sa.Row[tuple[object, ...]]) -> Window:
    return Window(str(r.window_id), WindowSpec.from_json(str(r.spec)), r.created_at, r.updated_at, r.next_run_at)


def _next(spec: WindowSpec, now: dt.datetime, created_at: dt.datetime) -> dt.datetime | None:
    return rules.next_run(spec, now, created_at) if spec.enabled else None


def create(conn: Connection, account_id: str, region: str, spec: WindowSpec, tags: Mapping[str, str],
           client_token: str | None, now: dt.datetime) -> str:
    """A new window (or, for a ClientToken already used with the same settings, that window)."""
    rules.schedule_of(spec)
    c = windows.c
    if client_token:
        earlier = conn.execute(sa.select(c.window_id, c.spec).where(
            c.account_id == account_id, c.region == region, c.client_token == client_token)).first()
        if earlier is not None:
            if earlier.spec != spec.to_json():
                raise IdempotentParameterMismatch(f"ClientToken {client_token} was already used to create a "
                                                  "maintenance window with different parameters.")
            return str(earlier.window_id)
    count = conn.execute(sa.select(sa.func.count()).select_from(windows).where(
        c.account_id == account_id, c.region == region)).scalar_one()
    if count >= MAX_WINDOWS:
        raise ResourceLimitExceeded(f"Maximum number of maintenance windows ({MAX_WINDOWS}) reached in this account "
                                    "and Region.")
    window_id = _new_id()
    conn.execute(sa.insert(windows).values(
        window_id=window_id, account_id=account_id, region=region, name=spec.name, enabled=spec.enabled,
        spec=spec.to_json(), client_token=client_token, created_at=now, updated_at=now,
        next_run_at=_next(spec, now, now)))
    ResourceTagStore().add(conn, account_id, region, TAG_KIND, window_id, tags)
    return window_id


def update(conn: Connection, account_id: str, region: str, window_id: str, spec: WindowSpec,
           now: dt.datetime) -> Window:
    """New settings for the window; its next occurrence is computed again from now."""
    current = row(conn, account_id, region, window_id)
    rules.schedule_of(spec)
    conn.execute(sa.update(windows).where(windows.c.window_id == window_id).values(
        name=spec.name, enabled=spec.enabled, spec=spec.to_json(), updated_at=now,
        next_run_at=_next(spec, now, current.created_at)))
    return get(conn, account_id, region, window_id)


def get(conn: Connection, account_id: str, region: str, window_id: str) -> Window:
    return window_of(row(conn, account_id, region, window_id))


def delete(conn: Connection, account_id: str, region: str, window_id: str) -> None:
    """The window with its targets, tasks and executions (AWS answers a missing window's id all the same)."""
    c = windows.c
    conn.execute(sa.delete(windows).where(c.window_id == window_id, c.account_id == account_id, c.region == region))
    ResourceTagStore().drop(conn, account_id, region, TAG_KIND, window_id)


def describe(conn: Connection, account_id: str, region: str,
             filters: Sequence[tuple[str, Sequence[str]]]) -> list[Window]:
    """DescribeMaintenanceWindows: oldest first; a filter matches any of its values, every filter applies."""
    rules.check_filter_keys(filters, FILTER_KEYS)
    c = windows.c
    found = [window_of(r) for r in conn.execute(sa.select(windows).where(
        c.account_id == account_id, c.region == region).order_by(c.created_at, c.window_id))]
    return [w for w in found if all(_matches(w, k, v) for k, v in filters)]


def _matches(w: Window, key: str, values: Sequence[str]) -> bool:
    if key == "Name":
        return w.spec.name in values
    return str(w.spec.enabled).lower() in {v.lower() for v in values}


def wire_time(spec: WindowSpec, when: dt.datetime | None) -> str | None:
    """AWS's MaintenanceWindowStringDateTime for a run: minutes, in the window's time zone."""
    if when is None:
        return None
    local = when.astimezone(ZoneInfo(rules.zone(spec)))
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%dT%H:%M") + ("Z" if offset in ("+0000", "") else f"{offset[:3]}:{offset[3:]}")


class WindowTagTarget:
    """Makes windows taggable (AddTagsToResource with ResourceType MaintenanceWindow, by window id)."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        try:
            row(conn, scope.account_id, scope.region, resource_id)
        except DoesNotExist as err:
            raise unknown_resource() from err
        return resource_id

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return window_arn(scope.region, scope.account_id, resource_id)
