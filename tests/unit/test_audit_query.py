"""LookupEvents over the stored trail: one attribute, a time range, newest first, pages, one account."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from openssm.services.audit_query import (
    InvalidLookupAttributes,
    InvalidNextToken,
    InvalidTimeRange,
    LookupPage,
    lookup,
)
from openssm.store.db import Database, open_database
from tests.unit.audit_helpers import ACCOUNT, CLOCK, DEFAULT, OTHER, call, role_session, trail, user

T0 = CLOCK.now()


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


@pytest.fixture(scope="module")
def db() -> Iterator[Database]:
    """A trail of seven calls over seven minutes, in two accounts plus an unauthenticated one."""
    database = open_database("sqlite://")
    audit = trail(database)
    for record in [
        call("PutParameter", caller=user(), params={"Name": "/app/DB", "Value": "v"}, read_only=False, when=at(0)),
        call("GetParameter", caller=user(), params={"Name": "/app/db"}, when=at(1)),
        call("GetParameters", caller=role_session(), params={"Names": ["/app/db", "/app/x"]}, when=at(2)),
        call("CreateUser", service="iam", caller=user(), params={"UserName": "bob"}, read_only=False, when=at(3),
             error="AccessDenied"),
        call("GetParameter", caller=user("carol", account=OTHER), params={"Name": "/app/db"}, when=at(4)),
        call("DescribeParameters", caller=None, key="AKIAWHOEVER00000001", when=at(5)),
        call("GetParameter", caller=user(), params={"Name": "/app/db/child"}, when=at(6)),
    ]:
        audit.record(record)
    audit.close()
    yield database
    database.dispose()


def find(db: Database, *attributes: tuple[str, str], account: str = ACCOUNT, start: dt.datetime | None = None,
         end: dt.datetime | None = None, max_results: int = 50, token: str | None = None) -> LookupPage:
    with db.read() as conn:
        return lookup(conn, account, list(attributes), start, end, max_results, token)


def names(page: LookupPage) -> list[str]:
    return [e.record.event_name for e in page.events]


def test_events_come_newest_first_and_only_from_the_callers_account(db: Database) -> None:
    assert names(find(db)) == ["GetParameter", "CreateUser", "GetParameters", "GetParameter", "PutParameter"]
    assert names(find(db, account=OTHER)) == ["GetParameter"]
    assert names(find(db, account=DEFAULT)) == ["DescribeParameters"]


@pytest.mark.parametrize(("attribute", "expected"), [
    (("EventName", "GetParameter"), ["GetParameter", "GetParameter"]),
    (("ReadOnly", "false"), ["CreateUser", "PutParameter"]),
    (("ReadOnly", "TRUE"), ["GetParameter", "GetParameters", "GetParameter"]),
    (("Username", "ci-run"), ["GetParameters"]),
    (("EventSource", "iam.amazonaws.com"), ["CreateUser"]),
    (("AccessKeyId", "ASIASESSION000000001"), ["GetParameters"]),
    (("ResourceType", "AWS::IAM::User"), ["CreateUser"]),
    (("ResourceName", "/app/db"), ["GetParameters", "GetParameter"]),
    (("ResourceName", "/app/x"), ["GetParameters"]),
    (("ResourceName", "/app"), []),
])
def test_each_lookup_attribute_selects_its_events(db: Database, attribute: tuple[str, str],
                                                  expected: list[str]) -> None:
    assert names(find(db, attribute)) == expected


def test_a_resource_name_matches_whole_and_case_sensitively(db: Database) -> None:
    assert names(find(db, ("ResourceName", "/app/DB"))) == ["PutParameter"]
    assert names(find(db, ("ResourceName", "/app/db/child"))) == ["GetParameter"]


def test_an_event_id_finds_exactly_that_event(db: Database) -> None:
    newest = find(db).events[0]
    assert [e.seq for e in find(db, ("EventId", newest.record.event_id)).events] == [newest.seq]


def test_more_than_one_lookup_attribute_is_refused(db: Database) -> None:
    with pytest.raises(InvalidLookupAttributes):
        find(db, ("EventName", "GetParameter"), ("Username", "alice"))


def test_read_only_takes_only_true_or_false(db: Database) -> None:
    with pytest.raises(InvalidLookupAttributes):
        find(db, ("ReadOnly", "yes"))


def test_the_time_range_bounds_are_inclusive(db: Database) -> None:
    assert names(find(db, start=at(1), end=at(3))) == ["CreateUser", "GetParameters", "GetParameter"]
    assert names(find(db, start=at(7))) == []


def test_a_start_after_the_end_is_an_invalid_time_range(db: Database) -> None:
    with pytest.raises(InvalidTimeRange):
        find(db, start=at(3), end=at(1))


def test_pages_cover_every_event_once_in_order(db: Database) -> None:
    seen: list[str] = []
    token: str | None = None
    for _ in range(5):
        page = find(db, max_results=2, token=token)
        seen += names(page)
        token = page.next_token
        if token is None:
            break
    assert seen == names(find(db))


def test_a_token_is_refused_when_garbled_or_used_with_other_parameters(db: Database) -> None:
    token = find(db, max_results=1).next_token
    assert token is not None
    for garbage in ("garbage", "!!!", token[:-4]):
        with pytest.raises(InvalidNextToken):
            find(db, max_results=1, token=garbage)
    with pytest.raises(InvalidNextToken):
        find(db, ("EventName", "GetParameter"), max_results=1, token=token)
    with pytest.raises(InvalidNextToken):
        find(db, account=OTHER, max_results=1, token=token)


def test_the_event_summary_fields_are_stored(db: Database) -> None:
    event = find(db, ("EventName", "GetParameters")).events[0].record
    assert (event.username, event.access_key_id, event.read_only) == ("ci-run", "ASIASESSION000000001", True)
    assert (event.resource_type, event.resource_names) == ("AWS::SSM::Parameter", ("/app/db", "/app/x"))
    assert event.event_time == at(2)
