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

from collections.abc import Mapping
from dataclasses import dataclass

from openssm.services import commands_rate_control as rate_control

FINAL = frozenset({"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated"})
_NOT_COUNTED = frozenset({"Undeliverable", "InvalidPlatform", "AccessDenied"})


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


def aggregate(counts: Mapping[tuple[str, str], int], max_errors: str) -> CommandStatus:
    """From the number of invocations in each (Status, StatusDetails): a command of ten thousand nodes is
    judged from a grouped count, not ten thousand rows."""
    total = sum(counts.values())
    done = {k: n for k, n in counts.items() if k[0] in FINAL}
    completed = sum(done.values())
    errors = sum(n for (status, details), n in done.items() if is_error(status, details))
    execution_timed_out = sum(n for (_, details), n in done.items() if details == "ExecutionTimedOut")
    delivery_timed_out = sum(n for (_, details), n in done.items() if details == "DeliveryTimedOut")

    def outcome(status: str, details: str | None = None) -> CommandStatus:
        return CommandStatus(status, details or status, completed, errors, delivery_timed_out)

    if not total:
        return outcome("Success")
    if completed < total:
        if all(status == "Pending" for status, _ in counts):
            return outcome("Pending")
        return outcome("Cancelling" if any(status == "Cancelling" for status, _ in counts) else "InProgress")
    threshold = rate_control.error_threshold(max_errors, total)
    if rate_control.stopped(errors, threshold):
        timed_out_most = execution_timed_out > errors - execution_timed_out
        return outcome("TimedOut", "ExecutionTimedOut") if timed_out_most else outcome("Failed")
    if any(status == "Cancelled" for status, _ in done):
        return outcome("Cancelled")
    if rate_control.stopped(delivery_timed_out, threshold):
        return outcome("TimedOut", "DeliveryTimedOut")
    counted = {k: n for k, n in done.items() if k[1] not in _NOT_COUNTED}
    if not counted:
        return outcome("Failed")
    return outcome("Success", "Success" if {status for status, _ in counted} == {"Success"} else "Incomplete")
