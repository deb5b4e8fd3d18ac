"""Replies as AWS's agent sends them for a document of several steps: one reply per finished step, then a
final one naming no step, which over the control channel can overtake the last step's reply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.protocol.message_ids import run_command_message_id
from openssm.protocol.mgs import JobReply, PluginResult
from openssm.services import command_delivery, command_documents, commands, documents, invocation_replies
from openssm.services.commands import NewCommand
from openssm.store.db import open_database

NOW = dt.datetime(2026, 12, 6, 9, tzinfo=dt.UTC)
NODE = "mi-00000000000000001"


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


@pytest.fixture
def job_id(conn: Connection) -> str:
    document = command_documents.for_version(documents.built_in("AWS-RunShellScript", "us-east-1"),
                                             {"commands": ["true"]}, lambda ref: ref)
    command_id = commands.send(conn, "111122223333", "us-east-1", "arn:aws:iam::111122223333:user/a",
                               NewCommand(document, [NODE], []), NOW)
    command_delivery.jobs_owed(conn, NODE, NOW)
    return run_command_message_id(command_id, NODE)


def step(name: str, second: int, output: str, status: str = "Success", code: int = 0) -> PluginResult:
    return PluginResult(name, status, code, output, "", f"2026-12-06T09:00:0{second}.000Z",
                        f"2026-12-06T09:00:0{second}.500Z", "aws:runShellScript")


def reply(conn: Connection, job_id: str, status: str, *steps: PluginResult) -> commands.Invocation:
    invocation_replies.apply_reply(conn, NODE, JobReply(job_id, status, steps), NOW)
    (invocation,) = commands.invocations_of(conn, job_id.split(".")[2])
    return invocation


def test_steps_reported_one_by_one_then_a_bare_final_reply_keep_every_step(conn: Connection, job_id: str) -> None:
    reply(conn, job_id, "InProgress", step("first", 1, "one\n"))
    reply(conn, job_id, "InProgress", step("second", 2, "two\n", "Failed", 3))
    done = reply(conn, job_id, "Failed")
    assert [(p.name, p.stdout) for p in done.plugins] == [("first", "one\n"), ("second", "two\n")]
    assert (done.status, done.stdout, done.response_code) == ("Failed", "one\ntwo\n", 3)
    assert done.ended_at == dt.datetime(2026, 12, 6, 9, 0, 2, 500000, tzinfo=dt.UTC)


def test_the_last_steps_reply_arriving_after_the_final_one_is_kept(conn: Connection, job_id: str) -> None:
    reply(conn, job_id, "InProgress", step("first", 1, "one\n"))
    assert reply(conn, job_id, "Success").status == "Success"
    late = reply(conn, job_id, "InProgress", step("second", 2, "two\n"))
    assert (late.status, late.status_details) == ("Success", "Success")  # its status is not undone
    assert [p.name for p in late.plugins] == ["first", "second"] and late.stdout == "one\ntwo\n"


def test_steps_arriving_out_of_order_are_kept_in_the_order_they_ran(conn: Connection, job_id: str) -> None:
    reply(conn, job_id, "InProgress", step("second", 2, "two\n"))
    done = reply(conn, job_id, "Success", step("first", 1, "one\n"))
    assert [p.name for p in done.plugins] == ["first", "second"] and done.stdout == "one\ntwo\n"


def test_a_resent_progress_report_does_not_undo_a_finished_step(conn: Connection, job_id: str) -> None:
    reply(conn, job_id, "Success", step("first", 1, "one\n"))
    again = reply(conn, job_id, "InProgress", step("first", 1, "", "InProgress"))
    assert (again.status, again.plugins[0].status, again.stdout) == ("Success", "Success", "one\n")


def test_a_batch_applies_each_nodes_replies_in_order_and_ignores_unknown_ones(conn: Connection, job_id: str) -> None:
    invocation_replies.apply_replies(conn, [
        (NODE, JobReply(job_id, "InProgress")),
        (NODE, JobReply(job_id, "Success", (step("first", 1, "one\n"),))),
        (NODE, JobReply(job_id, "InProgress")),  # resent progress, late: changes nothing
        ("mi-00000000000000009", JobReply(job_id, "Success")),  # not a target of this command
    ], NOW)
    (done,) = commands.invocations_of(conn, job_id.split(".")[2])
    assert (done.status, done.stdout, done.response_code) == ("Success", "one\n", 0)
