"""A command's own Status and StatusDetails, and its counts, from its invocations, as AWS's user guide
defines them ("Understanding command statuses"):

- errors are invocations Failed or ExecutionTimedOut; past MaxErrors the command is Failed, or TimedOut /
  ExecutionTimedOut when most of its errors were timeouts;
- delivery timeouts do not count against MaxErrors, but past MaxErrors of them the command is TimedOut /
  DeliveryTimedOut;
- Undeliverable, InvalidPlatform and AccessDenied invocations count for nothing unless they are all there
  is (then Failed);
- otherwise every invocation Success makes Success / Success, and anything less Success / Incomplete (AWS:
  "the value of max-errors wasn't reached").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from openssm.services import commands_rate_control as rate_control

FINAL = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"})
_NOT_COUNTED = frozenset({"Undeliverable", "InvalidPlatform", "AccessDenied"})


class InvocationState(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def status_details(self) -> str: ...


@dataclass(frozen=True)
class CommandStatus:
    status: str
    status_details: str
    completed_count: int
    error_count: int
    delivery_timed_out_count: int


def is_error(status: str, status_details: str) -> bool:
    """Whether an invocation counts against MaxErrors."""
    return status_details == "ExecutionTimedOut" or (status == "Failed" and status_details not in _NOT_COUNTED)


def aggregate(invocations: Sequence[InvocationState], max_errors: str) -> CommandStatus:
    done = [i for i in invocations if i.status in FINAL]
    errors = sum(is_error(i.status, i.status_details) for i in done)
    execution_timed_out = sum(i.status_details == "ExecutionTimedOut" for i in done)
    delivery_timed_out = sum(i.status_details == "DeliveryTimedOut" for i in done)

    def outcome(status: str, details: str | None = None) -> CommandStatus:
        return CommandStatus(status, details or status, len(done), errors, delivery_timed_out)

    if not invocations:
        return outcome("Success")
    if len(done) < len(invocations):
        if all(i.status == "Pending" for i in invocations):
            return outcome("Pending")
        return outcome("Cancelling" if any(i.status == "Cancelling" for i in invocations) else "InProgress")
    threshold = rate_control.error_threshold(max_errors, len(invocations))
    if rate_control.stopped(errors, threshold):
        timed_out_most = execution_timed_out > errors - execution_timed_out
        return outcome("TimedOut", "ExecutionTimedOut") if timed_out_most else outcome("Failed")
    if any(i.status == "Cancelled" for i in done):
        return outcome("Cancelled")
    if rate_control.stopped(delivery_timed_out, threshold):
        return outcome("TimedOut", "DeliveryTimedOut")
    counted = [i for i in done if i.status_details not in _NOT_COUNTED]
    if not counted:
        return outcome("Failed")
    return outcome("Success", "Success" if all(i.status == "Success" for i in counted) else "Incomplete")
