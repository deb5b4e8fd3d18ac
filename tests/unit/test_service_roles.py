"""Whether a role's trust policy hands it to a service principal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from openssm.iam.entities import Entity, EntityKind
from openssm.iam.service_roles import trusts_service
from openssm.types import AccountId, Arn


def role(*statements: dict[str, Any]) -> Entity:
    return Entity(AccountId("111122223333"), EntityKind.ROLE, "R", "/service-role/", "AROAEXAMPLE",
                  Arn("arn:aws:iam::111122223333:role/service-role/R"), dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                  trust_policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def grant(effect: str, service: str | list[str], action: str = "sts:AssumeRole") -> dict[str, Any]:
    return {"Effect": effect, "Principal": {"Service": service}, "Action": action}


def test_the_seed_trust_policy_hands_the_role_to_ssm_only() -> None:
    seed = role({"Sid": "", **grant("Allow", "ssm.amazonaws.com")})
    assert trusts_service(seed, "ssm.amazonaws.com")
    assert not trusts_service(seed, "ec2.amazonaws.com")


def test_a_list_of_services_or_a_wildcard_action_counts() -> None:
    assert trusts_service(role(grant("Allow", ["ec2.amazonaws.com", "ssm.amazonaws.com"], "sts:*")),
                          "ssm.amazonaws.com")


def test_a_deny_for_the_service_wins_and_other_actions_do_not_count() -> None:
    assert not trusts_service(role(grant("Allow", "ssm.amazonaws.com"), grant("Deny", "ssm.amazonaws.com")),
                              "ssm.amazonaws.com")
    assert not trusts_service(role(grant("Allow", "ssm.amazonaws.com", "sts:TagSession")), "ssm.amazonaws.com")
