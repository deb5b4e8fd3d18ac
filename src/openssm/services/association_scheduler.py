"""State Manager's scheduler, run every few seconds by each server process: schedule ticks that are due become
executions, nodes that newly match an association's targets get one of their own, lost starts fail, and
whatever the rate controls allow is started.

Each association stores its next tick (`next_run_at`, indexed); the pass that runs a tick moves it on with a
conditional update in the same transaction as the execution, so a restart neither skips nor repeats a tick
and two processes never both run one (ticks missed while the server was down run once, at restart).
Joins are found from the fleet: every JOIN_EVERY the nodes and their tags are read, and only the nodes
whose account, region or tags changed since the last look (all of them after a start) are matched against
the associations, JOIN_BATCH at a time; a node already known to an association (it has a status row) is not
new to it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.clock import Clock
from openssm.errors import AwsError
from openssm.services import association_dispatch as dispatch
from openssm.services import association_rules as rules
from openssm.services import association_store as store
from openssm.services import association_targets, associations, instances
from openssm.services.association_dispatch import JobHub
from openssm.services.association_model import AssociationSpec
from openssm.services.association_targets import Tagged
from openssm.store.db import Database
from openssm.store.tables.associations import associations as association_rows
from openssm.store.tables.associations import instance_statuses
from openssm.store.tables.instances import managed_instances
from openssm.store.tables.parameters import resource_tags

log = logging.getLogger(__name__)
SWEEP_SECONDS = 2.0
DUE_BATCH = 200  # ticks run per pass; more wait for the next pass
JOIN_EVERY = dt.timedelta(seconds=10)
JOIN_BATCH = 200  # changed nodes matched per pass


def start_due(conn: Connection, now: dt.datetime, limit: int = DUE_BATCH) -> list[str]:
    """Run the schedule ticks due by `now`; answers the associations run."""
    c = association_rows.c
    due = conn.execute(sa.select(association_rows).where(c.next_run_at <= now).order_by(c.next_run_at)
                       .limit(limit)).all()
    fleets: dict[tuple[str, str], list[Tagged]] = {}
    ran = []
    for r in due:
        try:
            spec = store.spec_of(conn, r.association_id, r.association_version)
            schedule = rules.schedule_of(spec)
        except AwsError as err:  # settings the rules no longer accept: the schedule stops
            log.warning("association %s has an unusable schedule: %s", r.association_id, err.message)
            schedule = None
        following = rules.advance(spec, schedule, r.next_run_at, now, r.created_at) if schedule else None
        claimed = conn.execute(sa.update(association_rows).where(
            c.association_id == r.association_id, c.next_run_at == r.next_run_at).values(next_run_at=following))
        if not claimed.rowcount or schedule is None:
            continue  # another process ran this tick (or there is nothing to run)
        key = (r.account_id, r.region)
        if key not in fleets:
            fleets[key] = association_targets.fleet(conn, r.account_id, r.region, now)
        try:
            associations.run(conn, r.account_id, r.region, r.association_id, r.association_version, spec, now,
                             tagged=fleets[key])
        except AwsError as err:  # its document was deleted: the tick passes without a run
            log.warning("association %s could not run at %s: %s", r.association_id, now, err.message)
            continue
        ran.append(r.association_id)
    return ran


NodeChange = tuple[str, str, str, str]  # account, region, node, digest of its account, region and tags


class JoinWatch:
    """Which nodes changed (new, moved, retagged) since the last look, by a digest of each node's tags."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def changed(self, conn: Connection) -> list[NodeChange]:
        """The nodes whose digest differs from the last one handled (every node, the first time)."""
        m, t = managed_instances.c, resource_tags.c
        tags: dict[str, list[str]] = {}
        for r in conn.execute(sa.select(t.resource_id, t.key, t.value).where(t.resource_type == "ManagedInstance")
                              .order_by(t.resource_id, t.key)):
            tags.setdefault(r.resource_id, []).append(f"{r.key}={r.value}")
        current = {r.instance_id: (r.account_id, r.region) for r in conn.execute(
            sa.select(m.instance_id, m.account_id, m.region).where(m.deregistered.is_(False)))}
        for gone in set(self._seen) - set(current):
            del self._seen[gone]
        digests = {i: hashlib.sha256("\n".join([a, g, *tags.get(i, [])]).encode()).hexdigest()
                   for i, (a, g) in current.items()}
        return [(*current[i], i, d) for i, d in sorted(digests.items()) if self._seen.get(i) != d]

    def handled(self, nodes: Sequence[NodeChange]) -> None:
        for _, _, instance_id, digest in nodes:
            self._seen[instance_id] = digest


