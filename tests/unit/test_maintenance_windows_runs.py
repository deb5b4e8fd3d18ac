"""How maintenance windows run, on a fake clock: occurrences claimed once (restarts and several processes
neither skip nor double one; one whose cutoff passed while no server ran starts nothing), tasks by priority
with one Run Command command per invocation, the cutoff, CANCEL_TASK, the window's end and cancellation."""

from __future__ import annotations

import dataclasses
import json

import pytest

from openssm.services import commands
from openssm.services import maintenance_windows_executions as executions
from openssm.services.maintenance_windows_scheduler import MaintenanceWindowSweeper
from tests.unit.test_maintenance_windows_world import ACCOUNT, AT_NOON, REGION, World, no_lookup, script_task


@pytest.fixture
def world() -> World:
    return World()


def at_noon(world: World) -> None:
    world.clock.advance(hours=2)  # 12:00, the window's occurrence


def test_tasks_run_by_priority_each_invocation_by_its_own_command(world: World) -> None:
    web1, web2 = world.node(role="web"), world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 2, "echo second"))
    world.task(window_id, script_task(target_id, 1, "echo first {{RESOURCE_ID}}"))
    world.sweep()
    assert world.executions(window_id) == []  # not yet
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    assert execution.status == "IN_PROGRESS"
    assert world.task_statuses(execution.window_execution_id) == [(1, "IN_PROGRESS"), (2, "PENDING")]
    first = world.invocations(execution.window_execution_id)
    assert sorted(i.parameters and json.loads(i.parameters)["instanceIds"][0] for i in first) == sorted([web1, web2])
    assert all(i.window_target_id == target_id and i.owner_information == "owner-1" for i in first)
    with world.db.read() as conn:
        sent = {i.execution_id: commands.get_command(conn, ACCOUNT, REGION, str(i.execution_id)) for i in first}
    assert {tuple(c.instance_ids) for c in sent.values()} == {(web1,), (web2,)}  # one command per invocation
    assert {c.parameters["commands"][0] for c in sent.values()} == {f"echo first {web1}", f"echo first {web2}"}
    for command_id in sent:
        world.finish(str(command_id))
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "SUCCESS"), (2, "IN_PROGRESS")]
    for i in world.invocations(execution.window_execution_id)[2:]:
        world.finish(str(i.execution_id))
    world.sweep()
    (done,) = world.executions(window_id)
    assert (done.status, done.end_time) == ("SUCCESS", world.now)
    assert {i.status for i in world.invocations(execution.window_execution_id)} == {"SUCCESS"}


def test_a_failed_invocation_fails_its_task_and_the_execution(world: World) -> None:
    world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    (invocation,) = world.invocations(execution.window_execution_id)
    world.finish(str(invocation.execution_id), "Failed")
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "FAILED")]
    assert world.executions(window_id)[0].status == "FAILED"


def test_no_task_starts_after_the_cutoff_and_cancel_task_is_cancelled(world: World) -> None:
    node = world.node(role="web")
    window_id = world.window()  # 12:00 for 3 hours, cutoff 1 hour: nothing starts from 14:00
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1, cutoff_behavior="CANCEL_TASK"))
    world.task(window_id, script_task(target_id, 2))
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    world.clock.advance(hours=2)
    world.sweep()
    # AWS: a Run Command task cancelled at the cutoff "that is not completed is TIMED_OUT"
    assert world.task_statuses(execution.window_execution_id) == [(1, "TIMED_OUT"), (2, "CANCELLED")]
    (invocation,) = world.invocations(execution.window_execution_id)
    assert invocation.status == "CANCELLED"  # its command was cancelled before the node took it
    with world.db.read() as conn:
        (command,) = commands.list_commands(conn, ACCOUNT, REGION, node)
    assert command.status == "Cancelled"
    assert world.executions(window_id)[0].status == "TIMED_OUT"


def test_a_continue_task_task_runs_on_past_the_cutoff_and_the_window_end_until_its_command_ends(
        world: World) -> None:
    world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    world.task(window_id, script_task(target_id, 2))
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    world.clock.advance(hours=2, minutes=30)
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "IN_PROGRESS"), (2, "CANCELLED")]
    world.clock.advance(minutes=30)  # 15:00: the window ends; the running command goes on
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "IN_PROGRESS"), (2, "CANCELLED")]
    assert world.executions(window_id)[0].status == "IN_PROGRESS"
    (invocation,) = world.invocations(execution.window_execution_id)
    world.finish(str(invocation.execution_id), "Success")
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "SUCCESS"), (2, "CANCELLED")]
    assert world.executions(window_id)[0].status == "CANCELLED"  # one of its tasks never started


