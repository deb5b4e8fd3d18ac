"""Maintenance windows' settings: AWS's rules and errors for schedules, durations, dates, time zones and
targets, ClientToken idempotency, NextExecutionTime and DescribeMaintenanceWindowSchedule."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from openssm.errors import AwsError, ValidationError
from openssm.services import maintenance_windows as windows
from openssm.services import maintenance_windows_schedule as schedule
from openssm.services import maintenance_windows_targets as targets
from openssm.services import maintenance_windows_tasks as tasks
from openssm.services.maintenance_windows_model import (
    FeatureNotAvailable,
    IdempotentParameterMismatch,
    Target,
    TargetInUse,
    TargetSpec,
    WindowSpec,
)
from tests.unit.test_maintenance_windows_world import ACCOUNT, AT_NOON, NOW, REGION, World, script_task

DAILY = WindowSpec("daily", "cron(0 2 ? * * *)", duration=4, cutoff=1, allow_unassociated_targets=True)


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(("changes", "words"), [
    ({"schedule": "cron(0 2 * * * *)"}, "Invalid schedule expression"),
    ({"schedule": "rate(1 days)"}, "Invalid schedule expression"),
    ({"schedule": "at(2026-13-01T00:00:00)"}, "Invalid schedule expression"),
    ({"schedule": "every day"}, "Invalid schedule expression"),
    ({"cutoff": 4}, "must be less than the Duration"),
    ({"schedule": "rate(1 day)", "schedule_offset": 2}, "ScheduleOffset is only supported with cron"),
    ({"schedule_timezone": "Mars/Olympus"}, "Invalid ScheduleTimezone"),
    ({"start_date": "2027-01-02T00:00:00Z", "end_date": "2027-01-01T00:00:00Z"}, "must be later than the StartDate"),
    ({"start_date": "next tuesday"}, "Invalid StartDate"),
])
def test_bad_windows_are_refused_with_a_validation_exception(world: World, changes: dict[str, object],
                                                             words: str) -> None:
    with pytest.raises(ValidationError) as raised:
        world.window(dataclasses.replace(DAILY, **changes))  # type: ignore[arg-type]
    assert words in raised.value.message and raised.value.code == "ValidationException"


def test_a_cron_window_runs_next_in_its_time_zone_with_its_offset(world: World) -> None:
    tokyo = world.window(dataclasses.replace(DAILY, schedule_timezone="Asia/Tokyo"))
    with world.db.read() as conn:
        got = windows.get(conn, ACCOUNT, REGION, tokyo)
    assert got.next_run_at == dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC)  # 02:00 in Tokyo on the 8th
    assert windows.wire_time(got.spec, got.next_run_at) == "2026-12-08T02:00+09:00"
    offset = world.window(dataclasses.replace(DAILY, schedule="cron(0 2 ? * MON *)", schedule_offset=2))
    with world.db.read() as conn:
        runs = schedule.schedule(conn, ACCOUNT, REGION, offset, [], world.now, 2)
    # Monday the 7th at 02:00 passed before the window existed: its offset run is skipped, as AWS says.
    assert [r.at for r in runs] == [dt.datetime(2026, 12, 16, 2, 0, tzinfo=dt.UTC),
                                    dt.datetime(2026, 12, 23, 2, 0, tzinfo=dt.UTC)]


def test_start_and_end_dates_bound_the_runs(world: World) -> None:
    window_id = world.window(dataclasses.replace(DAILY, start_date="2026-12-10T00:00:00Z",
                                                 end_date="2026-12-12T00:00:00Z"))
    with world.db.read() as conn:
        runs = schedule.schedule(conn, ACCOUNT, REGION, window_id, [], world.now, 10)
    assert [r.at.day for r in runs] == [10, 11]


def test_a_client_token_makes_creation_idempotent(world: World) -> None:
    with world.db.begin() as conn:
        first = windows.create(conn, ACCOUNT, REGION, DAILY, {}, "token-1", NOW)
        assert windows.create(conn, ACCOUNT, REGION, DAILY, {}, "token-1", NOW) == first
        with pytest.raises(IdempotentParameterMismatch):
            windows.create(conn, ACCOUNT, REGION, dataclasses.replace(DAILY, duration=5), {}, "token-1", NOW)


def test_a_disabled_window_has_no_next_run_and_filters_find_it(world: World) -> None:
    window_id = world.window(DAILY)
    with world.db.begin() as conn:
        windows.update(conn, ACCOUNT, REGION, window_id, dataclasses.replace(DAILY, enabled=False), NOW)
        assert windows.get(conn, ACCOUNT, REGION, window_id).next_run_at is None
        assert [w.window_id for w in windows.describe(conn, ACCOUNT, REGION, [("Enabled", ["false"])])] == [window_id]
        assert windows.describe(conn, ACCOUNT, REGION, [("Name", ["other"])]) == []
        with pytest.raises(ValidationError):
            windows.describe(conn, ACCOUNT, REGION, [("Color", ["red"])])


def test_targets_refuse_resource_groups_and_bad_keys(world: World) -> None:
    window_id = world.window()
    for spec in (TargetSpec("RESOURCE_GROUP", (Target("resource-groups:Name", ("g",)),)),
                 TargetSpec("INSTANCE", (Target("InstanceIds", ("not-a-node",)),)),
                 TargetSpec("INSTANCE", (Target("color", ("red",)),)), TargetSpec("INSTANCE", ())):
        with pytest.raises(ValidationError), world.db.begin() as conn:
            targets.register(conn, ACCOUNT, REGION, window_id, spec, None, NOW)


def test_a_target_a_task_uses_is_kept_by_a_safe_deregistration(world: World) -> None:
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    world.task(window_id, script_task(target_id, 1))
    with pytest.raises(TargetInUse), world.db.begin() as conn:
        targets.deregister(conn, ACCOUNT, REGION, window_id, target_id, safe=True)
    with world.db.begin() as conn:
        targets.deregister(conn, ACCOUNT, REGION, window_id, target_id, safe=False)
        assert targets.of_window(conn, window_id) == []


def test_tasks_other_than_run_command_and_unknown_targets_are_refused(world: World) -> None:
    window_id = world.window()
    target_id = world.target(window_id, role="web")
    cases: list[tuple[type[AwsError], object]] = [
        (FeatureNotAvailable, script_task(target_id, 1, task_type="AUTOMATION")),
        (AwsError, script_task("0b5a6a8e-0000-4000-8000-000000000000", 1)),
        (ValidationError, script_task(target_id, 1, targets=(Target("InstanceIds", ("mi-0123456789abcdef0",)),))),
        (ValidationError, script_task(target_id, 1, max_errors=None)),
    ]
    for error, spec in cases:
        with pytest.raises(error), world.db.begin() as conn:
            tasks.register(conn, ACCOUNT, REGION, window_id, spec, None, NOW)  # type: ignore[arg-type]
    with world.db.read() as conn:
        assert tasks.of_window(conn, window_id) == []


def test_windows_for_a_target_find_it_by_tags_it_has_now(world: World) -> None:
    node = world.node(role="web")
    window_id = world.window()
    world.target(window_id, role="web")
    world.window(dataclasses.replace(AT_NOON, name="other"))
    with world.db.read() as conn:
        found = targets.windows_for(conn, ACCOUNT, REGION, [Target("InstanceIds", (node,))], NOW)
    assert [w.window_id for w in found] == [window_id]
