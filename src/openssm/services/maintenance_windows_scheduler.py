"""Maintenance Windows' scheduler, run every few seconds by each server process: occurrences that are due
become executions, and every open execution is moved on (maintenance_windows_runner.py).

Each window stores its next occurrence (`next_run_at`, indexed); the pass that starts an occurrence moves it
on with a conditional update in the same transaction as the execution, so a restart neither skips nor repeats
an occurrence and two processes never both start one. An occurrence whose cutoff passed while no server was
running starts nothing, as at AWS, where a window whose cutoff has passed runs no task: it is skipped (and
logged), and the schedule goes on from now. Of several occurrences missed, only the latest still before its
cutoff runs, with what is left of its window.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.clock import Clock
from openssm.errors import AwsError
from openssm.services import command_delivery
from openssm.services import maintenance_windows_rules as rules
from openssm.services import maintenance_windows_runner as runner
from openssm.services.association_dispatch import JobHub
from openssm.services.command_documents import SsmLookup, ssm_reference_value
from openssm.services.maintenance_windows_invocations import RunContext, Sent
from openssm.services.maintenance_windows_model import WindowSpec
from openssm.services.parameter_model import Parameter, Scope
from openssm.store.db import Database
from openssm.store.tables.maintenance_windows import windows

log = logging.getLogger(__name__)
SWEEP_SECONDS = 2.0
DUE_BATCH = 100  # occurrences started per pass; more wait for the next pass


def start_due(conn: Connection, now: dt.datetime, limit: int = DUE_BATCH) -> list[str]:
    """Start the occurrences due by `now`; answers the executions created."""
    c = windows.c
    due = conn.execute(sa.select(windows).where(c.next_run_at <= now, c.enabled.is_(True))
                       .order_by(c.next_run_at).limit(limit)).all()
    started = []
    for r in due:
        spec = WindowSpec.from_json(r.spec)
        try:
            occurrence, following = _latest_due(spec, r.next_run_at, now, r.created_at)
        except AwsError as err:  # settings the rules no longer accept: the schedule stops
            log.warning("maintenance window %s has an unusable schedule: %s", r.window_id, err.message)
            occurrence, following = None, None
        claimed = conn.execute(sa.update(windows).where(c.window_id == r.window_id, c.next_run_at == r.next_run_at)
                               .values(next_run_at=following))
        if not claimed.rowcount:
            continue  # another process started this occurrence
        if occurrence is None or now >= rules.cutoff_at(spec, occurrence):
            log.warning("maintenance window %s: the occurrence at %s is skipped, its cutoff has passed",
                        r.window_id, r.next_run_at)
            continue
        started.append(runner.start(conn, r.account_id, r.region, r.window_id, spec, occurrence, now))
    return started


def _latest_due(spec: WindowSpec, due_at: dt.datetime, now: dt.datetime,
                created_at: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The latest occurrence due by `now` (from `due_at` on) and the one after it."""
    occurrence = due_at
    following = rules.next_run(spec, occurrence, created_at)
    while following is not None and following <= now:
        occurrence, following = following, rules.next_run(spec, following, created_at)
    return occurrence, following


def advance_open(conn: Connection, now: dt.datetime, run: RunContext) -> tuple[list[Sent], list[str]]:
    sent: list[Sent] = []
    cancelled: list[str] = []
    for execution_id in runner.open_executions(conn):
        more, stopped = runner.advance(conn, execution_id, now, run)
        sent += more
        cancelled += stopped
    return sent, cancelled


def deliver(hub: JobHub, sent: Sequence[Sent], cancelled: Sequence[str]) -> None:
    """After the commit: started nodes get their job; the others' channels (and cancelled nodes') look again."""
    for s in sent:
        if s.started:
            hub.offer(s.instance_id, command_delivery.agent_job(s.command_id, s.instance_id, s.payload))
        else:
            hub.notify(s.instance_id)
    for instance_id in dict.fromkeys(cancelled):
        hub.notify(instance_id)


class Parameters(Protocol):
    def get(self, conn: Connection, scope: Scope, raw_name: str, decrypt: bool) -> Parameter: ...


class Services(Protocol):
    """What the sweeper takes from the composition root (openssm.container.Container)."""

    @property
    def db(self) -> Database: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def command_hub(self) -> JobHub: ...

    @property
    def parameters(self) -> Parameters: ...


def parameter_lookup(parameters: Parameters) -> Callable[[Connection, Scope], SsmLookup]:
    """`{{ssm:name}}` in a task's values, read as the service (the window's tasks run with its rights); a
    SecureString is refused, as Run Command does not decrypt into commands."""
    def for_scope(conn: Connection, scope: Scope) -> SsmLookup:
        def lookup(name: str) -> str:
            return ssm_reference_value(name, lambda: parameters.get(conn, scope, name, False))
        return lookup
    return for_scope


class MaintenanceWindowSweeper:
    """One server process's pass over Maintenance Windows' work (api/app.py runs it every SWEEP_SECONDS).
    `lookup` reads `{{ssm:name}}` parameter values for the window's account."""

    EVERY = SWEEP_SECONDS

    def __init__(self, db: Database, clock: Clock, hub: JobHub,
                 lookup: Callable[[Connection, Scope], SsmLookup]) -> None:
        self._db, self._clock, self._hub = db, clock, hub
        self._run = RunContext(hub.connected, lookup)

    @classmethod
    def of(cls, services: Services) -> MaintenanceWindowSweeper:
        return cls(services.db, services.clock, services.command_hub, parameter_lookup(services.parameters))

    def sweep(self) -> None:
        now = self._clock.now()
        with self._db.begin() as conn:
            start_due(conn, now)
            sent, cancelled = advance_open(conn, now, self._run)
        deliver(self._hub, sent, cancelled)
