"""How associations run: targets started by AWS-RefreshAssociation commands within MaxConcurrency and MaxErrors,
nodes' reports, their statuses and compliance, the scheduler's ticks (restart-safe), and nodes that join."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from openssm.services import association_executions as executions
from openssm.services import association_reports, associations, commands, compliance, instances
from openssm.services.association_model import Association, AssociationDoesNotExist, Execution, Target
from openssm.services.association_scheduler import AssociationSweeper, start_due
from openssm.store.tables.associations import associations as association_rows
from tests.unit.test_associations_world import ACCOUNT, REGION, SCRIPT, World


@pytest.fixture
def world() -> World:
    return World()


def executions_of(world: World, association_id: str) -> list[Execution]:
    with world.db.read() as conn:
        return executions.executions(conn, association_id, [], 0, 50)[0]


def to_run(world: World, node: str) -> list[association_reports.NodeAssociation]:
    with world.db.read() as conn:
        return association_reports.to_run(conn, ACCOUNT, REGION, node, world.now)


def statuses(world: World, node: str) -> dict[str, tuple[str, str]]:
    with world.db.read() as conn:
        return {s.association_id: (s.status, s.detailed_status)
                for s in association_reports.statuses(conn, ACCOUNT, REGION, node)}


def describe(world: World, association_id: str) -> Association:
    with world.db.read() as conn:
        return associations.describe(conn, ACCOUNT, REGION, association_id)


def test_a_target_is_started_by_a_real_refresh_association_command(world: World) -> None:
    node = world.node(role="web")
    run = world.create()
    assert run.execution_id is not None
    assert world.targets(run.execution_id) == {node: ("InProgress", "InProgress")}
    with world.db.read() as conn:
        (command,) = commands.list_commands(conn, ACCOUNT, REGION)
    assert (command.document_name, command.instance_ids) == ("AWS-RefreshAssociation", [node])
    assert command.parameters == {"associationIds": [run.association_id]}
    assert world.hub.notified == [node]  # its channel (in whichever process) reads the job from the store
    (listed,) = to_run(world, node)
    assert (listed.association_id, listed.document_name, listed.detailed_status) == (
        run.association_id, "AWS-RunShellScript", "Pending")
    assert json.loads(listed.content)["runtimeConfig"] and listed.parameters == {"commands": ("echo hi",)}
    assert to_run(world, world.node(role="db")) == []


def test_a_success_report_completes_the_target_and_records_status_and_compliance(world: World) -> None:
    node = world.node(role="web")
    run = world.create(compliance_severity="HIGH")
    assert run.execution_id is not None
    world.report(node, run.association_id, "InProgress", "Executing association")
    assert world.targets(run.execution_id) == {node: ("InProgress", "InProgress")}
    assert to_run(world, node)[0].detailed_status == "InProgress"  # AWS's agent will not start it again
    world.clock.advance(seconds=30)
    world.report(node, run.association_id, "Success", "1 out of 1 plugin processed, 1 success")
    assert world.targets(run.execution_id) == {node: ("Success", "Success")}
    assert to_run(world, node) == []
    (execution,) = executions_of(world, run.association_id)
    assert (execution.status, execution.resource_count_by_status, execution.last_execution_at) == (
        "Success", "{Success=1}", world.now)
    a = describe(world, run.association_id)
    assert (a.overview.status, dict(a.overview.counts), a.last_execution_at, a.last_successful_at) == (
        "Success", {"Success": 1}, world.now, world.now)
    assert statuses(world, node) == {run.association_id: ("Success", "Success")}
    with world.db.read() as conn:
        (item,) = compliance.items_of(conn, ACCOUNT, REGION, [node])
    assert (item.compliance_type, item.id, item.title, item.severity, item.status) == (
        "Association", run.association_id, "AWS-RunShellScript", "HIGH", "COMPLIANT")
    assert item.details == {"DocumentName": "AWS-RunShellScript", "DocumentVersion": "1"}
    assert item.summary.execution_id == execution.execution_id


def test_a_failure_is_non_compliant_unless_compliance_is_manual(world: World) -> None:
    node = world.node(role="web")
    auto, manual = world.create(), world.create(sync_compliance="MANUAL")
    world.report(node, auto.association_id, "TimedOut")
    world.report(node, manual.association_id, "Failed")
    assert auto.execution_id is not None
    assert world.targets(auto.execution_id) == {node: ("Failed", "TimedOut")}
    assert statuses(world, node)[auto.association_id] == ("Failed", "TimedOut")
    with world.db.read() as conn:
        items = compliance.items_of(conn, ACCOUNT, REGION, [node])
    assert [(i.id, i.status) for i in items] == [(auto.association_id, "NON_COMPLIANT")]
    assert describe(world, manual.association_id).overview.status == "Failed"


def test_max_concurrency_starts_targets_a_few_at_a_time(world: World) -> None:
    nodes = sorted(world.node(role="web") for _ in range(3))
    run = world.create(max_concurrency="1")
    assert run.execution_id is not None
    started = [n for n, (status, _) in world.targets(run.execution_id).items() if status == "InProgress"]
    assert len(started) == 1
    world.report(started[0], run.association_id, "Success")
    running = [n for n, (status, _) in world.targets(run.execution_id).items() if status == "InProgress"]
    assert len(running) == 1 and running != started
    with world.db.read() as conn:
        assert len(commands.list_commands(conn, ACCOUNT, REGION)) == 2
    assert sorted(world.targets(run.execution_id)) == nodes


def test_past_max_errors_the_remaining_targets_are_skipped(world: World) -> None:
    for _ in range(4):
        world.node(role="web")
    run = world.create(max_concurrency="2", max_errors="0")
    assert run.execution_id is not None
    first = [n for n, (status, _) in world.targets(run.execution_id).items() if status == "InProgress"]
    world.report(first[0], run.association_id, "Failed")
    targets = world.targets(run.execution_id)
    assert sorted(status for status, _ in targets.values()) == ["Failed", "InProgress", "Skipped", "Skipped"]
    world.report(first[1], run.association_id, "Success")  # one already running finishes
    (execution,) = executions_of(world, run.association_id)
    assert (execution.status, execution.resource_count_by_status) == ("Failed", "{Failed=1, Skipped=2, Success=1}")


def test_an_offline_node_waits_and_is_started_once_it_is_back(world: World) -> None:
    node = world.node(online=False, role="web")
    run = world.create()
    assert run.execution_id is not None
    assert world.targets(run.execution_id) == {node: ("Pending", "Pending")}
    sweeper = world.sweeper()
    sweeper.sweep()
    assert world.targets(run.execution_id) == {node: ("Pending", "Pending")}
    world.heartbeat(node)
    sweeper.sweep()
    assert world.targets(run.execution_id) == {node: ("InProgress", "InProgress")}


def test_a_deregistered_nodes_targets_end_so_their_executions_can(world: World) -> None:
    waiting = world.node(online=False, role="web")
    running = world.node(role="web")
    run = world.create()
    assert run.execution_id is not None
    world.sweeper().sweep()
    assert world.targets(run.execution_id) == {waiting: ("Pending", "Pending"), running: ("InProgress", "InProgress")}
    with world.db.begin() as conn:
        for node in (waiting, running):
            instances.deregister(conn, ACCOUNT, REGION, node)
            executions.end_for_departed_node(conn, node, world.now)
    assert world.targets(run.execution_id) == {
        waiting: ("Skipped", "Skipped: the managed node was deregistered"),
        running: ("Failed", "Failed: the managed node was deregistered")}
    (execution,) = executions_of(world, run.association_id)
    assert execution.status == "Failed"  # over, rather than Pending for ever


def test_a_refresh_command_never_delivered_fails_its_target(world: World) -> None:
    node = world.node(role="web")
    run = world.create()
    assert run.execution_id is not None
    world.clock.advance(hours=1, seconds=1)
    with world.db.begin() as conn:
        commands.expire(conn, world.now)
    world.sweeper().sweep()
    assert world.targets(run.execution_id) == {node: ("Failed", "DeliveryTimedOut")}
    assert statuses(world, node)[run.association_id] == ("Failed", "DeliveryTimedOut")


def next_run_at(world: World, association_id: str) -> dt.datetime | None:
    with world.db.read() as conn:
        when: dt.datetime | None = conn.execute(sa.select(association_rows.c.next_run_at).where(
            association_rows.c.association_id == association_id)).scalar_one()
    return when


def test_each_tick_runs_once_even_across_a_restart(world: World) -> None:
    node = world.node(role="web")
    run = world.create(schedule_expression="rate(1 hour)")
    assert next_run_at(world, run.association_id) == world.now + dt.timedelta(hours=1)
    world.clock.advance(hours=1)
    world.heartbeat(node)
    world.sweeper().sweep()
    assert len(executions_of(world, run.association_id)) == 2
    assert next_run_at(world, run.association_id) == world.now + dt.timedelta(hours=1)
    AssociationSweeper(world.db, world.clock, world.hub).sweep()  # a restarted server, same moment
    assert len(executions_of(world, run.association_id)) == 2
    world.clock.advance(hours=5, minutes=10)  # down across five ticks
    world.heartbeat(node)
    world.sweeper().sweep()
    assert len(executions_of(world, run.association_id)) == 3
    assert next_run_at(world, run.association_id) == world.now + dt.timedelta(minutes=50)


def test_a_tick_is_claimed_by_one_process_only(world: World) -> None:
    world.node(role="web")
    run = world.create(schedule_expression="rate(1 hour)")
    world.clock.advance(hours=1)
    with world.db.begin() as conn:
        assert start_due(conn, world.now) == [run.association_id]
        assert start_due(conn, world.now) == []


def test_a_node_that_misses_runs_while_offline_runs_once_when_back(world: World) -> None:
    node = world.node(online=False, role="web")
    run = world.create(schedule_expression="rate(1 hour)")
    sweeper = world.sweeper()
    for _ in range(3):
        world.clock.advance(hours=1)
        sweeper.sweep()
    assert len(executions_of(world, run.association_id)) == 1  # later ticks found it still waiting
    world.heartbeat(node)
    sweeper.sweep()
    (execution,) = executions_of(world, run.association_id)
    assert world.targets(execution.execution_id) == {node: ("InProgress", "InProgress")}


def test_a_node_that_newly_matches_the_targets_gets_its_own_run(world: World) -> None:
    first = world.node(role="web")
    run = world.create()
    waiting = world.create(schedule_expression="cron(0 2 ? * SUN *)", apply_only_at_cron_interval=True)
    sweeper = world.sweeper()
    sweeper.sweep()
    assert len(executions_of(world, run.association_id)) == 1
    joined = world.node(role="db")
    world.tag(joined, role="web")
    world.clock.advance(seconds=11)
    sweeper.sweep()
    newest = executions_of(world, run.association_id)[0]
    assert world.targets(newest.execution_id) == {joined: ("InProgress", "InProgress")}
    assert executions_of(world, waiting.association_id) == []  # it waits for its tick
    assert set(statuses(world, joined)) == {run.association_id, waiting.association_id}
    world.clock.advance(seconds=11)
    sweeper.sweep()
    AssociationSweeper(world.db, world.clock, world.hub).sweep()  # a restarted server sees every node anew
    assert len(executions_of(world, run.association_id)) == 2
    assert first not in world.targets(newest.execution_id)


def test_start_associations_once_runs_each_now(world: World) -> None:
    world.node(role="web")
    run = world.create()
    with world.db.begin() as conn:
        started = associations.start_once(conn, ACCOUNT, REGION, [run.association_id], world.now)
    assert len(started) == 1 and len(executions_of(world, run.association_id)) == 2
    with pytest.raises(AssociationDoesNotExist), world.db.begin() as conn:
        associations.start_once(conn, ACCOUNT, REGION, ["00000000-0000-4000-8000-000000000000"], world.now)


def test_effective_associations_are_those_whose_targets_include_the_node(world: World) -> None:
    node = world.node(role="web")
    mine = world.create()
    world.create(targets=(Target("tag:role", ("db",)),))
    with world.db.read() as conn:
        found = association_reports.effective(conn, ACCOUNT, REGION, node, world.now)
    assert [(a.association_id, json.loads(content)["schemaVersion"]) for a, content in found] == [
        (mine.association_id, "1.2")]


def test_a_report_for_an_unknown_association_is_refused(world: World) -> None:
    node = world.node()
    with pytest.raises(AssociationDoesNotExist):
        world.report(node, "00000000-0000-4000-8000-000000000000", "Success")


def test_a_report_without_a_started_target_still_records_the_nodes_status(world: World) -> None:
    node = world.node(role="web")
    run = world.create(SCRIPT)
    world.report(node, run.association_id, "Success")
    world.clock.advance(minutes=1)
    world.report(node, run.association_id, "Failed")  # a run the node made on its own (AWS's agent may)
    assert statuses(world, node)[run.association_id] == ("Failed", "Failed")
    assert run.execution_id is not None and world.targets(run.execution_id) == {node: ("Success", "Success")}
