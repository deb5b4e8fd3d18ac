"""The audit trail: every API call appended to a keyed hash chain by a background writer.

A call enqueues its record and returns; one writer thread per process turns queued records into events and
appends them in batches, one transaction per batch (lingering up to 50 ms to fill it), because a write
transaction per request would cost more than the request. The price, chosen knowingly: a hard crash
(SIGKILL, power loss) loses what is still queued, about 100 ms of calls. A normal stop drains the queue
(`close()`); an unreachable database is retried until it answers (a stopping server gives up after 10 s);
a single record the database refuses is logged and dropped rather than blocking every record after it.
The queue is bounded: if the database stays unreachable, callers block in `record()` rather than being
served unaudited.

The chain stays linear across threads, worker processes and replicas: each batch reads the last record
inside a write transaction that excludes every other appender (SQLite's BEGIN IMMEDIATE; on PostgreSQL a
transaction-level advisory lock).
"""

from __future__ import annotations

import hmac
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError

from openssm.services.audit_chain import GENESIS, EventRecord, head_mac, link_hash
from openssm.services.audit_events import ParameterRenderer, build_event
from openssm.services.audit_record import ApiCallRecord
from openssm.store.db import Database
from openssm.store.tables.audit import audit_events, audit_head

log = logging.getLogger(__name__)

_BATCH = 500
_LINGER = 0.05
_QUEUE_SIZE = 100_000
_PG_LOCK_ID = 0x0A0D17
_MAX_BACKOFF = 5.0
# How long a stopping writer keeps retrying an unreachable database before it gives the queue up as lost.
_CLOSE_GRACE = 10.0


@dataclass(frozen=True)
class _Pending:
    """A queued call, or (record None) a flush marker whose `done` is set once everything before it is stored."""

    record: ApiCallRecord | None
    done: threading.Event | None = None
    stop: bool = False


class AuditTrail:
    """The AuditSink every API call reports to (`Container.audit`)."""

    def __init__(self, db: Database, *, chain_key: bytes, default_account: str, default_region: str,
                 render: ParameterRenderer) -> None:
        self._db = db
        self._key = chain_key
        self._default_account = default_account
        self._default_region = default_region
        self._render = render
        self._queue: queue.Queue[_Pending] = queue.Queue(maxsize=_QUEUE_SIZE)
        self._lock = threading.Lock()
        self._closing = False
        self._give_up_at = float("inf")
        self._urgent = threading.Event()
        # Anchor a trail written before the head record existed, before any other thread may use the database.
        self._write([])
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def record(self, call: ApiCallRecord) -> None:
        with self._lock:
            if not self._closing:
                self._queue.put(_Pending(call))
                return
        self._write(self._events([call]))  # after close() nothing drains the queue: store it now

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything recorded so far is in the database; False if that took over `timeout`."""
        with self._lock:
            if self._closing:
                return True
            marker = _Pending(None, threading.Event())
            self._queue.put(marker)
            self._urgent.set()
        assert marker.done is not None
        return marker.done.wait(timeout)

    def close(self) -> None:
        """Store everything queued, then stop the writer; later records are stored synchronously."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._give_up_at = time.monotonic() + _CLOSE_GRACE
            self._queue.put(_Pending(None, stop=True))
            self._urgent.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch = self._gather(self._queue.get())
            try:
                self._write(self._events([p.record for p in batch if p.record is not None]))
            finally:  # whatever happened, nobody may wait on a flush forever
                for pending in batch:
                    if pending.done is not None:
                        pending.done.set()
            if any(p.stop for p in batch):
                return

    def _gather(self, first: _Pending) -> list[_Pending]:
        """Linger briefly so one transaction carries many records, then take everything queued.

        The writer sleeps through the linger instead of waking for each record (a wake-up per record cost
        more CPU than encoding it); a flush or close cuts the linger short.
        """
        batch = [first]
        if first.record is not None and self._queue.qsize() < _BATCH:
            self._urgent.wait(_LINGER)
        self._urgent.clear()
        while len(batch) < _BATCH and batch[-1].record is not None:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _events(self, calls: Sequence[ApiCallRecord]) -> list[EventRecord]:
        """The calls' events; a call whose parameters cannot be rendered is recorded without them."""
        events = []
        for call in calls:
            for render in (self._render, _without_parameters):
                try:
                    events.append(build_event(call, default_account=self._default_account,
                                              default_region=self._default_region, render=render))
                    break
                except Exception:
                    log.exception("audit trail: could not build the event of request %s", call.request_id)
        return events

    def _write(self, events: Sequence[EventRecord]) -> None:
        """Append `events`, retrying while the database is unreachable; isolate a record it refuses."""
        backoff = 0.05
        while True:
            try:
                self._append(events)
                return
            except (OperationalError, DBAPIError) as err:
                if not _transient(err):
                    break
                if time.monotonic() > self._give_up_at:
                    log.error("audit trail: database unreachable while stopping; %d records lost", len(events))
                    return
                log.warning("audit trail: database unavailable (%s); retrying %d records", err, len(events))
                time.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
            except Exception:
                break
        self._append_one_by_one(events)

    def _append_one_by_one(self, events: Sequence[EventRecord]) -> None:
        for event in events:
            try:
                self._append([event])
            except Exception:
                log.exception("audit trail: event %s refused by the database, dropped", event.event_id)

    def _append(self, events: Sequence[EventRecord]) -> None:
        with self._db.begin() as conn:
            seq, prev, anchored = self._position(conn)
            if not events and anchored:
                return
            rows = []
            for event in events:
                seq += 1
                digest = link_hash(self._key, prev, seq, event)
                rows.append(_row(seq, event, prev, digest))
                prev = digest
            if rows:
                conn.execute(insert(audit_events), rows)
            values = {"seq": seq, "hash": prev, "mac": head_mac(self._key, seq, prev)}
            if anchored:
                conn.execute(update(audit_head).where(audit_head.c.id == 1).values(values))
            else:
                conn.execute(insert(audit_head).values(id=1, **values))

    def _position(self, conn: Connection) -> tuple[int, str, bool]:
        """Where the next record goes, read under a lock no other appender (thread, process, replica) shares.

        Normally after the last record. If records were removed from the end, the head still names the
        last one appended, and the trail continues after it: the gap stays visible to `openssm audit verify`
        instead of being papered over by the next append. Also says whether the head row exists.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        last = conn.execute(select(audit_events.c.seq, audit_events.c.hash)
                            .order_by(audit_events.c.seq.desc()).limit(1)).first()
        seq, digest = (0, GENESIS) if last is None else (int(last.seq), str(last.hash))
        head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()
        if head is None:
            return seq, digest, False
        if head.seq > seq and hmac.compare_digest(head.mac, head_mac(self._key, head.seq, head.hash)):
            return int(head.seq), str(head.hash), True
        return seq, digest, True


def _without_parameters(_service: str, _operation: str, _params: object, _secret: frozenset[str]) -> None:
    return None


def _transient(err: DBAPIError) -> bool:
    """A lost connection or a busy database passes; a refused value (too long, bad encoding) does not."""
    return isinstance(err, OperationalError) or err.connection_invalidated


def _row(seq: int, event: EventRecord, prev: str, digest: str) -> dict[str, object]:
    return dict(seq=seq, event_id=event.event_id, account_id=event.account_id, event_time=event.event_time,
                event_source=event.event_source, event_name=event.event_name, username=event.username,
                access_key_id=event.access_key_id, read_only=event.read_only, resource_type=event.resource_type,
                resource_names="\n".join(event.resource_names), error_code=event.error_code,
                event_json=event.event_json, prev_hash=prev, hash=digest)
