"""AWS Systems Manager schedule expressions, for State Manager associations and maintenance windows:
`cron(...)`, `rate(...)` and `at(...)`, with AWS's rules, evaluated by croniter (no hand-written cron).

AWS's cron has six fields (Minutes Hours Day-of-month Month Day-of-week Year) and an optional leading
Seconds field; exactly one of the two day fields is `?`; days of the week run 1-7 from Sunday (croniter
counts 0-6), with `#` (the nth weekday of the month) and `L`; days of the month take `L` and `W`.
Associations cannot name months, and run no more often than every 30 minutes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterError

ASSOCIATION_MIN_RATE = dt.timedelta(minutes=30)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
_DOW_NUMBER = re.compile(r"(?<![#/\d])([1-7])(?!\d)")


class ScheduleError(ValueError):
    """A schedule expression AWS would refuse; the message says why."""


class Usage(StrEnum):
    ASSOCIATION = "association"
    MAINTENANCE_WINDOW = "maintenance window"


@dataclass(frozen=True)
class Schedule:
    expression: str
    cron: str | None = None  # croniter's seven fields (seconds first)
    rate: dt.timedelta | None = None
    at: dt.datetime | None = None

    def next_after(self, after: dt.datetime, zone: str = "UTC", offset_days: int = 0,
                   not_before: dt.datetime | None = None) -> dt.datetime | None:
        """The first run strictly after `after` (aware), in UTC; None when an `at` schedule is past.

        A cron schedule is read in `zone`; with an offset, each run comes `offset_days` after a cron
        occurrence, and (as AWS says) an occurrence before `not_before` (the creation time) never runs even
        if its offset date is still ahead. A rate runs every interval from `after` (the previous run)."""
        if self.at is not None:
            return self.at if self.at > after else None
        if self.rate is not None:
            return after + self.rate
        assert self.cron is not None
        start = after - dt.timedelta(days=offset_days)
        if not_before is not None:
            start = max(start, not_before)
        occurrence = croniter(self.cron, start.astimezone(ZoneInfo(zone)), second_at_beginning=True)
        run: dt.datetime = occurrence.get_next(dt.datetime)
        return (run + dt.timedelta(days=offset_days)).astimezone(dt.UTC)


def parse(expression: str, usage: Usage) -> Schedule:
    """The schedule an expression describes, or ScheduleError naming what AWS would refuse."""
    text = expression.strip()
    if match := _RATE.match(text):
        return Schedule(text, rate=_rate(int(match.group(1)), match.group(2), usage))
    if match := _AT.match(text):
        try:
            return Schedule(text, at=dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC))
        except ValueError as err:  # at(2026-13-01T00:00:00): the shape of a date, not a date
            raise ScheduleError(f"{expression!r} does not name a date and time: {err}") from err
    if match := _CRON.match(text):
        return Schedule(text, cron=_cron(match.group(1).split(), usage))
    raise ScheduleError(f"{expression!r} is not a cron(...), rate(...) or at(...) expression")


def _rate(value: int, unit: str, usage: Usage) -> dt.timedelta:
    singular = unit.rstrip("s")
    if value < 1 or (value == 1) != (unit == singular):
        raise ScheduleError(f"rate({value} {unit}): a value of 1 takes a singular unit, other values a plural")
    interval = value * _UNIT[singular]
    if usage is Usage.ASSOCIATION and interval < ASSOCIATION_MIN_RATE:
        raise ScheduleError("associations run at most every 30 minutes: rate(30 minutes) is the smallest rate")
    return interval


def _cron(fields: list[str], usage: Usage) -> str:
    if len(fields) == 6:
        fields = ["0", *fields]
    if len(fields) != 7:
        raise ScheduleError(f"a cron expression has six fields (seven with seconds), not {len(fields)}")
    seconds, minutes, hours, day_of_month, month, day_of_week, year = fields
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ScheduleError("exactly one of day-of-month and day-of-week must be '?'")
    if usage is Usage.ASSOCIATION and month not in ("*", "?"):
        raise ScheduleError("State Manager does not support months in the cron expressions of associations")
    expression = " ".join([seconds, minutes, hours, day_of_month.replace("?", "*"), month,
                           _croniter_days_of_week(day_of_week), year])
    try:
        croniter(expression, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), second_at_beginning=True).get_next()
    except (CroniterError, ValueError, KeyError) as err:
        raise ScheduleError(f"cron({' '.join(fields)}) is not a valid cron expression: {err}") from err
    return expression


def _croniter_days_of_week(field: str) -> str:
    """AWS numbers Sunday 1 to Saturday 7; croniter 0 to 6 ("6L", last Friday, becomes "L5")."""
    if field == "?":
        return "*"
    if re.fullmatch(r"[1-7]L", field):
        return f"L{int(field[0]) - 1}"
    return _DOW_NUMBER.sub(lambda m: str(int(m.group(1)) - 1), field)
