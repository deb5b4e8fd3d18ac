"""Session Manager's sessions on the store: ids as AWS forms them, tokens, states, DescribeSessions."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.services import sessions
from openssm.services.sessions import DoesNotExist, InvalidFilterKey, SessionFilter
from openssm.store.db import open_database

NOW = dt.datetime(2026, 12, 6, 11, tzinfo=dt.UTC)
ACCOUNT, REGION = "111122223333", "us-east-1"
ALICE = "arn:aws:iam::111122223333:user/Jane-Roe"
NODE = "mi-0123456789abcdef0"


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


def start(conn: Connection, owner: str = ALICE, target: str = NODE,
          at: dt.datetime = NOW) -> tuple[sessions.Session, str]:
    plan = sessions.SessionPlan("SSM-SessionManagerRunShell", {"sessionType": "Standard_Stream"}, "Standard_Stream",
                                {}, max_duration_minutes=20)
    return sessions.start(conn, ACCOUNT, REGION, owner, target, plan, "", at)


@pytest.mark.parametrize(("owner", "prefix"), [
    (ALICE, "Jane-Roe-"),
    ("arn:aws:sts::111122223333:assumed-role/Admin/botocore-session-1700000000", "botocore-session-1700000000-"),
    ("arn:aws:iam::111122223333:root", "root-"),
])
def test_a_session_id_is_its_owners_name_and_17_hex_digits(owner: str, prefix: str) -> None:
    session_id = sessions.session_id_for(owner)
    assert session_id.startswith(prefix) and re.fullmatch(r"[0-9a-f]{17}", session_id[len(prefix):])


def test_a_session_starts_connecting_and_only_its_current_token_opens_it(conn: Connection) -> None:
    session, token = start(conn)
    assert (session.status, session.target, session.owner, session.max_duration_minutes) == (
        "Connecting", NODE, ALICE, 20)
    assert sessions.token_valid(conn, session.session_id, token)
    assert not sessions.token_valid(conn, session.session_id, token + "x")
    _, fresh = sessions.resume(conn, ACCOUNT, REGION, session.session_id)
    assert sessions.token_valid(conn, session.session_id, fresh)
    assert not sessions.token_valid(conn, session.session_id, token)  # resuming retires the old token


def test_a_terminated_session_is_history_its_token_dead_and_it_cannot_resume(conn: Connection) -> None:
    session, token = start(conn)
    sessions.set_status(conn, session.session_id, "Connected", NOW)
    ended = sessions.terminate(conn, ACCOUNT, REGION, session.session_id, NOW + dt.timedelta(minutes=5))
    assert (ended.status, ended.ended_at) == ("Terminated", NOW + dt.timedelta(minutes=5))
    assert sessions.terminate(conn, ACCOUNT, REGION, session.session_id, NOW).status == "Terminated"  # again: fine
    assert not sessions.token_valid(conn, session.session_id, token)
    with pytest.raises(DoesNotExist):
        sessions.resume(conn, ACCOUNT, REGION, session.session_id)
    sessions.set_status(conn, session.session_id, "Connected", NOW)  # an ended session stays ended
    assert sessions.get(conn, ACCOUNT, REGION, session.session_id).status == "Terminated"


def test_describe_lists_active_or_recent_history_with_awss_filters(conn: Connection) -> None:
    first, _ = start(conn, at=NOW - dt.timedelta(hours=2))
    second, _ = start(conn, owner="arn:aws:iam::111122223333:user/bob", target="mi-00000000000000001", at=NOW)
    old, _ = start(conn, at=NOW - dt.timedelta(days=40))
    sessions.terminate(conn, ACCOUNT, REGION, old.session_id, NOW - dt.timedelta(days=40))
    done, _ = start(conn, at=NOW - dt.timedelta(hours=1))
    sessions.terminate(conn, ACCOUNT, REGION, done.session_id, NOW)

    def ids(state: str, *filters: tuple[str, str]) -> list[str]:
        return [s.session_id for s in sessions.describe(conn, ACCOUNT, REGION, state,
                                                        [SessionFilter(k, v) for k, v in filters], NOW)]

    assert ids("Active") == [second.session_id, first.session_id]  # newest first
    assert ids("History") == [done.session_id]  # 40 days ago is out of the history
    assert ids("Active", ("Owner", ALICE)) == [first.session_id]
    assert ids("Active", ("Target", "mi-00000000000000001")) == [second.session_id]
    assert ids("Active", ("InvokedAfter", "2026-12-06T10:30:00Z")) == [second.session_id]
    assert ids("Active", ("InvokedBefore", "2026-12-06T10:30:00Z")) == [first.session_id]
    assert ids("History", ("Status", "Terminated"), ("SessionId", done.session_id)) == [done.session_id]
    with pytest.raises(InvalidFilterKey):
        ids("Active", ("Colour", "blue"))
    with pytest.raises(InvalidFilterKey):
        ids("Active", ("InvokedAfter", "yesterday"))
    with pytest.raises(DoesNotExist):
        sessions.get(conn, "999999999999", REGION, first.session_id)  # another account's session


def test_a_node_is_sent_its_young_active_sessions_even_once_their_client_joined(conn: Connection) -> None:
    waiting, _ = start(conn, at=NOW - dt.timedelta(seconds=2))
    joined, _ = start(conn)
    sessions.set_status(conn, joined.session_id, "Connected", NOW)  # the client may come first
    ended, _ = start(conn)
    sessions.set_status(conn, ended.session_id, "Terminated", NOW)
    start(conn, target="mi-0000000000000000b")
    stale, _ = start(conn, at=NOW - sessions.CONNECT_WINDOW - dt.timedelta(seconds=1))
    assert [s.session_id for s in sessions.awaiting(conn, NODE, NOW)] == [waiting.session_id, joined.session_id]
    by_node = sessions.awaiting_by_node(conn, NOW)
    assert by_node[NODE] == {waiting.session_id, joined.session_id}
    assert len(by_node["mi-0000000000000000b"]) == 1
    assert stale.session_id not in by_node[NODE]


def test_a_session_keeps_the_document_it_was_started_with(conn: Connection) -> None:
    session, _ = start(conn)
    found = sessions.locate(conn, session.session_id)
    assert found is not None and found.document_content == {"sessionType": "Standard_Stream"}
    assert found.session_type == "Standard_Stream" and sessions.locate(conn, "nobody-0123456789abcdef0") is None
