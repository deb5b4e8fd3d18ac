"""DeleteInventory and DescribeInventoryDeletions: a custom type's data deleted (and its schema disabled or
deleted), with AWS's summary per schema version. The deletion is done within the call, so its record reads
Complete at once; the call's own summary still says what there was to delete, as AWS's does ("TotalCount and
RemainingCount are always the same because the system hasn't deleted anything yet")."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services import inventory_counts
from openssm.services.inventory_model import (
    InvalidDeleteParameters,
    InvalidDeletionId,
    InvalidTypeName,
    Page,
)
from openssm.services.inventory_rules import CUSTOM_PREFIX
from openssm.services.inventory_schemas import custom_schemas, drop_custom
from openssm.services.inventory_types import version_key
from openssm.store.tables.inventory import inventory_deletions, inventory_entries, inventory_items

COMPLETE, IN_PROGRESS = "Complete", "InProgress"
DONE_MESSAGE = "Deletion is successful"  # AWS's LastStatusMessage for a finished deletion


@dataclass(frozen=True)
class VersionCount:
    version: str
    count: int
    remaining: int


@dataclass(frozen=True)
class Summary:
    total: int
    remaining: int
    versions: tuple[VersionCount, ...]


@dataclass(frozen=True)
class Deletion:
    deletion_id: str | None  # None for a dry run
    type_name: str
    summary: Summary
    started_at: dt.datetime | None = None
    status: str = COMPLETE
    status_message: str = DONE_MESSAGE
    status_updated_at: dt.datetime | None = None


def delete(conn: Connection, account_id: str, region: str, type_name: str, option: str | None, dry_run: bool,
           client_token: str | None, now: dt.datetime) -> Deletion:
    """DeleteInventory: `option` is None (data only), DisableSchema or DeleteSchema."""
    if not type_name.startswith(CUSTOM_PREFIX):
        raise InvalidTypeName(f"{type_name} is not a custom inventory type; only Custom: types can be deleted.")
    if client_token and not dry_run:
        earlier = _by_token(conn, account_id, region, client_token)
        if earlier is not None:
            if earlier.type_name != type_name:
                raise InvalidDeleteParameters(f"The ClientToken {client_token} was already used to delete "
                                              f"{earlier.type_name}.")
            return Deletion(earlier.deletion_id, type_name, _as_started(earlier.summary))
    if type_name not in custom_schemas(conn, account_id, region):
        raise InvalidTypeName(f"The custom inventory type {type_name} does not exist.")
    found = _summary(conn, account_id, region, type_name)
    if dry_run:
        return Deletion(None, type_name, found)
    c, e = inventory_items.c, inventory_entries.c
    conn.execute(sa.delete(inventory_entries).where(e.account_id == account_id, e.region == region,
                                                    e.type_name == type_name))
    conn.execute(sa.delete(inventory_items).where(c.account_id == account_id, c.region == region,
                                                  c.type_name == type_name))
    inventory_counts.forget(conn, account_id, region, type_name)
    if option is not None:
        drop_custom(conn, account_id, region, type_name, disable=option == "DisableSchema")
    deletion_id = str(uuid.uuid4())
    done = Summary(found.total, 0, tuple(VersionCount(v.version, v.count, 0) for v in found.versions))
    conn.execute(sa.insert(inventory_deletions).values(
        deletion_id=deletion_id, account_id=account_id, region=region, type_name=type_name,
        schema_delete_option=option, client_token=client_token, started_at=now, status=COMPLETE,
        status_message=DONE_MESSAGE, status_updated_at=now, summary=_dump(done)))
    return Deletion(deletion_id, type_name, found, now)


def describe(conn: Connection, account_id: str, region: str, deletion_id: str | None, offset: int,
             size: int) -> Page[Deletion]:
    """DescribeInventoryDeletions: one deletion, or those of the last 30 days, newest first."""
    d = inventory_deletions.c
    query = sa.select(inventory_deletions).where(d.account_id == account_id, d.region == region)
    if deletion_id is not None:
        query = query.where(d.deletion_id == deletion_id)
    rows = conn.execute(query.order_by(d.started_at.desc(), d.deletion_id).offset(offset).limit(size + 1)).all()
    if deletion_id is not None and not rows:
        raise InvalidDeletionId(f"The deletion ID {deletion_id} doesn't exist or isn't valid.")
    found = tuple(Deletion(r.deletion_id, r.type_name, _load(r.summary), r.started_at, r.status, r.status_message,
                           r.status_updated_at) for r in rows[:size])
    return Page(found, offset + size if len(rows) > size else None)


def _summary(conn: Connection, account_id: str, region: str, type_name: str) -> Summary:
    c = inventory_items.c
    counts = {r.schema_version: r.n for r in conn.execute(
        sa.select(c.schema_version, sa.func.count().label("n")).where(
            c.account_id == account_id, c.region == region, c.type_name == type_name).group_by(c.schema_version))}
    versions = tuple(VersionCount(v, counts[v], counts[v]) for v in sorted(counts, key=version_key))
    total = sum(counts.values())
    return Summary(total, total, versions)


def _by_token(conn: Connection, account_id: str, region: str, token: str) -> Deletion | None:
    d = inventory_deletions.c
    row = conn.execute(sa.select(inventory_deletions).where(d.account_id == account_id, d.region == region,
                                                            d.client_token == token)).first()
    return None if row is None else Deletion(row.deletion_id, row.type_name, _load(row.summary), row.started_at)


def _as_started(summary: Summary) -> Summary:
    """A repeated call answers as the first one did: everything still to delete."""
    return Summary(summary.total, summary.total, tuple(VersionCount(v.version, v.count, v.count)
                                                       for v in summary.versions))


def _dump(summary: Summary) -> str:
    return json.dumps({"total": summary.total, "remaining": summary.remaining,
                       "versions": [[v.version, v.count, v.remaining] for v in summary.versions]})


def _load(text: str) -> Summary:
    raw = json.loads(text)
    return Summary(raw["total"], raw["remaining"], tuple(VersionCount(*v) for v in raw["versions"]))
