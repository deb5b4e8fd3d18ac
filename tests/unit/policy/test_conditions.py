"""Condition operators, qualifiers and missing-key rules."""

from __future__ import annotations

import pytest

from openssm.iam.policy.conditions import condition_holds
from tests.unit.policy.helpers import decide, doc, request


@pytest.mark.parametrize(("operator", "request_values", "policy", "expected"), [
    ("StringEquals", ("a",), ("a", "b"), True),
    ("StringEquals", ("c",), ("a", "b"), False),
    ("StringNotEquals", ("c",), ("a", "b"), True),
    ("StringNotEquals", None, ("a",), True),
    ("StringEquals", None, ("a",), False),
    ("StringEqualsIfExists", None, ("a",), True),
    ("StringEqualsIfExists", ("b",), ("a",), False),
    ("StringEqualsIgnoreCase", ("ADMIN",), ("admin",), True),
    ("StringLike", ("prod-web",), ("prod-*",), True),
    ("StringNotLike", ("dev-web",), ("prod-*",), True),
    ("NumericLessThan", ("3",), ("5",), True),
    ("NumericGreaterThanEquals", ("5",), ("5",), True),
    ("NumericEquals", ("x",), ("5",), False),
    ("DateLessThan", ("2026-01-01T00:00:00Z",), ("2026-06-01T00:00:00Z",), True),
    ("DateGreaterThan", ("1767225600",), ("2025-01-01T00:00:00Z",), True),
    ("Bool", ("true",), ("True",), True),
    ("BoolIfExists", None, ("false",), True),
    ("IpAddress", ("192.0.2.10",), ("192.0.2.0/24",), True),
    ("NotIpAddress", ("192.0.2.10",), ("203.0.113.0/24",), True),
    ("IpAddress", ("2001:db8::1",), ("2001:db8::/32",), True),
    ("ArnLike", ("arn:aws:iam::1:role/admin",), ("arn:aws:iam::*:role/*",), True),
    ("ArnNotLike", ("arn:aws:iam::1:role/admin",), ("arn:aws:iam::*:user/*",), True),
    ("Null", None, ("true",), True),
    ("Null", ("x",), ("true",), False),
    ("Null", ("x",), ("false",), True),
    ("ForAllValues:StringEquals", ("a", "b"), ("a", "b", "c"), True),
    ("ForAllValues:StringEquals", ("a", "z"), ("a", "b"), False),
    ("ForAllValues:StringEquals", None, ("a",), True),
    ("ForAnyValue:StringEquals", ("z", "a"), ("a",), True),
    ("ForAnyValue:StringEquals", None, ("a",), False),
    ("ForAnyValue:StringNotEquals", ("a", "b"), ("a",), True),
])
def test_condition_operator_semantics(operator: str, request_values: tuple[str, ...] | None,
                                      policy: tuple[str, ...], expected: bool) -> None:
    assert condition_holds(operator, request_values, policy) is expected


def test_mfa_deny_with_bool_if_exists_denies_requests_without_mfa() -> None:
    allow = doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"})
    deny = doc({"Effect": "Deny", "Action": "ssm:DeleteParameter", "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    assert not decide(request("ssm:DeleteParameter"), allow, deny).allowed
    assert decide(request("ssm:DeleteParameter", **{"aws:MultiFactorAuthPresent": "true"}), allow, deny).allowed


def test_abac_allows_only_matching_principal_and_resource_tags() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*",
                  "Condition": {"StringEquals": {"ssm:resourceTag/team": "${aws:PrincipalTag/team}"}}})
    same = request("ssm:GetParameter", **{"aws:PrincipalTag/team": "blue", "ssm:resourceTag/team": "blue"})
    other = request("ssm:GetParameter", **{"aws:PrincipalTag/team": "blue", "ssm:resourceTag/team": "red"})
    assert decide(same, policy).allowed
    assert not decide(other, policy).allowed


def test_condition_key_names_are_case_insensitive() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*",
                  "Condition": {"IpAddress": {"AWS:SOURCEIP": "10.0.0.0/8"}}})
    assert decide(request("ssm:GetParameter", **{"aws:SourceIp": "10.1.2.3"}), policy).allowed


def test_missing_keys_are_reported_for_simulation() -> None:
    policy = doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*",
                  "Condition": {"StringEquals": {"aws:RequestTag/env": "prod"}}})
    decision = decide(request("ssm:PutParameter"), policy)
    assert not decision.allowed
    assert decision.missing_context_keys == ("aws:RequestTag/env",)