def test_an_occurrence_is_started_once_by_several_processes_and_after_a_restart(world: World) -> None:
    world.node(role="web")
    window_id = world.window(dataclasses.replace(AT_NOON, schedule="cron(0 12 ? * * *)"))
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    at_noon(world)
    for _ in range(3):  # three processes (or one restarted twice) pass over the same due occurrence
        world.sweep(MaintenanceWindowSweeper(world.db, world.clock, world.hub, no_lookup))
    assert len(world.executions(window_id)) == 1
    world.clock.advance(days=1)
    world.sweep()
    assert len(world.executions(window_id)) == 2  # the next day's, once


def test_a_server_down_past_the_cutoff_starts_nothing_for_that_occurrence(world: World) -> None:
    world.node(role="web")
    window_id = world.window(dataclasses.replace(AT_NOON, schedule="cron(0 12 ? * * *)"))
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    world.clock.advance(hours=4, minutes=30)  # 14:30: the 12:00 occurrence's cutoff (14:00) has passed
    world.sweep()
    assert world.executions(window_id) == []
    world.clock.advance(hours=21, minutes=30)  # the next day's at 12:00 runs
    world.sweep()
    assert len(world.executions(window_id)) == 1


def test_a_server_down_before_the_cutoff_starts_the_occurrence_late_with_its_own_end(world: World) -> None:
    world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1, cutoff_behavior="CANCEL_TASK"))
    world.clock.advance(hours=3)  # 13:00: late, but before the 14:00 cutoff
    world.sweep()
    (execution,) = world.executions(window_id)
    assert execution.status == "IN_PROGRESS" and execution.start_time == world.now
    world.clock.advance(hours=1)  # 14:00 is still the occurrence's cutoff, not an hour after the late start
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "TIMED_OUT")]


def test_cancelling_an_execution_cancels_its_commands_and_pending_tasks(world: World) -> None:
    world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    world.task(window_id, script_task(target_id, 2))
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    with world.db.begin() as conn:
        executions.cancel(conn, ACCOUNT, REGION, execution.window_execution_id)
    assert world.executions(window_id)[0].status == "CANCELLING"
    world.sweep()
    assert world.task_statuses(execution.window_execution_id) == [(1, "CANCELLED"), (2, "CANCELLED")]
    assert world.executions(window_id)[0].status == "CANCELLED"


def test_an_occurrence_while_the_last_execution_runs_is_skipped_overlapping(world: World) -> None:
    world.node(role="web")
    window_id = world.window(dataclasses.replace(AT_NOON, schedule="rate(1 hour)", duration=2, cutoff=1))
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    world.clock.advance(hours=1)
    world.sweep()
    world.clock.advance(hours=1)
    world.sweep()
    assert [e.status for e in world.executions(window_id)] == ["SKIPPED_OVERLAPPING", "IN_PROGRESS"]


def test_targets_resolve_when_the_task_starts(world: World) -> None:
    early = world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    late = world.node(role="web")  # tagged after the target was registered
    world.node(role="db")
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    nodes = sorted(json.loads(i.parameters)["instanceIds"][0] for i in world.invocations(execution.window_execution_id))
    assert nodes == sorted([early, late])


def test_invocations_start_max_concurrency_at_a_time_and_stop_past_max_errors(world: World) -> None:
    for _ in range(3):
        world.node(role="web")
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1, max_concurrency="1", max_errors="0"))
    at_noon(world)
    world.sweep()
    (execution,) = world.executions(window_id)
    assert [i.status for i in world.invocations(execution.window_execution_id)] == [
        "IN_PROGRESS", "PENDING", "PENDING"]
    world.finish(str(world.invocations(execution.window_execution_id)[0].execution_id))
    world.sweep()
    assert [i.status for i in world.invocations(execution.window_execution_id)] == [
        "SUCCESS", "IN_PROGRESS", "PENDING"]
    world.finish(str(world.invocations(execution.window_execution_id)[1].execution_id), "Failed")
    world.sweep()
    last = world.invocations(execution.window_execution_id)[2]
    assert (last.status, last.execution_id) == ("CANCELLED", None)  # past MaxErrors: never sent
    assert "MaxErrors" in last.status_details
    assert world.task_statuses(execution.window_execution_id) == [(1, "FAILED")]
