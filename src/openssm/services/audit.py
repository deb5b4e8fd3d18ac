"""The audit trail: every API call appended to a keyed hash chain by a background writer.

Calls enqueue their record and return; a writer thread appends queued records in batches (one
transaction per batch, lingering up to 50 ms to fill it). A crash can lose what is still queued — at most about
100 ms of calls — which is the price of not paying a write transaction per request; `flush()` and
`close()` drain the queue.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, text

from openssm.clock import Clock
from openssm.services.audit_chain import GENESIS, link_hash
from openssm.services.audit_events import cloudtrail_event, resources, username
from openssm.services.audit_record import ApiCallRecord
from openssm.store.db import Database
from openssm.store.tables.audit import audit_events

log = logging.getLogger(__name__)

_BATCH = 500
_INTERVAL = 0.1
_LINGER = 0.05
_PG_LOCK_ID = 0x0A0D17


@dataclass(frozen=True)
class _Pending:
    record: ApiCallRecord
    done: threading.Event | None = None


class AuditTrail:
    def __init__(self, db: Database, clock: Clock, *, chain_key: bytes, default_account: str) -> None:
        self._db = db
        self._clock = clock
        self._key = chain_key
        self._default_account = default_account
        self._queue: queue.Queue[_Pending] = queue.Queue(maxsize=100_000)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def record(self, call: ApiCallRecord) -> None:
        self._queue.put(_Pending(call))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything recorded so far is in the database."""
        marker = threading.Event()
        self._queue.put(_Pending(_MARKER, marker))
        marker.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=_INTERVAL)
            except queue.Empty:
                continue
            batch = self._gather(first)
            try:
                self._append([p.record for p in batch if p.record is not _MARKER])
            except Exception:
                log.exception("could not append %d audit records", len(batch))
            for pending in batch:
                if pending.done is not None:
                    pending.done.set()

    def _gather(self, first: _Pending) -> list[_Pending]:
        """Collect a batch: linger briefly under load so one transaction carries many records,
        but stop at once for a flush marker."""
        batch = [first]
        deadline = time.monotonic() + _LINGER
        while len(batch) < _BATCH and first.done is None and batch[-1].done is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _head(self, conn: Connection) -> tuple[int, str]:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        seq = conn.execute(select(func.max(audit_events.c.seq))).scalar()
        if seq is None:
            return 0, GENESIS
        return int(seq), str(conn.execute(select(audit_events.c.hash).where(audit_events.c.seq == seq)).scalar_one())

    def _append(self, records: list[ApiCallRecord]) -> None:
        if not records:
            return
        with self._db.begin() as conn:
            seq, prev = self._head(conn)
            rows = []
            for call in records:
                seq += 1
                account = call.caller.account_id if call.caller else self._default_account
                event_id, event_json = cloudtrail_event(call, account)
                digest = link_hash(self._key, prev, seq, event_json)
                kind, names = resources(call.request_parameters)
                rows.append(dict(
                    seq=seq, event_id=event_id, account_id=account, event_time=call.event_time,
                    event_source=f"{call.service or 'unknown'}.amazonaws.com", event_name=call.event_name or "Unknown",
                    username=username(call.caller), access_key_id=call.access_key_id or None,
                    read_only=call.read_only, resource_type=kind, resource_names="\n".join(names),
                    error_code=call.error_code, event_json=event_json, prev_hash=prev, hash=digest))
                prev = digest
            conn.execute(insert(audit_events), rows)


_MARKER = ApiCallRecord.__new__(ApiCallRecord)
