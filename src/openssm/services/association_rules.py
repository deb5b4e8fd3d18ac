"""The rules an association's settings must follow, as State Manager applies them, and when it next runs.
Pure: no I/O.

Schedules are AWS's cron and rate expressions (schedule_expressions.py, Usage.ASSOCIATION): at most every
30 minutes, no months, no `at(...)`. ApplyOnlyAtCronInterval keeps a new or updated association from running
at once and takes only cron; ScheduleOffset (days after each cron occurrence) needs both.
"""

from __future__ import annotations

import datetime as dt
import re

from openssm.errors import AwsError
from openssm.services import schedule_expressions
from openssm.services.association_model import (
    AssociationSpec,
    InvalidOutputLocation,
    InvalidSchedule,
    InvalidTarget,
    Target,
)
from openssm.services.schedule_expressions import Schedule, ScheduleError, Usage

ALL_NODES = "*"
_INSTANCE_ID = re.compile(r"^(i-(\w{8}|\w{17})|mi-\w{17})$")
_TAG_KEY = re.compile(r"^[\w\s+\-=.:/@]{1,128}$", re.UNICODE)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESOURCE_GROUP_KEYS = ("resource-groups:Name", "resource-groups:ResourceTypeFilters")
MIN_INTERVAL = schedule_expressions.ASSOCIATION_MIN_RATE


def schedule_of(spec: AssociationSpec) -> Schedule | None:
    """The association's schedule, checked; None when it runs only when asked (and when nodes join)."""
    expression = spec.schedule_expression
    if expression is None:
        if spec.apply_only_at_cron_interval or spec.schedule_offset is not None:
            raise InvalidSchedule("ApplyOnlyAtCronInterval and ScheduleOffset need a cron schedule expression.")
        return None
    try:
        schedule = schedule_expressions.parse(expression, Usage.ASSOCIATION)
    except ScheduleError as err:
        raise InvalidSchedule(f"Schedule expression {expression} is not valid: {err}.") from err
    if schedule.at is not None:
        raise InvalidSchedule(f"Schedule expression {expression} is not valid: associations take cron(...) or "
                              "rate(...) expressions.")
    if schedule.cron is not None:
        _check_cron_interval(schedule)
    elif spec.apply_only_at_cron_interval or spec.schedule_offset is not None:
        raise InvalidSchedule("ApplyOnlyAtCronInterval and ScheduleOffset are supported only with cron "
                              f"expressions, not {expression}.")
    if spec.schedule_offset is not None and not spec.apply_only_at_cron_interval:
        raise InvalidSchedule("ScheduleOffset needs ApplyOnlyAtCronInterval, so that the association waits for "
                              "its first scheduled run.")
    return schedule


def _check_cron_interval(schedule: Schedule) -> None:
    """AWS runs associations at most every 30 minutes, cron included (cron(0/15 * * * ? *) is refused)."""
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday: weekday and month-end rules both get exercised
    previous = schedule.next_after(at)
    for _ in range(48):
        if previous is None:
            return
        following = schedule.next_after(previous)
        if following is not None and following - previous < MIN_INTERVAL:
            raise InvalidSchedule(f"Schedule expression {schedule.expression} is not valid: associations run at "
                                  "most every 30 minutes.")
        previous = following


def next_run(spec: AssociationSpec, schedule: Schedule | None, after: dt.datetime,
             created_at: dt.datetime) -> dt.datetime | None:
    """The first scheduled run strictly after `after` (None without a schedule). With an offset, runs come
    ScheduleOffset days after each cron occurrence, never for one before the association existed."""
    if schedule is None:
        return None
    offset = spec.schedule_offset or 0
    return schedule.next_after(after, offset_days=offset, not_before=created_at if offset else None)


def advance(spec: AssociationSpec, schedule: Schedule, due_at: dt.datetime, now: dt.datetime,
            created_at: dt.datetime) -> dt.datetime | None:
    """The tick after a due one that ran at `now`: ticks missed while the server was down are not run one by
    one (the execution at `now` stands for them), and a rate keeps its cadence from the original due time."""
    if schedule.rate is not None:
        missed = (now - due_at) // schedule.rate
        return due_at + (missed + 1) * schedule.rate
    return next_run(spec, schedule, max(due_at, now), created_at)


def check_targets(spec: AssociationSpec) -> None:
    """Targets by InstanceIds (or `*` for every node), tag:<key> or tag-key; or the legacy InstanceId."""
    if spec.instance_id and spec.targets:
        raise InvalidTarget("Specify either InstanceId or Targets, not both.")
    if not spec.instance_id and not spec.targets:
        raise InvalidTarget("Specify the association's targets (Targets, or the InstanceId of one node).")
    for target in spec.targets:
        check_target(target)


def check_target(target: Target, error: type[AwsError] = InvalidTarget) -> None:
    """A target of nodes: InstanceIds (or *), tag:<key> or tag-key; State Manager answers InvalidTarget,
    Maintenance Windows a ValidationException."""
    key, values = target.key, target.values
    if not values:
        raise error(f"Target {key} has no values; specify at least one.")
    if key == "InstanceIds":
        bad = [v for v in values if v != ALL_NODES and not _INSTANCE_ID.match(v)]
        if bad:
            raise error(f"Instance Id {bad[0]} is not valid. Specify managed node IDs such as "
                                "mi-0123456789abcdef0 or i-0123456789abcdef0, or * for every managed node.")
        if ALL_NODES in values and len(values) > 1:
            raise error("InstanceIds * targets every managed node and can't be listed with node IDs.")
    elif key == "tag-key":
        bad = [v for v in values if not _TAG_KEY.match(v)]
        if bad:
            raise error(f"Tag key {bad[0]} is not valid.")
    elif key.startswith("tag:"):
        if not _TAG_KEY.match(key[4:]):
            raise error(f"Tag key {key[4:]} is not valid.")
    elif key in _RESOURCE_GROUP_KEYS or key.startswith("resource-groups:"):
        raise error(f"Target key {key} is not supported: OpenSSM has no resource groups. Target nodes "
                            "by InstanceIds, tag:<key> or tag-key.")
    else:
        raise error(f"Target key {key} is not valid. Specify InstanceIds, tag:<key> or tag-key.")


def check_output_location(spec: AssociationSpec) -> None:
    location = spec.output_location
    if location is not None and not _BUCKET.match(location.bucket):
        raise InvalidOutputLocation(f"The output location isn't valid: {location.bucket or '(no bucket)'} is not "
                                    "an S3 bucket name.")

