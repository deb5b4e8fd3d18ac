"""Compliance (PutComplianceItems, ListComplianceItems, ListComplianceSummaries,
ListResourceComplianceSummaries): what each managed node reports per compliance type — `Association` (filled
by State Manager), `Patch` (Patch Manager) and the users' `Custom:*` types — with AWS's severities and statuses.

A COMPLETE upload replaces all of a node's items of the type (an empty one clears them); a PARTIAL upload
replaces only the items it names by Id. An upload whose ItemContentHash equals the last one changes nothing
but the execution summary. A node is NON_COMPLIANT for a type when any of its items is.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Connection

# Inventory's item errors, which PutComplianceItems answers with the same codes.
from openssm.services.inventory_model import InvalidItemContent as InvalidItemContent
from openssm.services.inventory_model import ItemSizeLimitExceeded as ItemSizeLimitExceeded
from openssm.services.inventory_model import TotalSizeLimitExceeded as TotalSizeLimitExceeded
from openssm.services.parameter_model import InvalidResourceType
from openssm.store.tables.compliance import compliance_items, compliance_uploads

RESOURCE_TYPE = "ManagedInstance"  # the only one AWS supports
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")  # most severe first
SEVERITY_FIELDS = {"CRITICAL": "CriticalCount", "HIGH": "HighCount", "MEDIUM": "MediumCount", "LOW": "LowCount",
                   "INFORMATIONAL": "InformationalCount", "UNSPECIFIED": "UnspecifiedCount"}
COMPLIANT, NON_COMPLIANT = "COMPLIANT", "NON_COMPLIANT"
MAX_ITEMS = 10_000
MAX_ITEM_BYTES = 800 * 1024
MAX_DETAILS = 25  # attributes an item's Details may hold


@dataclass(frozen=True)
class ExecutionSummary:
    execution_time: dt.datetime
    execution_id: str | None = None
    execution_type: str | None = "Command"


@dataclass(frozen=True)
class ItemInput:
    id: str | None
    title: str | None
    severity: str
    status: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ComplianceItem:
    compliance_type: str
    resource_type: str
    resource_id: str
    id: str | None
    title: str | None
    status: str
    severity: str
    summary: ExecutionSummary
    details: Mapping[str, str]


def check_resource_type(resource_type: str) -> None:
    if resource_type != RESOURCE_TYPE:
        raise InvalidResourceType(f"The resource type {resource_type} is not valid. The only supported resource "
                                  f"type is {RESOURCE_TYPE}.")


def put_items(conn: Connection, account_id: str, region: str, resource_id: str, resource_type: str,
              compliance_type: str, summary: ExecutionSummary, items: Sequence[ItemInput], now: dt.datetime, *,
              upload_type: str = "COMPLETE", item_content_hash: str | None = None) -> None:
    """Record an upload; the caller has checked that the resource exists."""
    check_resource_type(resource_type)
    _check_items(items, upload_type)
    scope = (account_id, region, resource_type, resource_id, compliance_type)
    where = _scope_of(compliance_uploads, scope)
    last = conn.execute(sa.select(compliance_uploads.c.content_hash).where(*where)).first()
    unchanged = item_content_hash is not None and last is not None and last.content_hash == item_content_hash
    values = {"execution_time": summary.execution_time, "execution_id": summary.execution_id,
              "execution_type": summary.execution_type, "content_hash": item_content_hash, "updated_at": now}
    if last is None:
        conn.execute(sa.insert(compliance_uploads).values(**_scope_values(scope), **values))
    else:
        conn.execute(sa.update(compliance_uploads).where(*where).values(values))
    if unchanged:
        return
    item_where = _scope_of(compliance_items, scope)
    if upload_type == "COMPLETE":
        conn.execute(sa.delete(compliance_items).where(*item_where))
    elif items:
        conn.execute(sa.delete(compliance_items).where(
            *item_where, compliance_items.c.item_key.in_([item.id for item in items])))
    rows = [{**_scope_values(scope), "item_key": item.id if item.id is not None else f"#{position}",
             "item_id": item.id, "title": item.title, "severity": item.severity, "status": item.status,
             "details": json.dumps(dict(item.details), sort_keys=True), "execution_time": summary.execution_time,
             "execution_id": summary.execution_id, "execution_type": summary.execution_type}
            for position, item in enumerate(_last_of_each_id(items))]
    if rows:
        conn.execute(sa.insert(compliance_items), rows)


def delete_resource(conn: Connection, account_id: str, region: str, resource_id: str) -> None:
    """A node's compliance goes with it (deregistration)."""
    for table in (compliance_items, compliance_uploads):
        conn.execute(sa.delete(table).where(table.c.account_id == account_id, table.c.region == region,
                                            table.c.resource_id == resource_id))


