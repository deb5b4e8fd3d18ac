"""Session Manager's sessions as the API sees them: started (StartSession), resumed with a new data-channel
token (ResumeSession), ended (TerminateSession, or by the node), and listed (DescribeSessions: Active or
History, with AWS's filters).

A session's id is its owner's name and 17 hex digits, as AWS forms them ("Jane-Roe-07a16060613c408b5"); its
token is shown once and only its SHA-256 is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError
from openssm.services.instance_filters import InvalidFilterKey
from openssm.store.tables.sessions import sessions

ACTIVE = ("Connecting", "Connected", "Disconnected", "Terminating")
HISTORY = ("Terminated", "Failed")
FILTER_KEYS = ("InvokedAfter", "InvokedBefore", "Target", "Owner", "Status", "SessionId")
_NAME = re.compile(r"[^A-Za-z0-9._-]")
_HISTORY_DAYS = 30  # AWS keeps a terminated session listed for 30 days
# A node is sent a session's task while the session waits for it; one that never answers stops being asked.
CONNECT_WINDOW = dt.timedelta(minutes=2)


class DoesNotExist(AwsError):
    code = "DoesNotExistException"


@dataclass(frozen=True)
class Session:
    session_id: str
    target: str
    status: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    document_name: str
    owner: str
    reason: str
    details: str
    max_duration_minutes: int | None
    parameters: Mapping[str, Sequence[str]]
    session_type: str = ""
    run_as_user: str = ""
    document_content: Mapping[str, Any] = field(default_factory=dict)  # the Session document, as started
    account_id: str = ""
    region: str = ""


@dataclass(frozen=True)
class SessionPlan:
    """What StartSession settled before the session exists: the document and how the node runs it."""

    document_name: str
    document_content: Mapping[str, Any]
    session_type: str
    parameters: Mapping[str, Sequence[str]]
    run_as_user: str = ""
    max_duration_minutes: int | None = None


@dataclass(frozen=True)
class SessionFilter:
    key: str
    value: str


def session_id_for(owner_arn: str) -> str:
    """The owner's name (an IAM user's name, an assumed role's session name; "root" for an account's root)
    and 17 random hex digits."""
    resource = owner_arn.split(":", 5)[-1]
    name = "root" if resource == "root" else resource.rsplit("/", 1)[-1]
    return f"{_NAME.sub('-', name)[:78]}-{secrets.token_hex(9)[:17]}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn: Connection, account_id: str, region: str, owner: str, target: str, plan: SessionPlan, reason: str,
          now: dt.datetime) -> tuple[Session, str]:
    """A new session, Connecting until a data channel joins it; answers it and its token."""
    session_id, token = session_id_for(owner), secrets.token_urlsafe(48)
    conn.execute(sa.insert(sessions).values(
        session_id=session_id, account_id=account_id, region=region, target=target,
        document_name=plan.document_name,
        parameters=json.dumps({k: list(v) for k, v in plan.parameters.items()}), owner=owner, reason=reason,
        status="Connecting", details="", started_at=now, max_duration_minutes=plan.max_duration_minutes,
        token_digest=_digest(token), task_content=json.dumps(dict(plan.document_content)),
        run_as_user=plan.run_as_user, session_type=plan.session_type))
    return get(conn, account_id, region, session_id), token


def get(conn: Connection, account_id: str, region: str, session_id: str) -> Session:
    row = conn.execute(sa.select(sessions).where(sessions.c.session_id == session_id,
                                                 sessions.c.account_id == account_id,
                                                 sessions.c.region == region)).first()
    if row is None:
        raise DoesNotExist(f"Session with id {session_id} not found.")
    return _session(row)


def token_valid(conn: Connection, session_id: str, token: str) -> bool:
    """Whether `token` opens the session's data channel now (an ended session's never does)."""
    row = conn.execute(sa.select(sessions.c.token_digest, sessions.c.status).where(
        sessions.c.session_id == session_id)).first()
    return row is not None and row.status in ACTIVE and hmac.compare_digest(row.token_digest, _digest(token))


def resume(conn: Connection, account_id: str, region: str, session_id: str) -> tuple[Session, str]:
    """ResumeSession: a new token for a session still active (the old one stops working)."""
    session = get(conn, account_id, region, session_id)
    if session.status not in ACTIVE:
        raise DoesNotExist(f"Session with id {session_id} has ended and cannot be resumed.")
    token = secrets.token_urlsafe(48)
    conn.execute(sa.update(sessions).where(sessions.c.session_id == session_id).values(token_digest=_digest(token)))
    return session, token


def set_status(conn: Connection, session_id: str, status: str, now: dt.datetime, details: str = "") -> None:
    """A data channel joined or left, or the node ended the session; an ended session stays ended."""
    values: dict[str, object] = {"status": status, "details": details}
    if status in HISTORY:
        values["ended_at"] = now
    conn.execute(sa.update(sessions).where(sessions.c.session_id == session_id,
                                           sessions.c.status.in_(ACTIVE)).values(values))


def terminate(conn: Connection, account_id: str, region: str, session_id: str, now: dt.datetime) -> Session:
    """TerminateSession: ended for good; terminating an ended session again is not an error (as on AWS)."""
    get(conn, account_id, region, session_id)
    set_status(conn, session_id, "Terminated", now)
    return get(conn, account_id, region, session_id)


def describe(conn: Connection, account_id: str, region: str, state: str, filters: Sequence[SessionFilter],
             now: dt.datetime) -> list[Session]:
    """DescribeSessions: the Active sessions, or the History of the last 30 days, newest first."""
    c = sessions.c
    query = sa.select(sessions).where(c.account_id == account_id, c.region == region,
                                      c.status.in_(ACTIVE if state == "Active" else HISTORY))
    if state != "Active":
        query = query.where(c.ended_at >= now - dt.timedelta(days=_HISTORY_DAYS))
    for f in filters:
        query = query.where(_condition(f))
    return [_session(r) for r in conn.execute(query.order_by(c.started_at.desc(), c.session_id))]


def _condition(f: SessionFilter) -> sa.ColumnElement[bool]:
    c = sessions.c
    if f.key in ("InvokedAfter", "InvokedBefore"):
        try:
            when = dt.datetime.fromisoformat(f.value.replace("Z", "+00:00"))
        except ValueError as err:
            raise InvalidFilterKey(f"The value of filter {f.key} must be a date such as 2018-08-29T00:00:00Z.") \
                from err
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return c.started_at >= when if f.key == "InvokedAfter" else c.started_at <= when
    column = {"Target": c.target, "Owner": c.owner, "Status": c.status, "SessionId": c.session_id}.get(f.key)
    if column is None:
        raise InvalidFilterKey(f"The filter key {f.key} is not valid; use one of {', '.join(FILTER_KEYS)}.")
    return column == f.value


def awaiting(conn: Connection, target: str, now: dt.datetime) -> list[Session]:
    """The node's sessions it may not have started yet (their task is what its control channel sends): active
    ones younger than CONNECT_WINDOW, whatever their client did meanwhile (it may connect first). A node
    reconnecting inside the window is sent them again; it starts each session once."""
    c = sessions.c
    rows = conn.execute(sa.select(sessions).where(c.target == target, c.status.in_(ACTIVE),
                                                  c.started_at >= now - CONNECT_WINDOW).order_by(c.started_at))
    return [_session(r) for r in rows]


def awaiting_by_node(conn: Connection, now: dt.datetime) -> dict[str, set[str]]:
    """Every node's sessions waiting for it, node -> session ids (one read for all of a process's channels)."""
    c = sessions.c
    work: dict[str, set[str]] = {}
    for r in conn.execute(sa.select(c.target, c.session_id).where(c.status.in_(ACTIVE),
                                                                  c.started_at >= now - CONNECT_WINDOW)):
        work.setdefault(r.target, set()).add(r.session_id)
    return work


def status_of(conn: Connection, session_id: str) -> str | None:
    return conn.execute(sa.select(sessions.c.status).where(sessions.c.session_id == session_id)).scalar()


def locate(conn: Connection, session_id: str) -> Session | None:
    """A session by id alone (the data channel's path names no account)."""
    row = conn.execute(sa.select(sessions).where(sessions.c.session_id == session_id)).first()
    return None if row is None else _session(row)


def _session(row: sa.Row[tuple[object, ...]]) -> Session:
    return Session(row.session_id, row.target, row.status, row.started_at, row.ended_at, row.document_name,
                   row.owner, row.reason, row.details, row.max_duration_minutes, json.loads(row.parameters),
                   row.session_type, row.run_as_user, json.loads(row.task_content or "{}"), row.account_id,
                   row.region)