def join_nodes(conn: Connection, nodes: Sequence[NodeChange], now: dt.datetime) -> list[str]:
    """Each association newly matching some of `nodes` runs on them (or, with ApplyOnlyAtCronInterval, only
    records them, for its next tick). Answers the associations run."""
    by_scope: dict[tuple[str, str], list[str]] = {}
    for account_id, region, instance_id, _ in nodes:
        by_scope.setdefault((account_id, region), []).append(instance_id)
    ran = []
    for (account_id, region), ids in by_scope.items():
        rows = store.of_account(conn, account_id, region)
        if not rows:
            continue
        settings = store.specs_of(conn, [(str(r.association_id), int(r.association_version)) for r in rows])
        specs = {r.association_id: (r, settings.get((str(r.association_id), int(r.association_version)))
                                    or store.spec_of(conn, r.association_id, r.association_version)) for r in rows}
        wanted = set(ids)
        tagged = [t for t in association_targets.fleet(conn, account_id, region, now) if t[0].instance_id in wanted]
        joins = _new_matches(conn, {k: v[1] for k, v in specs.items()}, tagged)
        for association_id, joined in joins.items():
            r, spec = specs[association_id]
            try:
                associations.run(conn, account_id, region, association_id, r.association_version, spec, now,
                                 nodes=joined, only_mark=spec.apply_only_at_cron_interval)
            except AwsError as err:
                log.warning("association %s could not run on new nodes: %s", association_id, err.message)
                continue
            ran.append(association_id)
    return ran


def _new_matches(conn: Connection, specs: Mapping[str, AssociationSpec],
                 tagged: Sequence[Tagged]) -> dict[str, list[instances.ManagedInstance]]:
    s = instance_statuses.c
    known: dict[str, set[str]] = {}  # node -> the associations it already has a status for, in one read
    ids = [node[0].instance_id for node in tagged]
    for at in range(0, len(ids), 500):
        for r in conn.execute(sa.select(s.instance_id, s.association_id).where(s.instance_id.in_(ids[at:at + 500]))):
            known.setdefault(str(r.instance_id), set()).add(str(r.association_id))
    joins: dict[str, list[instances.ManagedInstance]] = {}
    for node in tagged:
        has = known.get(node[0].instance_id, set())
        for association_id, spec in specs.items():
            if association_id not in has and association_targets.nodes_of(spec, [node]):
                joins.setdefault(association_id, []).append(node[0])
    return joins


class AssociationSweeper:
    """One server process's pass over State Manager's work (api/app.py runs it every SWEEP_SECONDS)."""

    def __init__(self, db: Database, clock: Clock, hub: JobHub) -> None:
        self._db, self._clock, self._hub = db, clock, hub
        self._joins = JoinWatch()
        self._next_join: dt.datetime | None = None
        self._pending_joins: list[NodeChange] = []

    def sweep(self) -> None:
        now = self._clock.now()
        with self._db.begin() as conn:
            start_due(conn, now)
        self._join(now)
        with self._db.begin() as conn:
            touched = dispatch.fail_undelivered(conn, now)
            sent = dispatch.dispatch(conn, sorted({*touched, *dispatch.startable(conn, now)}), now,
                                     self._hub.connected)
        dispatch.deliver(self._hub, sent)

    def _join(self, now: dt.datetime) -> None:
        if not self._pending_joins and (self._next_join is None or now >= self._next_join):
            with self._db.read() as conn:
                self._pending_joins = self._joins.changed(conn)
            self._next_join = now + JOIN_EVERY
        batch, self._pending_joins = self._pending_joins[:JOIN_BATCH], self._pending_joins[JOIN_BATCH:]
        if not batch:
            return
        with self._db.begin() as conn:
            join_nodes(conn, batch, now)
        self._joins.handled(batch)
