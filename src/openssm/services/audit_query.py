"""Reading the audit trail: CloudTrail's LookupEvents, the chain for verification, a key's last use."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Row, and_, false, func, literal, or_, select

from openssm.errors import AwsError
from openssm.services.audit_chain import ChainHead, ChainRow, EventRecord
from openssm.store.tables.audit import audit_events, audit_head


class InvalidLookupAttributes(AwsError):
    code = "InvalidLookupAttributesException"


class InvalidTimeRange(AwsError):
    code = "InvalidTimeRangeException"


class InvalidNextToken(AwsError):
    code = "InvalidNextTokenException"


_EXACT = {
    "EventId": audit_events.c.event_id, "EventName": audit_events.c.event_name,
    "Username": audit_events.c.username, "EventSource": audit_events.c.event_source,
    "AccessKeyId": audit_events.c.access_key_id, "ResourceType": audit_events.c.resource_type,
}


@dataclass(frozen=True)
class StoredEvent:
    seq: int
    record: EventRecord


@dataclass(frozen=True)
class LookupPage:
    events: list[StoredEvent]
    next_token: str | None


def lookup(conn: Connection, account_id: str, attributes: Sequence[tuple[str, str]], start: dt.datetime | None,
           end: dt.datetime | None, max_results: int = 50, token: str | None = None) -> LookupPage:
    """One page of the account's events, newest first; AWS allows at most one lookup attribute."""
    if len(attributes) > 1:
        raise InvalidLookupAttributes("You cannot specify more than one lookup attribute.")
    if start and end and start > end:
        raise InvalidTimeRange("Start time must be earlier than or equal to end time.")
    query = select(audit_events).where(audit_events.c.account_id == account_id)
    for key, value in attributes:
        query = query.where(_condition(conn, key, value))
    if start:
        query = query.where(audit_events.c.event_time >= start)
    if end:
        query = query.where(audit_events.c.event_time <= end)
    scope = _scope(account_id, attributes, start, end)
    if token:
        query = query.where(_after(_decode_token(token, scope)))
    order = (audit_events.c.event_time.desc(), audit_events.c.seq.desc())
    rows = conn.execute(query.order_by(*order).limit(max_results + 1)).all()
    events = [StoredEvent(r.seq, _record(r)) for r in rows[:max_results]]
    more = len(rows) > max_results
    return LookupPage(events, _encode_token(events[-1], scope) if more else None)


def _condition(conn: Connection, key: str, value: str) -> ColumnElement[bool]:
    if key == "ReadOnly":
        if value.lower() not in ("true", "false"):
            raise InvalidLookupAttributes(f"Invalid value for ReadOnly: {value}. Valid values are true and false.")
        return audit_events.c.read_only == (value.lower() == "true")
    if key == "ResourceName":
        if "\n" in value:
            return false()
        # Names are stored newline-separated; a whole, case-sensitive name must match (LIKE ignores case
        # on SQLite), hence instr/strpos over the delimited list.
        position = func.strpos if conn.dialect.name == "postgresql" else func.instr
        haystack = literal("\n") + audit_events.c.resource_names + literal("\n")
        return position(haystack, "\n" + value + "\n") > 0
    column = _EXACT.get(key)
    if column is None:
        raise InvalidLookupAttributes(f"Invalid attribute key: {key}")
    return column == value


def _scope(account_id: str, attributes: Sequence[tuple[str, str]], start: dt.datetime | None,
           end: dt.datetime | None) -> str:
    """A digest of the query a token belongs to: AWS refuses a token used with different parameters."""
    text = json.dumps([account_id, list(attributes), start and start.isoformat(), end and end.isoformat()])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _encode_token(last: StoredEvent, scope: str) -> str:
    text = f"{int(last.record.event_time.timestamp())}:{last.seq}:{scope}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_token(token: str, scope: str) -> tuple[dt.datetime, int]:
    try:
        seconds, seq, token_scope = base64.urlsafe_b64decode(token.encode()).decode().split(":")
        position = dt.datetime.fromtimestamp(int(seconds), dt.UTC), int(seq)
    except (ValueError, UnicodeError, binascii.Error, OverflowError, OSError) as err:
        raise InvalidNextToken("Invalid NextToken.") from err
    if token_scope != scope:
        raise InvalidNextToken("The NextToken was issued for a request with different parameters.")
    return position


def _after(position: tuple[dt.datetime, int]) -> ColumnElement[bool]:
    when, seq = position
    return or_(audit_events.c.event_time < when, and_(audit_events.c.event_time == when, audit_events.c.seq < seq))


def _record(r: Row[tuple[object, ...]]) -> EventRecord:
    m = r._mapping
    names = str(m["resource_names"] or "")
    return EventRecord(
        event_id=m["event_id"], account_id=m["account_id"], event_time=m["event_time"],
        event_source=m["event_source"], event_name=m["event_name"], username=m["username"],
        access_key_id=m["access_key_id"], read_only=bool(m["read_only"]), resource_type=m["resource_type"],
        resource_names=tuple(n for n in names.split("\n") if n), error_code=m["error_code"],
        event_json=m["event_json"])


def iter_chain(conn: Connection, batch: int = 2000) -> Iterator[ChainRow]:
    """Every record in sequence order, streamed (a trail can be far larger than memory)."""
    result = conn.execution_options(yield_per=batch).execute(select(audit_events).order_by(audit_events.c.seq))
    for r in result:
        yield ChainRow(r.seq, _record(r), r.prev_hash, r.hash)


def read_head(conn: Connection) -> ChainHead | None:
    row = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()
    return None if row is None else ChainHead(int(row.seq), row.hash, row.mac)


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
