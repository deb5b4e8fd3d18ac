"""Agents' replies written in batches: one transaction for the replies that arrive within a few
milliseconds of each other, since a transaction per reply made a thousand nodes' replies take seconds.
A reply is acknowledged to its agent only after its batch is committed, so none is lost."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future

from openssm.clock import Clock
from openssm.protocol.message_ids import command_id_of
from openssm.protocol.mgs import JobReply
from openssm.services import command_delivery, invocation_replies
from openssm.store.db import Database

log = logging.getLogger(__name__)
_LINGER = 0.01
_BATCH = 500

Pending = tuple[str, JobReply, "Future[list[str]]"]


class ReplyWriter:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="reply-writer", daemon=True)
        self._thread.start()

    def submit(self, instance_id: str, reply: JobReply) -> Future[list[str]]:
        """Resolves, once stored, to the nodes to wake (a freed MaxConcurrency slot)."""
        done: Future[list[str]] = Future()
        self._queue.put((instance_id, reply, done))
        return done

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + _LINGER
            while len(batch) < _BATCH and (left := deadline - time.monotonic()) > 0:
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[Pending]) -> None:
        try:
            with self._db.begin() as conn:
                now = self._clock.now()
                invocation_replies.apply_replies(conn, [(instance_id, reply) for instance_id, reply, _ in batch], now)
                # One look per command for the nodes its finished invocations let start (one each, at most).
                finished = Counter(command_id_of(reply.job_id) for _, reply, _ in batch)
                waiting = {command_id: command_delivery.waiting_instances(conn, command_id, count)
                           for command_id, count in finished.items()}
        except Exception as err:  # every waiting agent hears of it and will resend its reply
            log.exception("could not store %d replies", len(batch))
            for _, _, done in batch:
                done.set_exception(err)
            return
        for _, reply, done in batch:  # the first reply of each command carries its command's wake-ups
            done.set_result(waiting.pop(command_id_of(reply.job_id), []))
