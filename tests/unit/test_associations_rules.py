"""State Manager's rules without a store: schedules and when they next run, targets, output locations, and
how executions and associations read their status."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from openssm.services import association_rules as rules
from openssm.services.association_executions import aggregate
from openssm.services.association_model import (
    AssociationSpec,
    Execution,
    InvalidOutputLocation,
    InvalidSchedule,
    InvalidTarget,
    OutputLocation,
    Target,
)
from openssm.services.association_store import overview
from openssm.services.association_targets import nodes_of
from openssm.services.instances import ManagedInstance

MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
BASE = AssociationSpec("AWS-RunShellScript", targets=(Target("InstanceIds", ("*",)),))


def scheduled(expression: str | None, **changes: object) -> AssociationSpec:
    return replace(BASE, schedule_expression=expression, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("expression", ["rate(30 minutes)", "rate(1 hour)", "rate(2 days)", "cron(0 2 ? * SUN *)",
                                        "cron(0/30 * * * ? *)", "cron(0 0 0/4 1/1 * ? *)"])
def test_schedules_aws_accepts_for_associations(expression: str) -> None:
    assert rules.schedule_of(scheduled(expression)) is not None


@pytest.mark.parametrize(("expression", "why"), [
    ("rate(15 minutes)", "30 minutes"),
    ("cron(0/15 * * * ? *)", "at most every 30 minutes"),
    ("cron(0 0 1 JAN ? *)", "months"),
    ("at(2026-12-24T10:00:00)", "cron(...) or rate(...)"),
    ("every day", "not a cron(...), rate(...) or at(...) expression"),
    ("cron(0 2 * * * *)", "exactly one of day-of-month and day-of-week"),
])
def test_bad_schedules_are_invalid_schedule_naming_the_expression(expression: str, why: str) -> None:
    with pytest.raises(InvalidSchedule) as raised:
        rules.schedule_of(scheduled(expression))
    assert expression in raised.value.message and why in raised.value.message


@pytest.mark.parametrize(("expression", "changes"), [
    ("rate(1 hour)", {"apply_only_at_cron_interval": True}),
    (None, {"apply_only_at_cron_interval": True}),
    ("cron(0 2 ? * SUN *)", {"schedule_offset": 2}),  # an offset needs ApplyOnlyAtCronInterval
    ("rate(1 day)", {"schedule_offset": 2, "apply_only_at_cron_interval": True}),
])
def test_apply_only_at_cron_interval_and_offsets_need_a_cron_schedule(expression: str | None,
                                                                        changes: dict[str, object]) -> None:
    with pytest.raises(InvalidSchedule):
        rules.schedule_of(scheduled(expression, **changes))


def test_the_next_run_follows_cron_and_rate_and_an_offset_moves_it_days_later() -> None:
    weekly = scheduled("cron(0 2 ? * SUN *)")
    assert rules.next_run(weekly, rules.schedule_of(weekly), MONDAY, MONDAY) == dt.datetime(2026, 12, 13, 2,
                                                                                             tzinfo=dt.UTC)
    offset = scheduled("cron(0 2 ? * SUN *)", schedule_offset=2, apply_only_at_cron_interval=True)
    # Sunday the 6th was before the association existed: its offset run (Tuesday the 8th) does not happen.
    assert rules.next_run(offset, rules.schedule_of(offset), MONDAY, MONDAY) == dt.datetime(2026, 12, 15, 2,
                                                                                             tzinfo=dt.UTC)
    hourly = scheduled("rate(1 hour)")
    assert rules.next_run(hourly, rules.schedule_of(hourly), MONDAY, MONDAY) == MONDAY + dt.timedelta(hours=1)
    assert rules.next_run(BASE, rules.schedule_of(BASE), MONDAY, MONDAY) is None


def test_ticks_missed_while_down_advance_to_the_first_one_still_ahead_keeping_a_rates_cadence() -> None:
    hourly = scheduled("rate(1 hour)")
    every_hour = rules.schedule_of(hourly)
    assert every_hour is not None
    later = MONDAY + dt.timedelta(hours=5, minutes=20)
    assert rules.advance(hourly, every_hour, MONDAY, later, MONDAY) == MONDAY + dt.timedelta(hours=6)
    weekly = scheduled("cron(0 2 ? * SUN *)")
    sundays = rules.schedule_of(weekly)
    assert sundays is not None
    sunday = dt.datetime(2026, 12, 13, 2, tzinfo=dt.UTC)
    assert rules.advance(weekly, sundays, sunday, sunday + dt.timedelta(days=20), MONDAY) == dt.datetime(
        2027, 1, 3, 2, tzinfo=dt.UTC)


@pytest.mark.parametrize(("spec", "why"), [
    (AssociationSpec("D"), "Specify the association's targets"),
    (AssociationSpec("D", instance_id="mi-0123456789abcdef0", targets=BASE.targets), "not both"),
    (AssociationSpec("D", targets=(Target("InstanceIds", ("i-nope",)),)), "i-nope is not valid"),
    (AssociationSpec("D", targets=(Target("InstanceIds", ("*", "mi-0123456789abcdef0")),)), "every managed node"),
    (AssociationSpec("D", targets=(Target("tag:role", ()),)), "no values"),
    (AssociationSpec("D", targets=(Target("resource-groups:Name", ("g",)),)), "no resource groups"),
    (AssociationSpec("D", targets=(Target("PlatformTypes", ("Linux",)),)), "Target key PlatformTypes is not valid"),
])
def test_bad_targets_are_invalid_target(spec: AssociationSpec, why: str) -> None:
    with pytest.raises(InvalidTarget) as raised:
        rules.check_targets(spec)
    assert why in raised.value.message


def node(instance_id: str) -> ManagedInstance:
    return ManagedInstance("111122223333", "us-east-1", instance_id, "R", None, None, MONDAY, MONDAY, "Online")


def test_targets_match_every_target_and_any_of_its_values() -> None:
    web, db, bare = node("mi-00000000000000001"), node("mi-00000000000000002"), node("mi-00000000000000003")
    fleet = [(web, {"role": "web", "env": "prod"}), (db, {"role": "db", "env": "prod"}), (bare, {})]

    def ids(*targets: Target, instance_id: str | None = None) -> list[str]:
        spec = AssociationSpec("D", instance_id=instance_id, targets=targets)
        return [n.instance_id for n in nodes_of(spec, fleet)]

    assert ids(Target("InstanceIds", ("*",))) == [web.instance_id, db.instance_id, bare.instance_id]
    assert ids(Target("tag:role", ("web", "db"))) == [web.instance_id, db.instance_id]
    assert ids(Target("tag:role", ("web", "db")), Target("InstanceIds", (db.instance_id,))) == [db.instance_id]
    assert ids(Target("tag-key", ("env",))) == [web.instance_id, db.instance_id]
    assert ids(instance_id=bare.instance_id) == [bare.instance_id]
    assert ids(Target("tag:role", ("cache",))) == []


def test_an_output_location_needs_an_s3_bucket_name() -> None:
    rules.check_output_location(replace(BASE, output_location=OutputLocation("my-bucket", "logs")))
    with pytest.raises(InvalidOutputLocation):
        rules.check_output_location(replace(BASE, output_location=OutputLocation("Not A Bucket")))


@pytest.mark.parametrize(("counts", "status"), [
    ({"Pending": 3}, "Pending"),
    ({"Pending": 2, "InProgress": 1}, "InProgress"),
    ({"Pending": 1, "Success": 1}, "InProgress"),
    ({"Success": 3}, "Success"),
    ({"Success": 2, "Failed": 1}, "Failed"),
    ({"Failed": 1, "Skipped": 2}, "Failed"),
])
def test_an_execution_takes_its_status_from_its_targets(counts: dict[str, int], status: str) -> None:
    assert aggregate(counts) == status


def test_resource_count_by_status_reads_as_awss_java_map() -> None:
    execution = Execution("a", 1, "e", "Failed", "Failed", MONDAY, None, {"Success": 2, "Failed": 1})
    assert execution.resource_count_by_status == "{Failed=1, Success=2}"
    assert Execution("a", 1, "e", "Success", "Success", MONDAY, None, {"Success": 1}).resource_count_by_status == \
        "{Success=1}"


@pytest.mark.parametrize(("counts", "executed", "expected"), [
    ({}, False, ("Pending", "Creating")),
    ({"Pending": 1}, True, ("Pending", "Pending")),
    ({"Pending": 1, "InProgress": 1}, True, ("Pending", "InProgress")),
    ({"Success": 2}, True, ("Success", "Success")),
    ({"Success": 1, "Failed": 1}, True, ("Failed", "Failed")),
])
def test_an_associations_overview_aggregates_its_nodes(counts: dict[str, int], executed: bool,
                                                        expected: tuple[str, str]) -> None:
    seen = overview(counts, executed)
    assert (seen.status, seen.detailed_status) == expected and seen.counts == counts


def test_settings_survive_the_store_as_json() -> None:
    spec = replace(BASE, parameters={"commands": ("a", "b")}, output_location=OutputLocation("b", "p", "eu-west-1"),
                   schedule_expression="rate(1 day)", compliance_severity="HIGH")
    assert AssociationSpec.from_json(spec.to_json()) == spec
