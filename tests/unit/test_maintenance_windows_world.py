"""The world the Maintenance Windows tests share (no tests here): an in-memory store, a fake clock, managed
nodes with tags, a window with targets and tasks, the scheduler's passes, and nodes finishing commands."""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.clock import FakeClock
from openssm.services import activations, instances
from openssm.services import maintenance_windows as windows
from openssm.services import maintenance_windows_executions as executions
from openssm.services import maintenance_windows_targets as targets
from openssm.services import maintenance_windows_tasks as tasks
from openssm.services.activations import NewActivation
from openssm.services.command_documents import SsmLookup
from openssm.services.maintenance_windows_model import RunCommand, Target, TargetSpec, TaskSpec, WindowSpec
from openssm.services.maintenance_windows_scheduler import MaintenanceWindowSweeper
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import ResourceTagStore
from openssm.store.db import open_database
from openssm.store.tables.commands import invocations
from tests.unit.fake_hub import FakeHub

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # a Monday
ACCOUNT, REGION = "111122223333", "us-east-1"
AT_NOON = WindowSpec("nightly", "at(2026-12-07T12:00:00)", duration=3, cutoff=1, allow_unassociated_targets=False)


def no_lookup(_conn: Connection, _scope: Scope) -> SsmLookup:
    def lookup(name: str) -> str:
        raise AssertionError(f"unexpected {{{{ssm:{name}}}}}")
    return lookup


def script_task(window_target_id: str, priority: int, text: str = "echo hi", **changes: object) -> TaskSpec:
    spec = TaskSpec("AWS-RunShellScript", "RUN_COMMAND", (Target("WindowTargetIds", (window_target_id,)),),
                    priority, "10", "1", run_command=RunCommand({"commands": (text,)}))
    return TaskSpec(**{**spec.__dict__, **changes})  # type: ignore[arg-type]


class World:
    def __init__(self) -> None:
        self.db = open_database("sqlite://")
        self.clock = FakeClock(NOW)
        self.hub = FakeHub()
        self._fingerprints = itertools.count()

    @property
    def now(self) -> dt.datetime:
        return self.clock.now()

    def node(self, **tags: str) -> str:
        with self.db.begin() as conn:
            made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), self.now)
            node = instances.register(conn, activations.redeem(conn, made.activation_id, code, self.now), "KEY",
                                      f"fp-{next(self._fingerprints)}", self.now)
            instances.heartbeat(conn, ACCOUNT, REGION, node, {}, self.now)
            ResourceTagStore().add(conn, ACCOUNT, REGION, "ManagedInstance", node, tags)
        return node

    def window(self, spec: WindowSpec = AT_NOON) -> str:
        with self.db.begin() as conn:
            return windows.create(conn, ACCOUNT, REGION, spec, {}, None, self.now)

    def target(self, window_id: str, **tags: str) -> str:
        spec = TargetSpec("INSTANCE", tuple(Target(f"tag:{k}", (v,)) for k, v in tags.items()), "owner-1")
        with self.db.begin() as conn:
            return targets.register(conn, ACCOUNT, REGION, window_id, spec, None, self.now)

    def task(self, window_id: str, spec: TaskSpec) -> str:
        with self.db.begin() as conn:
            return tasks.register(conn, ACCOUNT, REGION, window_id, spec, None, self.now)

    def sweep(self, sweeper: MaintenanceWindowSweeper | None = None) -> None:
        (sweeper or MaintenanceWindowSweeper(self.db, self.clock, self.hub, no_lookup)).sweep()

    def executions(self, window_id: str) -> list[executions.Execution]:
        with self.db.read() as conn:
            return executions.executions(conn, ACCOUNT, REGION, window_id, [])

    def task_statuses(self, execution_id: str) -> list[tuple[int, str]]:
        """(Priority, Status) of an execution's tasks, by priority."""
        with self.db.read() as conn:
            return [(t.spec.priority, t.status) for t in executions.tasks(conn, ACCOUNT, REGION, execution_id, [])]

    def invocations(self, execution_id: str) -> list[executions.TaskInvocation]:
        with self.db.read() as conn:
            found = []
            for t in executions.tasks(conn, ACCOUNT, REGION, execution_id, []):
                found += executions.invocations(conn, ACCOUNT, REGION, execution_id, t.task_execution_id, [])
            return found

    def finish(self, command_id: str, status: str = "Success") -> None:
        """The node reports the command's end (as invocation_replies does)."""
        i = invocations.c
        with self.db.begin() as conn:
            conn.execute(sa.update(invocations).where(i.command_id == command_id).values(
                status=status, status_details=status, ended_at=self.now))
