"""What the API shows of a window's executions: DescribeMaintenanceWindowExecutions,
GetMaintenanceWindowExecution, …ExecutionTasks, …ExecutionTaskInvocations, GetMaintenanceWindowExecutionTask
(Invocation); and CancelMaintenanceWindowExecution. Executions are run by maintenance_windows_runner.py."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services import maintenance_windows as windows_service
from openssm.services import maintenance_windows_rules as rules
from openssm.services import maintenance_windows_runner as runner
from openssm.services.associations import filter_date
from openssm.services.maintenance_windows_model import (
    RUN_COMMAND,
    DoesNotExist,
    Execution,
    ExecutionTask,
    TaskInvocation,
    TaskSpec,
)
from openssm.store.tables.maintenance_windows import execution_tasks, task_invocations, window_executions

Filters = Sequence[tuple[str, Sequence[str]]]
EXECUTION_FILTER_KEYS = ("ExecutedBefore", "ExecutedAfter")
STATUS_FILTER_KEYS = ("Status",)


def _row(conn: Connection, account_id: str, region: str, execution_id: str) -> sa.Row[tuple[object, ...]]:
    e = window_executions.c
    found = conn.execute(sa.select(window_executions).where(
        e.window_execution_id == execution_id, e.account_id == account_id, e.region == region)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window execution {execution_id} does not exist")
    return found


def _execution(r: sa.Row[tuple[object, ...]], task_ids: Sequence[str] = ()) -> Execution:
    return Execution(str(r.window_id), str(r.window_execution_id), str(r.status), str(r.status_details),
                     r.start_time, r.end_time, tuple(task_ids))


def executions(conn: Connection, account_id: str, region: str, window_id: str, filters: Filters) -> list[Execution]:
    """The window's executions, newest first; ExecutedBefore/ExecutedAfter compare their start times."""
    rules.check_filter_keys(filters, EXECUTION_FILTER_KEYS)
    windows_service.row(conn, account_id, region, window_id)
    e = window_executions.c
    query = sa.select(window_executions).where(e.window_id == window_id)
    for key, values in filters:
        for value in values:
            when = filter_date(key, value)
            query = query.where(e.start_time < when if key == "ExecutedBefore" else e.start_time > when)
    return [_execution(r) for r in conn.execute(query.order_by(e.start_time.desc(), e.window_execution_id))]




def get(conn: Connection, account_id: str, region: str, execution_id: str) -> Execution:
    r = _row(conn, account_id, region, execution_id)
    t = execution_tasks.c
    ids = [x.task_execution_id for x in conn.execute(sa.select(t.task_execution_id).where(
        t.window_execution_id == execution_id).order_by(t.priority, t.task_execution_id))]
    return _execution(r, ids)


def _task(r: sa.Row[tuple[object, ...]]) -> ExecutionTask:
    return ExecutionTask(str(r.window_execution_id), str(r.task_execution_id), TaskSpec.from_json(str(r.spec)),
                         str(r.status), str(r.status_details), r.start_time, r.end_time)


def tasks(conn: Connection, account_id: str, region: str, execution_id: str, filters: Filters) -> list[ExecutionTask]:
    rules.check_filter_keys(filters, STATUS_FILTER_KEYS)
    _row(conn, account_id, region, execution_id)
    t = execution_tasks.c
    found = [_task(r) for r in conn.execute(sa.select(execution_tasks).where(
        t.window_execution_id == execution_id).order_by(t.priority, t.task_execution_id))]
    return [x for x in found if all(x.status in v for _, v in filters)]


def task(conn: Connection, account_id: str, region: str, execution_id: str, task_execution_id: str) -> ExecutionTask:
    _row(conn, account_id, region, execution_id)
    t = execution_tasks.c
    found = conn.execute(sa.select(execution_tasks).where(t.window_execution_id == execution_id,
                                                          t.task_execution_id == task_execution_id)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window task execution {task_execution_id} does not exist in execution "
                           f"{execution_id}")
    return _task(found)


def _invocation(r: sa.Row[tuple[object, ...]]) -> TaskInvocation:
    return TaskInvocation(str(r.window_execution_id), str(r.task_execution_id), str(r.invocation_id), r.command_id,
                          RUN_COMMAND, str(r.parameters), str(r.status), str(r.status_details), r.start_time,
                          r.end_time, r.owner_information, r.window_target_id)


def invocations(conn: Connection, account_id: str, region: str, execution_id: str, task_execution_id: str,
                filters: Filters) -> list[TaskInvocation]:
    rules.check_filter_keys(filters, STATUS_FILTER_KEYS)
    task(conn, account_id, region, execution_id, task_execution_id)
    i = task_invocations.c
    found = [_invocation(r) for r in conn.execute(sa.select(task_invocations).where(
        i.task_execution_id == task_execution_id).order_by(i.seq))]
    return [x for x in found if all(x.status in v for _, v in filters)]


def invocation(conn: Connection, account_id: str, region: str, execution_id: str, task_execution_id: str,
               invocation_id: str) -> TaskInvocation:
    task(conn, account_id, region, execution_id, task_execution_id)
    i = task_invocations.c
    found = conn.execute(sa.select(task_invocations).where(i.task_execution_id == task_execution_id,
                                                           i.invocation_id == invocation_id)).first()
    if found is None:
        raise DoesNotExist(f"Maintenance window task invocation {invocation_id} does not exist in task execution "
                           f"{task_execution_id}")
    return _invocation(found)


def window_of(conn: Connection, account_id: str, region: str, execution_id: str) -> str:
    """The window an execution belongs to (for authorizing on the window's ARN); DoesNotExist otherwise."""
    return str(_row(conn, account_id, region, execution_id).window_id)


def cancel(conn: Connection, account_id: str, region: str, execution_id: str) -> None:
    _row(conn, account_id, region, execution_id)
    runner.cancel(conn, execution_id)
