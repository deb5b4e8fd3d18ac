"""A window execution from start to end: its tasks run by priority (lowest first; tasks of the same priority
together), a priority level only once the one before it has finished; no task starts from the window's
cutoff (Duration - Cutoff hours after the start), when CANCEL_TASK tasks are cancelled; at the window's end
invocations not yet started are not started, while CONTINUE_TASK tasks' running commands go on to their own
end (AWS: "When the cutoff time is reached, any tasks that are running continue"); their timeouts bound them.
CancelMaintenanceWindowExecution cancels.

Each pass (`advance`) is idempotent: it reads the execution, its tasks and their invocations' commands and
moves them on, so any server process may run it after a restart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services import association_targets
from openssm.services import maintenance_windows_invocations as invocations
from openssm.services import maintenance_windows_rules as rules
from openssm.services import maintenance_windows_targets as targets_service
from openssm.services import maintenance_windows_tasks as tasks_service
from openssm.services.association_targets import Tagged
from openssm.services.maintenance_windows_invocations import Place, RunContext, Sent
from openssm.services.maintenance_windows_model import (
    CANCELLED,
    CANCELLING,
    FAILED,
    FINAL,
    IN_PROGRESS,
    OPEN,
    PENDING,
    SKIPPED,
    SUCCESS,
    TIMED_OUT,
    TaskSpec,
    WindowSpec,
    WindowTarget,
)
from openssm.store.tables.maintenance_windows import execution_tasks, window_executions

CUT_OFF = "The maintenance window's cutoff was reached before the task started."
ENDED = "The maintenance window ended before this invocation started."
CUTTING_OFF = "Cancelling: the maintenance window's cutoff was reached."


def start(conn: Connection, account_id: str, region: str, window_id: str, spec: WindowSpec,
          occurrence: dt.datetime, now: dt.datetime) -> str:
    """A new execution for an occurrence, with every registered task PENDING; SKIPPED_OVERLAPPING while an
    execution of the window is still running, as AWS does."""
    e = window_executions.c
    execution_id = str(uuid.uuid4())
    busy = conn.execute(sa.select(e.window_execution_id).where(e.window_id == window_id,
                                                               e.status.in_(sorted(OPEN)))).first()
    values = dict(window_execution_id=execution_id, window_id=window_id, account_id=account_id, region=region,
                  scheduled_at=occurrence, start_time=now, cutoff_at=rules.cutoff_at(spec, occurrence),
                  ends_at=rules.ends_at(spec, occurrence))
    if busy is not None:
        conn.execute(sa.insert(window_executions).values(
            **values, status=SKIPPED, end_time=now,
            status_details=f"Skipped: execution {busy.window_execution_id} of this window was still running."))
        return execution_id
    conn.execute(sa.insert(window_executions).values(**values, status=IN_PROGRESS, status_details="InProgress"))
    for task in tasks_service.of_window(conn, window_id):
        conn.execute(sa.insert(execution_tasks).values(
            task_execution_id=str(uuid.uuid4()), window_execution_id=execution_id, window_task_id=task.window_task_id,
            priority=task.spec.priority, spec=task.spec.to_json(), status=PENDING, status_details="Pending"))
    return execution_id


def open_executions(conn: Connection) -> list[str]:
    e = window_executions.c
    return [r.window_execution_id for r in conn.execute(
        sa.select(e.window_execution_id).where(e.status.in_(sorted(OPEN))).order_by(e.start_time))]


def advance(conn: Connection, execution_id: str, now: dt.datetime, run: RunContext) -> tuple[list[Sent], list[str]]:
    """Move the execution on; answers the commands sent and the nodes whose commands were cancelled."""
    execution = conn.execute(sa.select(window_executions).where(
        window_executions.c.window_execution_id == execution_id)).first()
    if execution is None or execution.status not in OPEN:
        return [], []
    sent: list[Sent] = []
    cancelled: list[str] = []
    for task in _tasks(conn, execution_id, [IN_PROGRESS, CANCELLING]):
        invocations.sync(conn, task.task_execution_id, now)
        _settle_task(conn, task.task_execution_id, now)
    if now >= execution.cutoff_at or execution.status == CANCELLING:
        cancelled += _at_cutoff(conn, execution, now)
    if now >= execution.ends_at:
        _at_end(conn, execution, now)
    while now < execution.ends_at:
        for task in _tasks(conn, execution_id, [IN_PROGRESS]):
            sent += invocations.start_more(conn, _place(execution, task), TaskSpec.from_json(task.spec), now, run)
            _settle_task(conn, task.task_execution_id, now)
        if _tasks(conn, execution_id, [IN_PROGRESS, CANCELLING]) or now >= execution.cutoff_at \
                or execution.status == CANCELLING or not _start_next_priority(conn, execution, now):
            break
    _settle_execution(conn, execution, now)
    return sent, cancelled


def _tasks(conn: Connection, execution_id: str, statuses: Sequence[str]) -> list[sa.Row[tuple[object, ...]]]:
    t = execution_tasks.c
    return list(conn.execute(sa.select(execution_tasks).where(
        t.window_execution_id == execution_id, t.status.in_(list(statuses))).order_by(t.priority, t.task_execution_id)))


def _place(execution: sa.Row[tuple[object, ...]], task: sa.Row[tuple[object, ...]],
           instance_id: str = "", target_id: str | None = None, owner: str | None = None) -> Place:
    return Place(str(execution.account_id), str(execution.region), str(execution.window_id),
                 str(execution.window_execution_id), str(task.task_execution_id), instance_id, target_id, owner)


def _start_next_priority(conn: Connection, execution: sa.Row[tuple[object, ...]], now: dt.datetime) -> bool:
    """Start every PENDING task of the lowest priority left; False when none is left."""
    waiting = _tasks(conn, str(execution.window_execution_id), [PENDING])
    if not waiting:
        return False
    level = min(int(str(t.priority)) for t in waiting)
    fleet = association_targets.fleet(conn, str(execution.account_id), str(execution.region), now)
    window_targets = {t.window_target_id: t for t in targets_service.of_window(conn, str(execution.window_id))}
    for task in (t for t in waiting if t.priority == level):
        spec = TaskSpec.from_json(str(task.spec))
        conn.execute(sa.update(execution_tasks).where(execution_tasks.c.task_execution_id == task.task_execution_id)
                     .values(status=IN_PROGRESS, status_details="InProgress", start_time=now))
        seen: set[str] = set()
        for seq, (node, target_id, owner) in enumerate(_nodes(spec, window_targets, fleet)):
            if node not in seen:
                seen.add(node)
                invocations.add(conn, _place(execution, task, node, target_id, owner), seq, spec)
    return True


def _nodes(spec: TaskSpec, window_targets: dict[str, WindowTarget],
           fleet: list[Tagged]) -> list[tuple[str, str | None, str | None]]:
    """The task's nodes now, each with the window target that names it and that target's OwnerInformation."""
    (target,) = spec.targets
    if target.key == "InstanceIds":
        known = {n.instance_id for n, _ in fleet}
        return [(i, None, None) for i in target.values if i in known]
    found: list[tuple[str, str | None, str | None]] = []
    for target_id in target.values:
        registered = window_targets.get(target_id)
        if registered is not None:
            found += [(n.instance_id, target_id, registered.spec.owner_information)
                      for n, tags in fleet if association_targets.matches(registered.spec.targets, (n, tags))]
    return found


def _settle_task(conn: Connection, task_execution_id: str, now: dt.datetime) -> None:
    """A task whose invocations have all ended takes their outcome."""
    tally = invocations.counts(conn, task_execution_id)
    if any(s not in FINAL for s in tally):
        return
    if tally.get(FAILED):
        status, details = FAILED, f"{tally[FAILED]} of {sum(tally.values())} invocations failed."
    elif tally.get(TIMED_OUT):
        status, details = TIMED_OUT, f"{tally[TIMED_OUT]} of {sum(tally.values())} invocations timed out."
    elif tally.get(CANCELLED) and _cut_off(conn, task_execution_id):  # AWS: "not completed is TIMED_OUT"
        status, details = TIMED_OUT, "The maintenance window's cutoff was reached before the task finished."
    elif tally.get(CANCELLED):
        status, details = CANCELLED, "The task was cancelled."
    else:
        status, details = SUCCESS, "Success" if tally else "The task's targets named no managed node."
    t = execution_tasks.c
    conn.execute(sa.update(execution_tasks).where(t.task_execution_id == task_execution_id,
                                                  t.status.in_([IN_PROGRESS, CANCELLING]))
                 .values(status=status, status_details=details, end_time=now))


def _cut_off(conn: Connection, task_execution_id: str) -> bool:
    t = execution_tasks.c
    return conn.execute(sa.select(t.status_details).where(t.task_execution_id == task_execution_id)).scalar() \
        == CUTTING_OFF


def _at_cutoff(conn: Connection, execution: sa.Row[tuple[object, ...]], now: dt.datetime) -> list[str]:
    """From the cutoff (or a cancel) no task starts; CANCEL_TASK tasks (every task, on a cancel) are cancelled."""
    cancelling = execution.status == CANCELLING
    t = execution_tasks.c
    conn.execute(sa.update(execution_tasks).where(t.window_execution_id == execution.window_execution_id,
                                                  t.status == PENDING).values(
        status=CANCELLED, status_details="The execution was cancelled." if cancelling else CUT_OFF, end_time=now))
    nodes: list[str] = []
    for task in _tasks(conn, str(execution.window_execution_id), [IN_PROGRESS]):
        if cancelling:
            nodes += _cancel_task(conn, execution, task, now, "Cancelling")
        elif TaskSpec.from_json(str(task.spec)).cutoff_behavior == "CANCEL_TASK":
            nodes += _cancel_task(conn, execution, task, now, CUTTING_OFF)
    return nodes


def _cancel_task(conn: Connection, execution: sa.Row[tuple[object, ...]], task: sa.Row[tuple[object, ...]],
                 now: dt.datetime, details: str) -> list[str]:
    invocations.stop_pending(conn, str(task.task_execution_id), now, "The task was cancelled before this "
                                                                     "invocation started.")
    nodes = invocations.cancel_running(conn, str(execution.account_id), str(execution.region),
                                       str(task.task_execution_id), now)
    conn.execute(sa.update(execution_tasks).where(execution_tasks.c.task_execution_id == task.task_execution_id)
                 .values(status=CANCELLING, status_details=details))
    _settle_task(conn, str(task.task_execution_id), now)
    return nodes


def _at_end(conn: Connection, execution: sa.Row[tuple[object, ...]], now: dt.datetime) -> None:
    """The window ended: no invocation starts any more; those running finish on their own."""
    for task in _tasks(conn, str(execution.window_execution_id), [IN_PROGRESS]):
        invocations.stop_pending(conn, str(task.task_execution_id), now, ENDED)
        _settle_task(conn, str(task.task_execution_id), now)


def _settle_execution(conn: Connection, execution: sa.Row[tuple[object, ...]], now: dt.datetime) -> None:
    """An execution whose tasks have all ended takes their outcome (CANCELLED after a cancel)."""
    t = execution_tasks.c
    statuses = [str(r.status) for r in conn.execute(sa.select(t.status).where(
        t.window_execution_id == execution.window_execution_id))]
    if any(s not in FINAL for s in statuses):
        return
    if execution.status == CANCELLING:
        status, details = CANCELLED, "The execution was cancelled."
    elif FAILED in statuses:
        status, details = FAILED, "One or more tasks in the orchestration failed."
    elif TIMED_OUT in statuses:
        status, details = TIMED_OUT, "One or more tasks in the orchestration timed out."
    elif CANCELLED in statuses:
        status, details = CANCELLED, "One or more tasks in the orchestration were cancelled."
    else:
        status, details = SUCCESS, "Success" if statuses else "The maintenance window has no tasks."
    e = window_executions.c
    conn.execute(sa.update(window_executions).where(e.window_execution_id == execution.window_execution_id,
                                                    e.status.in_(sorted(OPEN)))
                 .values(status=status, status_details=details, end_time=now))


def cancel(conn: Connection, execution_id: str) -> None:
    """CancelMaintenanceWindowExecution: the next pass stops it (an execution already over is left as is)."""
    e = window_executions.c
    conn.execute(sa.update(window_executions).where(e.window_execution_id == execution_id,
                                                    e.status.in_([PENDING, IN_PROGRESS]))
                 .values(status=CANCELLING, status_details="Cancelling"))
