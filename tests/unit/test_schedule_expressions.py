"""AWS's schedule expressions for associations and maintenance windows, with the examples of AWS's
"Reference: Cron and rate expressions for Systems Manager" page."""

from __future__ import annotations

import datetime as dt

import pytest

from openssm.services.schedule_expressions import ScheduleError, Usage, parse

SUNDAY_NOON = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
MW, ASSOCIATION = Usage.MAINTENANCE_WINDOW, Usage.ASSOCIATION


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(("expression", "expected"), [
    ("cron(30 23 ? * TUE#3 *)", at(2026, 12, 15, 23, 30)),  # the third Tuesday of each month
    ("cron(30 23 ? * 3#3 *)", at(2026, 12, 15, 23, 30)),  # the same with AWS's day numbers (1 = Sunday)
    ("cron(0 10 * * ? *)", at(2026, 11, 23, 10, 0)),
    ("cron(15 12 * * ? *)", at(2026, 11, 22, 12, 15)),
    ("cron(0 18 ? * MON-FRI *)", at(2026, 11, 23, 18, 0)),
    ("cron(0 9 ? * 2-6 *)", at(2026, 11, 23, 9, 0)),
    ("cron(0 8 1 * ? *)", at(2026, 12, 1, 8, 0)),
    ("cron(0 9 ? * 6L *)", at(2026, 11, 27, 9, 0)),  # the last Friday
    ("cron(0 9 L * ? *)", at(2026, 11, 30, 9, 0)),
    ("cron(0 9 15W * ? *)", at(2026, 12, 15, 9, 0)),
    ("cron(0 0/30 * 1/1 * ? *)", at(2026, 11, 22, 12, 30)),  # seven fields: seconds first
    ("rate(30 minutes)", at(2026, 11, 22, 12, 30)),
    ("rate(1 day)", at(2026, 11, 23, 12, 0)),
    ("at(2026-12-01T10:00:00)", at(2026, 12, 1, 10, 0)),
])
def test_next_runs_follow_aws_examples(expression: str, expected: dt.datetime) -> None:
    assert parse(expression, MW).next_after(SUNDAY_NOON) == expected


@pytest.mark.parametrize("expression", [
    "cron(0 10 * * * *)", "cron(0 10 ? * ? *)", "cron(0 10 * *)", "cron(61 10 * * ? *)", "cron(0 10 ? * 8 *)",
    "rate(1 days)", "rate(2 hour)", "rate(0 minutes)", "rate(5 weeks)", "every day", "at(2026-12-01 10:00)",
])
def test_expressions_aws_refuses_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        parse(expression, MW)


def test_associations_take_no_months_and_no_rate_under_30_minutes() -> None:
    with pytest.raises(ScheduleError, match="months"):
        parse("cron(0 2 ? 1 SUN *)", ASSOCIATION)
    with pytest.raises(ScheduleError, match="30 minutes"):
        parse("rate(15 minutes)", ASSOCIATION)
    assert parse("cron(0 2 ? * SUN *)", ASSOCIATION).next_after(SUNDAY_NOON) == at(2026, 11, 29, 2, 0)
    assert parse("rate(15 minutes)", MW).rate == dt.timedelta(minutes=15)


def test_an_offset_runs_days_after_each_occurrence_but_never_for_one_before_creation() -> None:
    second_thursday = parse("cron(0 0 ? * THU#2 *)", ASSOCIATION)
    # Created on Saturday 14 November: Thursday 12 November's occurrence is past, so no run on Sunday the 15th.
    created = at(2026, 11, 14, 9, 0)
    assert second_thursday.next_after(created, offset_days=3, not_before=created) == at(2026, 12, 13, 0, 0)
    # Without a creation bound, the occurrence of the 12th runs on the 15th, three days later.
    assert second_thursday.next_after(created, offset_days=3) == at(2026, 11, 15, 0, 0)


def test_a_time_zone_moves_the_run_with_daylight_saving() -> None:
    nine_am = parse("cron(0 9 ? * WED *)", MW)
    winter = nine_am.next_after(at(2026, 1, 1, 0, 0), zone="America/Los_Angeles")
    summer = nine_am.next_after(at(2026, 7, 1, 0, 0), zone="America/Los_Angeles")
    assert (winter, summer) == (at(2026, 1, 7, 17, 0), at(2026, 7, 1, 16, 0))


def test_a_past_at_schedule_has_no_next_run() -> None:
    assert parse("at(2020-07-07T15:55:00)", MW).next_after(SUNDAY_NOON) is None
