"""Reading the audit trail: CloudTrail's LookupEvents (one attribute, a time range, newest first)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select

from openssm.errors import AwsError
from openssm.services.audit_chain import ChainRow
from openssm.store.tables.audit import audit_events


class InvalidLookupAttributes(AwsError):
    code = "InvalidLookupAttributesException"


class InvalidTimeRange(AwsError):
    code = "InvalidTimeRangeException"


class InvalidNextToken(AwsError):
    code = "InvalidNextTokenException"


_ATTRIBUTES = {
    "EventId": audit_events.c.event_id, "EventName": audit_events.c.event_name,
    "Username": audit_events.c.username, "EventSource": audit_events.c.event_source,
    "AccessKeyId": audit_events.c.access_key_id, "ResourceType": audit_events.c.resource_type,
}


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    event_id: str
    event_name: str
    event_time: dt.datetime
    event_source: str
    username: str | None
    access_key_id: str | None
    read_only: bool
    resource_type: str | None
    resource_names: tuple[str, ...]
    event_json: str


def _condition(key: str, value: str) -> ColumnElement[bool]:
    if key == "ReadOnly":
        return audit_events.c.read_only == (value.lower() == "true")
    if key == "ResourceName":
        return audit_events.c.resource_names.contains(value)
    column = _ATTRIBUTES.get(key)
    if column is None:
        raise InvalidLookupAttributes(f"Invalid attribute key: {key}")
    return column == value


def lookup(conn: Connection, account_id: str, attributes: list[tuple[str, str]], start: dt.datetime | None,
           end: dt.datetime | None, max_results: int, token: str | None) -> tuple[list[StoredEvent], str | None]:
    if len(attributes) > 1:
        raise InvalidLookupAttributes("You cannot use more than one lookup attribute at a time.")
    if start and end and start > end:
        raise InvalidTimeRange("Start date is after end date.")
    query = select(audit_events).where(audit_events.c.account_id == account_id)
    for key, value in attributes:
        query = query.where(_condition(key, value))
    if start:
        query = query.where(audit_events.c.event_time >= start)
    if end:
        query = query.where(audit_events.c.event_time <= end)
    if token:
        try:
            before = int(base64.urlsafe_b64decode(token.encode()).decode())
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidNextToken("Invalid NextToken.") from err
        query = query.where(audit_events.c.seq < before)
    rows = conn.execute(query.order_by(audit_events.c.seq.desc()).limit(max_results + 1)).all()
    events = [StoredEvent(r.seq, r.event_id, r.event_name, r.event_time, r.event_source, r.username,
                          r.access_key_id, r.read_only, r.resource_type,
                          tuple(x for x in r.resource_names.split("\n") if x), r.event_json)
              for r in rows[:max_results]]
    next_token = None
    if len(rows) > max_results:
        next_token = base64.urlsafe_b64encode(str(events[-1].seq).encode()).decode()
    return events, next_token


def chain_rows(conn: Connection) -> list[ChainRow]:
    rows = conn.execute(select(audit_events.c.seq, audit_events.c.event_json, audit_events.c.prev_hash,
                               audit_events.c.hash).order_by(audit_events.c.seq))
    return [ChainRow(r.seq, r.event_json, r.prev_hash, r.hash) for r in rows]



@dataclass(frozen=True)
class KeyUse:
    when: dt.datetime
    service: str
    region: str


def last_successful_use(conn: Connection, access_key_id: str) -> KeyUse | None:
    """When, where and for what service a key last made a call that succeeded (GetAccessKeyLastUsed)."""
    row = conn.execute(select(audit_events.c.event_time, audit_events.c.event_source, audit_events.c.event_json)
                       .where(audit_events.c.access_key_id == access_key_id, audit_events.c.error_code.is_(None))
                       .order_by(audit_events.c.seq.desc()).limit(1)).first()
    if row is None:
        return None
    region = str(json.loads(row.event_json).get("awsRegion") or "N/A")
    return KeyUse(row.event_time, row.event_source.removesuffix(".amazonaws.com"), region)
