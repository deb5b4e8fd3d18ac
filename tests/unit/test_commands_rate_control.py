"""Run Command's rate controls and delivery timeout on the store, with a fake clock and no network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.protocol.message_ids import cancel_message_id, run_command_message_id
from openssm.protocol.mgs import JobReply, PluginResult
from openssm.services import command_delivery, command_documents, commands, documents, invocation_replies
from openssm.services import commands_rate_control as rate
from openssm.services.commands import NewCommand
from openssm.store.db import open_database

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
NODES = ["mi-00000000000000001", "mi-00000000000000002", "mi-00000000000000003"]


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


def send(conn: Connection, **limits: object) -> str:
    document = command_documents.for_version(documents.built_in("AWS-RunShellScript", "us-east-1"),
                                             {"commands": ["true"]}, lambda ref: ref)
    return commands.send(conn, "111122223333", "us-east-1", "arn:aws:iam::111122223333:user/a",
                         NewCommand(document, NODES, [], **limits), NOW)  # type: ignore[arg-type]


def finish(conn: Connection, command_id: str, node: str, status: str) -> None:
    invocation_replies.apply_reply(conn, node, JobReply(command_id, status, (PluginResult("aws:runShellScript", status,
                                                                                 0 if status == "Success" else 1,
                                                                                 "", ""),)), NOW)


def command(conn: Connection, command_id: str) -> commands.Command:
    return commands.get_command(conn, "111122223333", "us-east-1", command_id)


@pytest.mark.parametrize(("value", "targets", "expected"), [("1", 10, 1), ("50%", 3, 2), ("10%", 3, 1),
                                                            ("100%", 7, 7), ("0", 5, 1)])
def test_concurrency_is_a_number_or_a_rounded_up_percentage_of_at_least_one(value: str, targets: int,
                                                                             expected: int) -> None:
    assert rate.concurrency(value, targets) == expected


@pytest.mark.parametrize("value", ["-1", "abc", "101%", "5 %", ""])
def test_malformed_limits_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        rate.concurrency(value, 10)


def test_max_concurrency_1_runs_strictly_one_at_a_time(conn: Connection) -> None:
    command_id = send(conn, max_concurrency="1")
    assert len(command_delivery.jobs_owed(conn, NODES[0], NOW)) == 1
    assert command_delivery.jobs_owed(conn, NODES[1], NOW) == [] and command_delivery.jobs_owed(conn, NODES[2], NOW) == []
    finish(conn, command_id, NODES[0], "Success")
    assert command_delivery.waiting_instances(conn, command_id) == NODES[1:2]
    assert command_delivery.waiting_instances(conn, command_id, limit=5) == NODES[1:]
    assert len(command_delivery.jobs_owed(conn, NODES[1], NOW)) == 1 and command_delivery.jobs_owed(conn, NODES[2], NOW) == []


def test_max_errors_0_stops_after_the_first_error_and_cancels_what_was_not_sent(conn: Connection) -> None:
    command_id = send(conn, max_concurrency="1", max_errors="0")
    command_delivery.jobs_owed(conn, NODES[0], NOW)
    finish(conn, command_id, NODES[0], "Failed")
    assert command_delivery.jobs_owed(conn, NODES[1], NOW) == []
    statuses = [(i.status, i.status_details) for i in commands.invocations_of(conn, command_id)]
    assert statuses == [("Failed", "Failed"), ("Cancelled", "Terminated"), ("Cancelled", "Terminated")]
    seen = command(conn, command_id)
    assert (seen.status, seen.error_count, seen.completed_count) == ("Failed", 1, 3)


def test_max_errors_1_tolerates_one_error(conn: Connection) -> None:
    command_id = send(conn, max_concurrency="1", max_errors="1")
    command_delivery.jobs_owed(conn, NODES[0], NOW)
    finish(conn, command_id, NODES[0], "Failed")
    assert len(command_delivery.jobs_owed(conn, NODES[1], NOW)) == 1


def test_undelivered_invocations_time_out_as_delivery_timed_out_not_as_errors(conn: Connection) -> None:
    command_id = send(conn, timeout_seconds=30)
    command_delivery.jobs_owed(conn, NODES[0], NOW)
    finish(conn, command_id, NODES[0], "Success")
    assert commands.expire(conn, NOW + dt.timedelta(seconds=29)) == []
    assert commands.expire(conn, NOW + dt.timedelta(seconds=30)) == [command_id]
    seen = command(conn, command_id)
    assert (seen.status, seen.status_details) == ("TimedOut", "DeliveryTimedOut")
    assert (seen.delivery_timed_out_count, seen.error_count, seen.completed_count) == (2, 0, 3)
    details = {i.instance_id: i.status_details for i in commands.invocations_of(conn, command_id)}
    assert details == {NODES[0]: "Success", NODES[1]: "DeliveryTimedOut", NODES[2]: "DeliveryTimedOut"}


def test_a_command_expires_after_its_delivery_timeout_plus_its_execution_timeout(conn: Connection) -> None:
    document = command_documents.for_version(documents.built_in("AWS-RunShellScript", "us-east-1"),
                                             {"commands": ["sleep 1000"], "executionTimeout": ["120"]},
                                             lambda ref: ref)
    command_id = commands.send(conn, "111122223333", "us-east-1", "arn:aws:iam::111122223333:user/a",
                               NewCommand(document, NODES[:2], [], timeout_seconds=30), NOW)
    assert command(conn, command_id).expires_after == NOW + dt.timedelta(seconds=150)
    command_delivery.jobs_owed(conn, NODES[0], NOW)
    command_delivery.jobs_owed(conn, NODES[1], NOW)
    commands.cancel(conn, "111122223333", "us-east-1", command_id, [NODES[1]], NOW)
    assert commands.expire(conn, NOW + dt.timedelta(seconds=149)) == []
    late = NOW + dt.timedelta(seconds=150)
    assert commands.expire(conn, late, since=late) == []  # a deadline before the window is another sweep's
    assert commands.expire(conn, late, since=late - dt.timedelta(seconds=1)) == [command_id]
    states = {i.instance_id: (i.status, i.status_details) for i in commands.invocations_of(conn, command_id)}
    assert states == {NODES[0]: ("TimedOut", "DeliveryTimedOut"), NODES[1]: ("Cancelled", "Cancelled")}
    finish(conn, command_id, NODES[0], "Success")  # a reply after the deadline changes nothing
    assert commands.invocations_of(conn, command_id, NODES[0])[0].status_details == "DeliveryTimedOut"


def test_a_cancelled_command_is_owed_to_nobody(conn: Connection) -> None:
    command_id = send(conn)
    commands.cancel(conn, "111122223333", "us-east-1", command_id, [], NOW)
    assert command_delivery.jobs_owed(conn, NODES[0], NOW) == []
    assert command(conn, command_id).status == "Cancelled"


def test_the_watchers_read_offers_pending_jobs_only_as_far_as_max_concurrency_has_room(conn: Connection) -> None:
    command_id = send(conn, max_concurrency="1")
    job = {node: run_command_message_id(command_id, node) for node in NODES}
    assert command_delivery.open_work_by_node(conn) == {NODES[0]: {job[NODES[0]]}}  # one slot, nobody started
    command_delivery.jobs_owed(conn, NODES[0], NOW)
    assert command_delivery.open_work_by_node(conn) == {NODES[0]: {job[NODES[0]]}, NODES[1]: {job[NODES[1]]}}  # one
    # waiting node a poll, so a command whose slots are full can still find out it must stop (MaxErrors)
    commands.cancel(conn, "111122223333", "us-east-1", command_id, [NODES[0]], NOW)
    assert cancel_message_id(command_id, NODES[0]) in command_delivery.open_work_by_node(conn)[NODES[0]]
    finish(conn, command_id, NODES[0], "Cancelled")
    assert NODES[0] not in command_delivery.open_work_by_node(conn)


def test_a_delayed_job_holds_its_slot_is_sent_again_and_can_be_cancelled_or_expire(conn: Connection) -> None:
    command_id = send(conn, max_concurrency="1", timeout_seconds=30)
    (job,) = command_delivery.jobs_owed(conn, NODES[0], NOW)
    command_delivery.mark_delayed(conn, NODES[0], [job.job_id])
    states = {i.instance_id: i.status for i in commands.invocations_of(conn, command_id)}
    assert states[NODES[0]] == "Delayed" and command(conn, command_id).status == "InProgress"
    assert command_delivery.jobs_owed(conn, NODES[1], NOW) == []  # the delayed job still holds the one slot
    assert [j.job_id for j in command_delivery.jobs_owed(conn, NODES[0], NOW)] == [job.job_id]  # the node is back
    assert commands.invocations_of(conn, command_id, NODES[0])[0].status == "InProgress"
    command_delivery.mark_delayed(conn, NODES[0], [job.job_id])
    commands.cancel(conn, "111122223333", "us-east-1", command_id, [NODES[0]], NOW)
    assert commands.invocations_of(conn, command_id, NODES[0])[0].status == "Cancelled"

    other = send(conn, timeout_seconds=30)
    owed = [j.job_id for j in command_delivery.jobs_owed(conn, NODES[2], NOW)]
    command_delivery.mark_delayed(conn, NODES[2], owed)
    commands.expire(conn, NOW + dt.timedelta(hours=2))
    assert (commands.invocations_of(conn, other, NODES[2])[0].status_details) == "DeliveryTimedOut"
