"""The audit chain: any altered, removed or reordered record breaks it, whoever appended it and however fast."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, update
from sqlalchemy.exc import OperationalError

from openssm.protocol.trail_parameters import trail_parameters
from openssm.services.audit import AuditTrail
from openssm.services.audit_chain import (
    GENESIS,
    Anchor,
    ChainHead,
    ChainReport,
    ChainRow,
    EventRecord,
    head_mac,
    link_hash,
    verify_chain,
)
from openssm.services.audit_query import iter_chain, read_head
from openssm.store.db import Database, open_database
from openssm.store.tables.audit import audit_events, audit_head
from tests.unit.audit_helpers import ACCOUNT, CLOCK, DEFAULT, KEY, OTHER, call, trail, user


def event(n: int) -> EventRecord:
    return EventRecord(f"event-{n}", ACCOUNT, CLOCK.now(), "ssm.amazonaws.com", "GetParameter", "alice",
                       "AKIAALICE0000000001", True, None, (), None, f'{{"n":{n}}}')


def chain(n: int) -> tuple[list[ChainRow], ChainHead]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        digest = link_hash(KEY, prev, seq, event(seq))
        rows.append(ChainRow(seq, event(seq), prev, digest))
        prev = digest
    return rows, ChainHead(n, prev, head_mac(KEY, n, prev))


def verify(db: Database) -> ChainReport:
    with db.read() as conn:
        return verify_chain(KEY, iter_chain(conn), read_head(conn))


@pytest.fixture
def db() -> Iterator[Database]:
    database = open_database("sqlite://")
    yield database
    database.dispose()


def filled(db: Database, n: int) -> Database:
    audit = trail(db)
    for i in range(n):
        audit.record(call(params={"Name": f"/p/{i}"}, caller=user()))
    audit.close()
    return db


def tamper(db: Database, change: object) -> None:
    with db.begin() as conn:
        conn.execute(change)  # type: ignore[call-overload]


# The chain itself, on rows in memory.

def test_an_untouched_chain_verifies() -> None:
    rows, head = chain(5)
    report = verify_chain(KEY, rows, head)
    assert report.ok and report.count == 5 and report.last_hash == head.hash


def test_an_altered_record_is_named() -> None:
    rows, head = chain(5)
    rows[2] = replace(rows[2], record=replace(rows[2].record, event_json='{"n":"forged"}'))
    report = verify_chain(KEY, rows, head)
    assert (report.broken_at, report.reason) == (3, "record 3 was altered")


def test_an_altered_lookup_column_breaks_the_chain_like_the_event_itself() -> None:
    rows, head = chain(5)
    rows[1] = replace(rows[1], record=replace(rows[1].record, account_id=OTHER))
    assert verify_chain(KEY, rows, head).broken_at == 2


def test_a_removed_record_is_named() -> None:
    rows, head = chain(5)
    del rows[1]
    report = verify_chain(KEY, rows, head)
    assert (report.broken_at, report.reason) == (2, "record 2 is missing (found 3 next)")


def test_records_removed_from_the_end_are_found_through_the_head() -> None:
    rows, head = chain(5)
    report = verify_chain(KEY, rows[:3], head)
    assert (report.broken_at, report.reason) == \
        (4, "records 4 to 5 were removed from the end (the head names record 5)")


def test_an_anchor_kept_elsewhere_catches_a_cut_trail_whose_head_was_rolled_back() -> None:
    rows, head = chain(5)
    old_head = ChainHead(3, rows[2].hash, head_mac(KEY, 3, rows[2].hash))
    assert verify_chain(KEY, rows[:3], old_head).ok  # the database alone cannot tell
    report = verify_chain(KEY, rows[:3], old_head, [Anchor(5, head.hash, "the anchor given")])
    assert (report.broken_at, report.reason) == \
        (4, "records 4 to 5 were removed from the end (the anchor given names record 5)")
    replaced = verify_chain(KEY, rows, head, [Anchor(2, "f" * 64, "the anchor given")])
    assert (replaced.broken_at, replaced.reason) == (2, "record 2 is not the record the anchor given names")


def test_a_forged_head_is_found() -> None:
    rows, head = chain(5)
    report = verify_chain(KEY, rows[:3], replace(head, seq=3))
    assert not report.ok and "head record" in (report.reason or "")


def test_swapped_records_are_found() -> None:
    rows, head = chain(5)
    rows[1], rows[2] = replace(rows[2], seq=2), replace(rows[1], seq=3)
    assert verify_chain(KEY, rows, head).broken_at == 2


def test_a_chain_recomputed_without_the_key_does_not_verify() -> None:
    rows, prev = [], GENESIS
    for seq in range(1, 4):
        digest = link_hash(b"x" * 32, prev, seq, event(seq))
        rows.append(ChainRow(seq, event(seq), prev, digest))
        prev = digest
    assert verify_chain(KEY, rows, ChainHead(3, prev, head_mac(b"x" * 32, 3, prev))).broken_at == 3


def test_an_empty_trail_verifies_with_or_without_a_head() -> None:
    assert verify_chain(KEY, [], None).ok
    assert verify_chain(KEY, [], ChainHead(0, GENESIS, head_mac(KEY, 0, GENESIS))).ok


# The trail's writer, on a real store.

def test_recorded_calls_are_appended_in_order_and_verify(db: Database) -> None:
    filled(db, 7)
    report = verify(db)
    assert report.ok and report.count == 7
    with db.read() as conn:
        names = [r.record.resource_names for r in iter_chain(conn)]
    assert names == [(f"/p/{i}",) for i in range(7)]


def test_flush_makes_every_recorded_call_readable(db: Database) -> None:
    audit = trail(db)
    for _ in range(3):
        audit.record(call(caller=user()))
    assert audit.flush()
    assert verify(db).count == 3
    audit.close()


def test_a_call_recorded_after_close_is_still_stored(db: Database) -> None:
    audit = trail(db)
    audit.close()
    audit.record(call(caller=user()))
    assert verify(db).count == 1


@pytest.mark.parametrize("change", [
    update(audit_events).where(audit_events.c.seq == 3).values(event_name="DeleteParameter"),
    update(audit_events).where(audit_events.c.seq == 3).values(account_id=OTHER),
    update(audit_events).where(audit_events.c.seq == 3).values(read_only=False),
    update(audit_events).where(audit_events.c.seq == 3).values(resource_names="/elsewhere"),
    delete(audit_events).where(audit_events.c.seq == 3),
], ids=["event-name", "account", "read-only", "resource", "removed"])
def test_tampering_with_a_stored_record_is_detected_at_that_record(db: Database, change: object) -> None:
    tamper(filled(db, 5), change)
    assert verify(db).broken_at == 3


def test_records_cut_from_the_end_stay_detected_after_the_server_appends_again(db: Database) -> None:
    tamper(filled(db, 5), delete(audit_events).where(audit_events.c.seq > 3))
    assert verify(db).broken_at == 4
    filled(db, 2)  # a restarted server keeps appending: the gap must not be papered over
    report = verify(db)
    assert (report.broken_at, report.reason) == (4, "record 4 is missing (found 6 next)")


def test_removing_the_head_is_detected(db: Database) -> None:
    tamper(filled(db, 2), delete(audit_head))
    assert verify(db).reason == "the head record is missing"


def test_a_trail_from_before_the_head_existed_is_anchored_when_the_writer_starts(db: Database) -> None:
    tamper(filled(db, 3), delete(audit_head))
    trail(db).close()
    assert verify(db).ok


class FlakyDatabase(Database):
    """The store, refusing the first `failures` write transactions as an unreachable database would."""

    def __init__(self, inner: Database, failures: int) -> None:
        super().__init__(inner.engine)
        self.failures = failures

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("BEGIN", {}, Exception("database is locked"))
        with super().begin() as conn:
            yield conn


def test_a_database_outage_delays_records_but_loses_none(db: Database) -> None:
    flaky = FlakyDatabase(db, failures=3)
    audit = trail(flaky)
    for _ in range(4):
        audit.record(call(caller=user()))
    audit.close()
    assert flaky.failures == 0
    assert verify(db).count == 4


def test_a_record_the_database_refuses_does_not_hold_back_the_others(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [call(caller=user()) for _ in range(3)]
    ids = iter(["same-id", "same-id", "other-id"])  # the second event collides with the first (unique)
    monkeypatch.setattr(uuid, "uuid4", lambda: next(ids))  # event ids come from uuid4
    audit = trail(db)
    for record in records:
        audit.record(record)
    audit.close()
    report = verify(db)
    assert report.ok and report.count == 2


def test_a_call_whose_parameters_cannot_be_rendered_is_recorded_without_them(db: Database) -> None:
    def render(service: str, operation: str, params: object, secret: frozenset[str]) -> dict[str, Any] | None:
        if operation == "Unrenderable":
            raise ValueError("no")
        return trail_parameters(service, operation, params, secret)  # type: ignore[arg-type]

    audit = AuditTrail(db, chain_key=KEY, default_account=DEFAULT, default_region="us-east-1", render=render)
    audit.record(call("Unrenderable", params={"Name": "/p"}))
    audit.record(call("GetParameter", params={"Name": "/q"}))
    audit.close()
    with db.read() as conn:
        stored = [json.loads(row.record.event_json) for row in iter_chain(conn)]
    assert [(e["eventName"], e["requestParameters"]) for e in stored] == \
        [("Unrenderable", None), ("GetParameter", {"name": "/q"})]


def test_concurrent_threads_and_two_writers_on_one_database_keep_one_linear_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    first, second = open_database(url), open_database(url)
    writers = [trail(first), trail(second)]  # two processes' writers, as with --workers 2

    def calls(n: int) -> None:
        for i in range(50):
            writers[(n + i) % 2].record(call(caller=user(f"u{n}")))

    threads = [threading.Thread(target=calls, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in writers:
        w.close()
    report = verify(first)
    assert report.ok, report.reason
    assert report.count == 400
    first.dispose()
    second.dispose()
