"""Run Command's rate controls, as AWS defines them: MaxConcurrency (a number or a percentage of the
targets, rounded up, at least 1) is how many invocations may run at once; MaxErrors (likewise) is how many
may fail before the rest are no longer sent: the command stops at MaxErrors + 1 errors."""

from __future__ import annotations

import math
import re

from openssm.errors import ValidationError

_VALUE = re.compile(r"^([1-9][0-9]*|0)(%?)$")


def resolve(value: str, targets: int, *, floor: int) -> int:
    """The count a MaxConcurrency/MaxErrors value means for `targets` targets."""
    match = _VALUE.match(value)
    if match is None:
        raise ValidationError(f"{value} is not a number or a percentage such as 10 or 10%.")
    number, percent = int(match.group(1)), bool(match.group(2))
    if percent and number > 100:
        raise ValidationError(f"{value} is more than 100%.")
    count = math.ceil(targets * number / 100) if percent else number
    return max(count, floor)


def concurrency(value: str, targets: int) -> int:
    return resolve(value, targets, floor=1)


def error_threshold(value: str, targets: int) -> int:
    return resolve(value, targets, floor=0)


def stopped(errors: int, max_errors: int) -> bool:
    """No more invocations are sent once errors exceed the threshold (threshold + 1 errors)."""
    return errors > max_errors