def items_of(conn: Connection, account_id: str, region: str, resource_ids: Sequence[str] = (),
             resource_types: Sequence[str] = (), compliance_types: Sequence[str] = ()) -> list[ComplianceItem]:
    c = compliance_items.c
    query = sa.select(compliance_items).where(c.account_id == account_id, c.region == region)
    if compliance_types:
        query = query.where(c.compliance_type.in_(list(compliance_types)))
    if resource_ids:
        query = query.where(c.resource_id.in_(list(resource_ids)))
    if resource_types:
        query = query.where(c.resource_type.in_(list(resource_types)))
    return [ComplianceItem(r.compliance_type, r.resource_type, r.resource_id, r.item_id, r.title, r.status,
                           r.severity, ExecutionSummary(r.execution_time, r.execution_id, r.execution_type),
                           json.loads(r.details))
            for r in conn.execute(query.order_by(c.resource_id, c.compliance_type, c.item_key))]


def uploads_of(conn: Connection, account_id: str, region: str) -> dict[tuple[str, str, str], ExecutionSummary]:
    """(resource type, resource id, compliance type) -> the last upload's execution summary."""
    c = compliance_uploads.c
    return {(r.resource_type, r.resource_id, r.compliance_type): ExecutionSummary(r.execution_time, r.execution_id,
                                                                                  r.execution_type)
            for r in conn.execute(sa.select(compliance_uploads).where(c.account_id == account_id,
                                                                      c.region == region))}


def most_severe(severities: Sequence[str]) -> str:
    return min(severities, key=SEVERITIES.index) if severities else "UNSPECIFIED"


def _check_items(items: Sequence[ItemInput], upload_type: str) -> None:
    if len(items) > MAX_ITEMS:
        raise TotalSizeLimitExceeded(f"The request holds {len(items)} items; at most {MAX_ITEMS} are allowed.")
    for item in items:
        if upload_type == "PARTIAL" and not item.id:
            raise InvalidItemContent("Every item of a PARTIAL upload must have an Id: it names the item to "
                                     "replace.")
        if len(item.details) > MAX_DETAILS:
            raise InvalidItemContent(f"An item's Details may hold at most {MAX_DETAILS} attributes; item "
                                     f"{item.id or item.title} has {len(item.details)}.")
        size = len(json.dumps({"Id": item.id, "Title": item.title, "Details": dict(item.details)}).encode())
        if size > MAX_ITEM_BYTES:
            raise ItemSizeLimitExceeded(f"Item {item.id or item.title} is {size} bytes; an item may be at most "
                                        f"{MAX_ITEM_BYTES} bytes.")


def _last_of_each_id(items: Sequence[ItemInput]) -> list[ItemInput]:
    """Items with the same Id name one item: the last one wins."""
    by_id: dict[str, ItemInput] = {}
    anonymous: list[ItemInput] = []
    for item in items:
        if item.id is None:
            anonymous.append(item)
        else:
            by_id.pop(item.id, None)
            by_id[item.id] = item
    return [*by_id.values(), *anonymous]


def _scope_values(scope: tuple[str, str, str, str, str]) -> dict[str, str]:
    return dict(zip(("account_id", "region", "resource_type", "resource_id", "compliance_type"), scope,
                    strict=True))


def _scope_of(table: sa.Table, scope: tuple[str, str, str, str, str]) -> list[sa.ColumnElement[bool]]:
    return [table.c[name] == value for name, value in _scope_values(scope).items()]
