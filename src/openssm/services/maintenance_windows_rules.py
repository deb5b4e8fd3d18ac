"""The rules a maintenance window's settings follow, and when it runs. Pure: no I/O.

Schedules are AWS's cron, rate and at expressions (schedule_expressions.py, Usage.MAINTENANCE_WINDOW). A cron
schedule is read in ScheduleTimezone (IANA; UTC by default) and may be offset by ScheduleOffset days; `at`
is UTC, as AWS documents. StartDate and EndDate bound the occurrences; a rate counts from StartDate (or
from the window's creation when that is later, as AWS says of a past StartDate).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openssm.errors import ValidationError
from openssm.services import association_rules, schedule_expressions
from openssm.services.maintenance_windows_model import Target, WindowSpec
from openssm.services.schedule_expressions import Schedule, ScheduleError, Usage

ALL_NODES = association_rules.ALL_NODES
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def schedule_of(spec: WindowSpec) -> Schedule:
    """The window's schedule, with every rule CreateMaintenanceWindow applies to it and its active period."""
    try:
        schedule = schedule_expressions.parse(spec.schedule, Usage.MAINTENANCE_WINDOW)
    except ScheduleError as err:
        raise ValidationError(f"Invalid schedule expression: {spec.schedule} ({err}).") from err
    if spec.schedule_offset is not None and schedule.cron is None:
        raise ValidationError("ScheduleOffset is only supported with cron expressions, not "
                              f"{spec.schedule}.")
    zone(spec)
    start, end = parse_date("StartDate", spec.start_date), parse_date("EndDate", spec.end_date)
    if start is not None and end is not None and end <= start:
        raise ValidationError(f"The EndDate {spec.end_date} must be later than the StartDate {spec.start_date}.")
    if spec.cutoff >= spec.duration:
        raise ValidationError(f"The Cutoff ({spec.cutoff} hours) must be less than the Duration "
                              f"({spec.duration} hours) of the maintenance window.")
    return schedule


def zone(spec: WindowSpec) -> str:
    name = spec.schedule_timezone or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValidationError(f"Invalid ScheduleTimezone: {name}. Specify a time zone in Internet Assigned "
                              "Numbers Authority (IANA) format, such as America/Chicago or Asia/Tokyo.") from err
    return name


def parse_date(member: str, value: str | None) -> dt.datetime | None:
    """An ISO-8601 StartDate or EndDate; one without an offset is UTC."""
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise ValidationError(f"Invalid {member}: {value}. Specify a date and time in ISO-8601 Extended format, "
                              "such as 2021-04-07T14:29:00-08:00.") from err
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def next_run(spec: WindowSpec, after: dt.datetime, created_at: dt.datetime) -> dt.datetime | None:
    """The first occurrence strictly after `after` within StartDate..EndDate; None when there is none."""
    return next(occurrences(spec, after, created_at), None)


def occurrences(spec: WindowSpec, after: dt.datetime, created_at: dt.datetime) -> Iterator[dt.datetime]:
    """Every occurrence after `after` within StartDate..EndDate, in order; the window's schedule, zone and
    dates are read once (DescribeMaintenanceWindowSchedule walks up to a thousand of them)."""
    schedule, tz = schedule_of(spec), zone(spec)
    start, end = parse_date("StartDate", spec.start_date), parse_date("EndDate", spec.end_date)
    offset = spec.schedule_offset or 0
    at: dt.datetime | None = after
    while at is not None:
        if schedule.rate is not None:
            anchor = max(created_at, start) if start is not None else created_at
            at = anchor + (1 if at < anchor else (at - anchor) // schedule.rate + 1) * schedule.rate
        else:
            floor = at if start is None else max(at, start - dt.timedelta(microseconds=1))
            at = schedule.next_after(floor, tz, offset, not_before=created_at if offset else None)
        if at is None or (end is not None and at > end):
            return
        yield at


def check_filter_keys(filters: Sequence[tuple[str, Sequence[str]]], allowed: Sequence[str]) -> None:
    """Every Describe… call's filters: an unknown key is a ValidationException naming the valid ones."""
    for key, _ in filters:
        if key not in allowed:
            raise ValidationError(f"Invalid filter key {key}. Valid keys are: {', '.join(allowed)}.")


def cutoff_at(spec: WindowSpec, starts_at: dt.datetime) -> dt.datetime:
    """No task starts from then on: Cutoff hours before the window's end."""
    return starts_at + dt.timedelta(hours=spec.duration - spec.cutoff)


def ends_at(spec: WindowSpec, starts_at: dt.datetime) -> dt.datetime:
    return starts_at + dt.timedelta(hours=spec.duration)


def check_targets(targets: tuple[Target, ...], resource_type: str) -> None:
    """A window target: nodes by InstanceIds, tag:<key> or tag-key (OpenSSM has no resource groups)."""
    if resource_type == "RESOURCE_GROUP":
        raise ValidationError("ResourceType RESOURCE_GROUP is not supported: OpenSSM has no resource groups. "
                              "Register targets with ResourceType INSTANCE.")
    if not targets:
        raise ValidationError("Targets must contain at least one target, by InstanceIds, tag:<key> or tag-key.")
    for target in targets:
        check_target(target)


def check_target(target: Target) -> None:
    association_rules.check_target(target, ValidationError)


def check_task_targets(targets: tuple[Target, ...], allow_unassociated: bool) -> None:
    """A RUN_COMMAND task names window targets (WindowTargetIds) or, when the window allows unassociated
    targets, nodes by InstanceIds."""
    if not targets:
        raise ValidationError("Targets must be specified for maintenance window Run Command-type tasks.")
    if len(targets) > 1:
        raise ValidationError("A maintenance window task takes one target: WindowTargetIds or InstanceIds.")
    (target,) = targets
    if target.key == "WindowTargetIds":
        bad = [v for v in target.values if not _UUID.match(v)]
        if bad or not target.values:
            raise ValidationError(f"WindowTargetIds has a value that is not a window target id: {bad or '(none)'}.")
    elif target.key == "InstanceIds":
        if not allow_unassociated:
            raise ValidationError("This maintenance window does not allow unassociated targets: a task's targets "
                                  "must be WindowTargetIds registered with the window.")
        check_target(target)
        if ALL_NODES in target.values:
            raise ValidationError("InstanceIds * is not valid for a maintenance window task.")
    else:
        raise ValidationError(f"Target key {target.key} is not valid for a maintenance window task. Specify "
                              "WindowTargetIds or InstanceIds.")
