"""Service settings' rules: defaults, per account and region, AWS's two spellings of an ID, allowed values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import service_settings as settings
from openssm.services.service_settings import DHMC_SETTING, ServiceSettingNotFound, SettingScope, SettingStatus
from openssm.store.db import open_database

EAST = SettingScope("111122223333", "us-east-1")
WEST = SettingScope("111122223333", "us-west-2")
OTHER = SettingScope("444455556666", "us-east-1")
NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
TIER = "/ssm/parameter-store/default-parameter-tier"


@pytest.fixture
def conn() -> Iterator[Connection]:
    db = open_database("sqlite://")
    with db.begin() as connection:
        yield connection


def no_role_check(_value: str) -> None:
    raise AssertionError("only the DHMC setting names a role")


def test_every_documented_setting_starts_at_its_default_by_the_system(conn: Connection) -> None:
    for path, spec in settings.SETTINGS.items():
        got = settings.get(conn, EAST, path)
        assert (got.value, got.status, got.last_modified_user) == (spec.default, SettingStatus.DEFAULT, "System")
        assert got.arn == f"arn:aws:ssm:us-east-1:111122223333:servicesetting{path}"


def test_an_update_is_seen_only_in_its_own_account_and_region(conn: Connection) -> None:
    settings.update(conn, EAST, TIER, "Advanced", "arn:aws:iam::111122223333:user/a", NOW, no_role_check)
    east = settings.get(conn, EAST, TIER)
    assert (east.value, east.status, east.last_modified, east.last_modified_user) == (
        "Advanced", SettingStatus.CUSTOMIZED, NOW, "arn:aws:iam::111122223333:user/a")
    assert settings.get(conn, WEST, TIER).status is SettingStatus.DEFAULT
    assert settings.get(conn, OTHER, TIER).value == "Standard"
    assert settings.reset(conn, EAST, TIER).status is SettingStatus.DEFAULT


def test_the_full_arn_names_the_same_setting_but_only_of_its_own_account_and_region(conn: Connection) -> None:
    arn = f"arn:aws:ssm:us-east-1:111122223333:servicesetting{TIER}"
    assert settings.get(conn, EAST, arn).setting_id == TIER
    with pytest.raises(ValidationError):
        settings.get(conn, WEST, arn)


def test_an_unknown_setting_is_not_found(conn: Connection) -> None:
    with pytest.raises(ServiceSettingNotFound):
        settings.get(conn, EAST, "/ssm/made/up")


def test_values_outside_the_documented_set_are_refused_and_case_is_kept_as_aws_spells_it(conn: Connection) -> None:
    with pytest.raises(ValidationError, match="Valid values: Standard, Advanced, Intelligent-Tiering"):
        settings.update(conn, EAST, TIER, "Premium", "u", NOW, no_role_check)
    settings.update(conn, EAST, "/ssm/parameter-store/high-throughput-enabled", "TRUE", "u", NOW, no_role_check)
    assert settings.get(conn, EAST, "/ssm/parameter-store/high-throughput-enabled").value == "true"


def test_the_dhmc_role_is_checked_and_read_back_as_the_default_instance_role(conn: Connection) -> None:
    checked: list[str] = []
    assert settings.default_instance_role(conn, EAST) is None
    settings.update(conn, EAST, DHMC_SETTING, "service-role/R", "u", NOW, checked.append)
    assert checked == ["service-role/R"]
    assert settings.default_instance_role(conn, EAST) == "service-role/R"
    assert settings.default_instance_role(conn, WEST) is None
