"""Parameter Store's storage-free rules, and the service on an in-memory store with a fake clock."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from openssm.clock import FakeClock
from openssm.errors import ValidationError
from openssm.services.kms import InvalidCiphertext, KmsService
from openssm.services.parameter_model import (
    HierarchyLevelLimitExceeded,
    ParameterNotFound,
    ParameterType,
    Tier,
    label_is_valid,
    split_selector,
    strip_arn,
    validate_name,
)
from openssm.services.parameters import ParameterService, PutRequest, Scope
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox


@pytest.mark.parametrize(("raw", "expected"), [
    ("/a/b", ("/a/b", None)), ("/a/b:3", ("/a/b", "3")), ("/a/b:prod", ("/a/b", "prod")), ("plain:1", ("plain", "1")),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/a/b:2", ("/a/b", "2")),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/flat", ("flat", None)),
])
def test_selectors_and_arns_resolve_to_names(raw: str, expected: tuple[str, str | None]) -> None:
    assert split_selector(raw) == expected


def test_arn_names_keep_their_leading_slash_only_when_hierarchical() -> None:
    assert strip_arn("arn:aws:ssm:r:1:parameter/x/y") == "/x/y"
    assert strip_arn("arn:aws:ssm:r:1:parameter/x") == "x"


@pytest.mark.parametrize("name", ["aws-thing", "/ssm/x", "SSM", "a/b", "/a//b", "/a b"])
def test_reserved_or_malformed_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_name(name)


def test_sixteen_levels_exceed_the_hierarchy_limit() -> None:
    validate_name("/a" * 15)
    with pytest.raises(HierarchyLevelLimitExceeded):
        validate_name("/a" * 16)


@pytest.mark.parametrize(("label", "valid"), [("prod", True), ("v1.2-rc_1", True), ("1st", False),
                                               ("awsprod", False), ("SSMx", False), ("a/b", False), ("x" * 101, False)])
def test_label_rules(label: str, valid: bool) -> None:
    assert label_is_valid(label) is valid


def test_an_expiration_policy_hides_the_parameter_once_the_clock_passes_it() -> None:
    db = open_database("sqlite://")
    box = SecretBox(b"m" * 32)
    clock = FakeClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    service = ParameterService(db, KmsService(db, box))
    policy = json.dumps([{"Type": "Expiration", "Version": "1.0",
                          "Attributes": {"Timestamp": "2026-01-01T01:00:00.000Z"}}])
    scope = Scope("123456789012", "us-east-1", "arn:aws:iam::123456789012:root", clock.now())
    with db.begin() as conn:
        service.put(conn, scope, PutRequest("/temp", "v", ParameterType.STRING, tier=Tier.ADVANCED, policies=policy))
        assert service.resolve(conn, scope, "/temp", decrypt=False).value == "v"
    clock.advance(hours=2)
    later = Scope(scope.account_id, scope.region, scope.user_arn, clock.now())
    with db.read() as conn, pytest.raises(ParameterNotFound):
        service.resolve(conn, later, "/temp", decrypt=False)


def test_secure_strings_are_stored_encrypted_and_bound_to_their_name() -> None:
    db = open_database("sqlite://")
    kms = KmsService(db, SecretBox(b"m" * 32))
    service = ParameterService(db, kms)
    scope = Scope("123456789012", "us-east-1", "u", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with db.begin() as conn:
        stored = service.put(conn, scope, PutRequest("/s", "hunter2", ParameterType.SECURE_STRING))
        assert "hunter2" not in stored.value
        assert service.resolve(conn, scope, "/s", decrypt=True).value == "hunter2"
        key = kms.resolve(conn, scope.account_id, scope.region, "alias/aws/ssm", scope.now)
        elsewhere = {"PARAMETER_ARN": "arn:aws:ssm:us-east-1:123456789012:parameter/t"}
        with pytest.raises(InvalidCiphertext):
            kms.decrypt(conn, key, base64.b64decode(stored.value), elsewhere)
