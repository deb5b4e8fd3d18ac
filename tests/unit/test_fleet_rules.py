"""Activation and managed-instance rules with a fake clock: expiry, the registration limit, PingStatus."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import activations, instances
from openssm.services.activations import InvalidActivation, InvalidActivationId, NewActivation
from openssm.store.db import open_database

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
ACCOUNT, REGION = "111122223333", "us-east-1"


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


def test_an_activation_lasts_24_hours_by_default_and_at_most_30_days(conn: Connection) -> None:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), NOW)
    assert made.expires_at == NOW + dt.timedelta(hours=24) and made.registration_limit == 1 and len(code) >= 20
    with pytest.raises(ValidationError):
        activations.create(conn, ACCOUNT, REGION, NewActivation("R", expires_at=NOW + dt.timedelta(days=31)), NOW)
    with pytest.raises(ValidationError):
        activations.create(conn, ACCOUNT, REGION, NewActivation("R", registration_limit=1001), NOW)


def test_an_expired_activation_registers_nothing(conn: Connection) -> None:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), NOW)
    with pytest.raises(InvalidActivation, match="has expired"):
        activations.redeem(conn, made.activation_id, code, NOW + dt.timedelta(hours=24))
    assert activations.redeem(conn, made.activation_id, code, NOW + dt.timedelta(hours=23)).activation_id


def test_the_limit_counts_every_registration_and_a_deleted_activation_is_gone(conn: Connection) -> None:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R", registration_limit=2), NOW)
    activations.redeem(conn, made.activation_id, code, NOW)
    activations.redeem(conn, made.activation_id, code, NOW)
    with pytest.raises(InvalidActivation, match="registration limit of 2"):
        activations.redeem(conn, made.activation_id, code, NOW)
    assert activations.describe(conn, ACCOUNT, REGION, {})[0].registrations_count == 2
    activations.delete(conn, ACCOUNT, REGION, made.activation_id)
    with pytest.raises(InvalidActivationId):
        activations.delete(conn, ACCOUNT, REGION, made.activation_id)
    with pytest.raises(InvalidActivation):
        activations.redeem(conn, made.activation_id, code, NOW)


@pytest.mark.parametrize(("since", "status"), [
    (None, "Inactive"), (dt.timedelta(minutes=4), "Online"), (dt.timedelta(minutes=10), "Online"),
    (dt.timedelta(minutes=11), "ConnectionLost"), (dt.timedelta(days=31), "Inactive")])
def test_ping_status_follows_the_last_heartbeat(since: dt.timedelta | None, status: str) -> None:
    assert instances.ping_status(None if since is None else NOW - since, NOW) == status


def test_a_registered_node_heartbeats_and_a_deregistered_one_cannot(conn: Connection) -> None:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R", default_instance_name="db"), NOW)
    node = instances.register(conn, activations.redeem(conn, made.activation_id, code, NOW), "KEY", "fp-1", NOW)
    instances.heartbeat(conn, ACCOUNT, REGION, node, {"PlatformType": "Linux", "AgentVersion": "3.3.0.0"}, NOW)
    seen = instances.get(conn, ACCOUNT, REGION, node, NOW + dt.timedelta(minutes=1))
    assert seen is not None and (seen.ping_status, seen.platform_type, seen.name) == ("Online", "Linux", "db")
    assert instances.node_key(conn, node) is not None
    instances.deregister(conn, ACCOUNT, REGION, node)
    assert instances.node_key(conn, node) is None and instances.get(conn, ACCOUNT, REGION, node, NOW) is None
    with pytest.raises(instances.InvalidInstanceId):
        instances.heartbeat(conn, ACCOUNT, REGION, node, {}, NOW)
