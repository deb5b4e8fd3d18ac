"""A command's Status and StatusDetails from its invocations, per AWS's "Understanding command statuses"."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import pytest

from openssm.services import command_status
from openssm.services.command_status import CommandStatus, is_error


class Inv(NamedTuple):
    status: str
    status_details: str


def aggregate(invocations: list[Inv], max_errors: str) -> CommandStatus:
    return command_status.aggregate(Counter((i.status, i.status_details) for i in invocations), max_errors)


OK, FAILED = Inv("Success", "Success"), Inv("Failed", "Failed")
EXEC_TIMEOUT, DELIVERY_TIMEOUT = Inv("TimedOut", "ExecutionTimedOut"), Inv("TimedOut", "DeliveryTimedOut")
UNDELIVERABLE, CANCELLED = Inv("Failed", "Undeliverable"), Inv("Cancelled", "Cancelled")
TERMINATED = Inv("Cancelled", "Terminated")


@pytest.mark.parametrize(("invocations", "max_errors", "expected"), [
    ([OK, OK], "0", ("Success", "Success")),
    ([OK, FAILED], "0", ("Failed", "Failed")),
    ([OK, FAILED], "1", ("Success", "Incomplete")),  # "the value of max-errors wasn't reached"
    ([OK, FAILED, FAILED], "50%", ("Success", "Incomplete")),
    ([FAILED, FAILED, OK], "1", ("Failed", "Failed")),
    ([EXEC_TIMEOUT], "0", ("TimedOut", "ExecutionTimedOut")),
    ([EXEC_TIMEOUT, EXEC_TIMEOUT, FAILED], "0", ("TimedOut", "ExecutionTimedOut")),
    ([EXEC_TIMEOUT, FAILED, FAILED], "0", ("Failed", "Failed")),
    ([DELIVERY_TIMEOUT], "0", ("TimedOut", "DeliveryTimedOut")),
    ([DELIVERY_TIMEOUT, OK, OK], "1", ("Success", "Incomplete")),  # not an error, but not a success either
    ([UNDELIVERABLE, UNDELIVERABLE, UNDELIVERABLE, UNDELIVERABLE, OK], "0", ("Success", "Success")),
    ([UNDELIVERABLE, UNDELIVERABLE], "0", ("Failed", "Failed")),
    ([CANCELLED, CANCELLED], "0", ("Cancelled", "Cancelled")),
    ([OK, CANCELLED], "0", ("Cancelled", "Cancelled")),
    ([FAILED, TERMINATED, TERMINATED], "0", ("Failed", "Failed")),
    ([], "0", ("Success", "Success")),
])
def test_a_finished_command(invocations: list[Inv], max_errors: str, expected: tuple[str, str]) -> None:
    state = aggregate(invocations, max_errors)
    assert (state.status, state.status_details) == expected
    assert state.completed_count == len(invocations)


@pytest.mark.parametrize(("invocations", "expected"), [
    ([Inv("Pending", "Pending")] * 2, "Pending"),
    ([OK, Inv("Pending", "Pending")], "InProgress"),
    ([Inv("InProgress", "InProgress"), Inv("Cancelling", "Cancelling")], "Cancelling"),
])
def test_an_unfinished_command(invocations: list[Inv], expected: str) -> None:
    state = aggregate(invocations, "0")
    assert (state.status, state.status_details) == (expected, expected)


def test_the_counts_are_awss() -> None:
    state = aggregate([OK, FAILED, EXEC_TIMEOUT, DELIVERY_TIMEOUT, UNDELIVERABLE, Inv("InProgress", "InProgress")],
                      "10")
    assert (state.completed_count, state.error_count, state.delivery_timed_out_count) == (5, 2, 1)
    assert [is_error(i.status, i.status_details) for i in (OK, FAILED, EXEC_TIMEOUT, DELIVERY_TIMEOUT,
                                                             UNDELIVERABLE, TERMINATED)] == [
        False, True, True, False, False, False]
