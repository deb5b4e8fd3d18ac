"""The world the State Manager tests share (no tests here): an in-memory store, a fake clock, managed nodes
registered by activation with tags and heartbeats, and the calls the handlers make, without HTTP."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from openssm.clock import FakeClock
from openssm.services import activations, association_dispatch, associations, instances
from openssm.services.activations import NewActivation
from openssm.services.association_model import AssociationSpec, Target
from openssm.services.association_reports import ExecutionResult, report
from openssm.services.association_scheduler import AssociationSweeper
from openssm.services.resource_tags import ResourceTagStore
from openssm.store.db import open_database
from openssm.store.tables.associations import execution_targets
from tests.unit.fake_hub import FakeHub

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # a Monday
ACCOUNT, REGION = "111122223333", "us-east-1"
SCRIPT = AssociationSpec("AWS-RunShellScript", parameters={"commands": ("echo hi",)},
                         targets=(Target("tag:role", ("web",)),))


class World:
    def __init__(self) -> None:
        self.db = open_database("sqlite://")
        self.clock = FakeClock(NOW)
        self.hub = FakeHub()
        self._fingerprints = itertools.count()

    @property
    def now(self) -> dt.datetime:
        return self.clock.now()

    def node(self, online: bool = True, **tags: str) -> str:
        """A registered managed node, Online (a heartbeat now) unless told otherwise, with tags."""
        with self.db.begin() as conn:
            made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), self.now)
            node = instances.register(conn, activations.redeem(conn, made.activation_id, code, self.now), "KEY",
                                      f"fp-{next(self._fingerprints)}", self.now)
            if online:
                instances.heartbeat(conn, ACCOUNT, REGION, node, {}, self.now)
            ResourceTagStore().add(conn, ACCOUNT, REGION, "ManagedInstance", node, tags)
        return node

    def heartbeat(self, node: str) -> None:
        with self.db.begin() as conn:
            instances.heartbeat(conn, ACCOUNT, REGION, node, {}, self.now)

    def tag(self, node: str, **tags: str) -> None:
        with self.db.begin() as conn:
            ResourceTagStore().add(conn, ACCOUNT, REGION, "ManagedInstance", node, tags)

    def create(self, spec: AssociationSpec = SCRIPT, **changes: Any) -> associations.Run:
        """CreateAssociation as its handler makes it: create, then start what the rate controls allow."""
        with self.db.begin() as conn:
            run = associations.create(conn, ACCOUNT, REGION, replace(spec, **changes), {}, self.now)
            sent = association_dispatch.dispatch(conn, [run.execution_id] if run.execution_id else [], self.now,
                                                 self.hub.connected)
        association_dispatch.deliver(self.hub, sent)
        return run

    def report(self, node: str, association_id: str, status: str, summary: str = "done") -> None:
        """UpdateInstanceAssociationStatus as its handler makes it."""
        with self.db.begin() as conn:
            finished = report(conn, ACCOUNT, REGION, node, association_id,
                              ExecutionResult(status, self.now, summary), self.now)
            sent = association_dispatch.dispatch(conn, finished, self.now, self.hub.connected)
        association_dispatch.deliver(self.hub, sent)

    def sweeper(self) -> AssociationSweeper:
        return AssociationSweeper(self.db, self.clock, self.hub)

    def targets(self, execution_id: str) -> dict[str, tuple[str, str]]:
        """Node -> (Status, DetailedStatus) of an execution's targets."""
        t = execution_targets.c
        with self.db.read() as conn:
            return {r.resource_id: (r.status, r.detailed_status) for r in conn.execute(
                sa.select(t.resource_id, t.status, t.detailed_status).where(t.execution_id == execution_id))}
