"""Rotating a hybrid node's RSA key (UpdateManagedInstancePublicKey) and when the service asks for it, with an
in-memory store and a fake clock."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import Connection

from openssm.config import ServerConfig
from openssm.errors import ValidationError
from openssm.protocol import rsa_auth
from openssm.services import activations, instances, node_keys
from openssm.services.activations import NewActivation
from openssm.services.instances import NodeKey
from openssm.store.db import open_database

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=31)
ACCOUNT, REGION = "111122223333", "us-east-1"


@pytest.fixture
def conn() -> Iterator[Connection]:
    with open_database("sqlite://").begin() as connection:
        yield connection


@pytest.fixture(scope="module")
def old_key() -> str:
    return rsa_auth.public_key_b64(rsa_auth.new_key())


@pytest.fixture(scope="module")
def new_key() -> str:
    return rsa_auth.public_key_b64(rsa_auth.new_key())


def enrol(conn: Connection, public_key: str, fingerprint: str = "fp-1") -> str:
    made, code = activations.create(conn, ACCOUNT, REGION, NewActivation("R"), NOW)
    return instances.register(conn, activations.redeem(conn, made.activation_id, code, NOW), public_key,
                              fingerprint, NOW)


def key_of(conn: Connection, node: str) -> NodeKey:
    key = instances.node_key(conn, node)
    assert key is not None
    return key


def test_a_registered_key_dates_from_the_registration(conn: Connection, old_key: str) -> None:
    assert key_of(conn, enrol(conn, old_key)).key_set_at == NOW


def test_a_new_key_replaces_the_old_one_and_the_fingerprint_stays(conn: Connection, old_key: str,
                                                                   new_key: str) -> None:
    node = enrol(conn, old_key)
    node_keys.replace_key(conn, node, new_key, LATER)
    key = key_of(conn, node)
    assert (key.public_key, key.fingerprint, key.key_set_at) == (new_key, "fp-1", LATER)


@pytest.mark.parametrize("garbage", [
    "not base64!", base64.b64encode(b"not DER").decode(),
    rsa_auth.public_key_b64(rsa.generate_private_key(public_exponent=65537, key_size=1024)),
    base64.b64encode(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
], ids=["not-base64", "not-der", "rsa-1024", "ec"])
def test_anything_but_a_base64_der_rsa_2048_key_is_refused_and_the_old_key_kept(
        conn: Connection, old_key: str, garbage: str) -> None:
    node = enrol(conn, old_key)
    with pytest.raises(ValidationError, match="NewPublicKey"):
        node_keys.replace_key(conn, node, garbage, LATER)
    assert (key_of(conn, node).public_key, key_of(conn, node).key_set_at) == (old_key, NOW)


def test_a_deregistered_or_unknown_node_cannot_change_its_key(conn: Connection, old_key: str,
                                                              new_key: str) -> None:
    node = enrol(conn, old_key)
    instances.deregister(conn, ACCOUNT, REGION, node)
    for instance_id in (node, "mi-00000000000000000"):
        with pytest.raises(instances.InvalidInstanceId):
            node_keys.replace_key(conn, instance_id, new_key, LATER)


def test_rotation_is_due_once_the_key_is_as_old_as_the_rotation_age(conn: Connection, old_key: str,
                                                                    new_key: str) -> None:
    node = enrol(conn, old_key)
    age = dt.timedelta(days=30)
    assert not node_keys.rotation_due(key_of(conn, node), NOW + age - dt.timedelta(seconds=1), age)
    assert node_keys.rotation_due(key_of(conn, node), NOW + age, age)
    node_keys.replace_key(conn, node, new_key, NOW + age)
    assert not node_keys.rotation_due(key_of(conn, node), NOW + age + dt.timedelta(days=1), age)
    assert node_keys.rotation_due(key_of(conn, node), NOW + age, dt.timedelta(0))


def test_the_server_asks_for_rotation_after_30_days_unless_configured_otherwise(tmp_path: Path) -> None:
    assert ServerConfig(data_dir=tmp_path, database_url="sqlite://").node_key_rotation_age == dt.timedelta(days=30)
    assert ServerConfig(data_dir=tmp_path, database_url="sqlite://",
                        node_key_rotation_days=0).node_key_rotation_age == dt.timedelta(0)
    for bad in (-1.0, float("nan"), 1e12):
        with pytest.raises(ValueError, match="rotation age"):
            ServerConfig(data_dir=tmp_path, database_url="sqlite://", node_key_rotation_days=bad)
