"""Invariants of the engine, checked with Hypothesis."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openssm.iam.policy import Effect
from tests.unit.policy.helpers import decide, doc, request

ACTIONS = ["ssm:GetParameter", "ssm:PutParameter", "iam:CreateUser", "kms:Decrypt"]
PATTERNS = ["*", "ssm:*", "ssm:Get*", "iam:*", "kms:Decrypt", "ssm:?utParameter"]
RESOURCES = ["*", "arn:aws:ssm:*:*:parameter/app/*", "arn:aws:iam::*:user/*"]
TARGETS = ["arn:aws:ssm:us-east-1:123456789012:parameter/app/x", "arn:aws:iam::123456789012:user/bob"]

conditions = st.one_of(
    st.none(),
    st.builds(lambda v: {"StringEquals": {"aws:PrincipalTag/team": v}}, st.sampled_from(["blue", "red"])),
    st.builds(lambda v: {"StringEqualsIfExists": {"aws:PrincipalTag/team": v}}, st.sampled_from(["blue", "red"])),
)


@st.composite
def statements(draw: Any) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)),
        "Resource": draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2)),
    }
    cond = draw(conditions)
    if cond:
        stmt["Condition"] = cond
    return stmt


requests = st.builds(
    lambda action, target, team: request(action, target, **({"aws:PrincipalTag/team": team} if team else {})),
    st.sampled_from(ACTIONS), st.sampled_from(TARGETS), st.sampled_from([None, "blue", "red"]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=6), requests, st.randoms())
def test_statement_order_does_not_change_the_decision(stmts: list[dict[str, Any]], req: Any, rnd: Any) -> None:
    shuffled = list(stmts)
    rnd.shuffle(shuffled)
    assert decide(req, doc(*stmts)).effect == decide(req, doc(*shuffled)).effect


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=5), statements(), requests)
def test_adding_a_deny_never_turns_a_denial_into_an_allow(stmts: list[dict[str, Any]], extra: dict[str, Any],
                                                          req: Any) -> None:
    before = decide(req, doc(*stmts))
    after = decide(req, doc(*stmts, {**extra, "Effect": "Deny"}))
    if not before.allowed:
        assert not after.allowed
    if after.allowed:
        assert before.allowed


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["blue", "red"]), st.sampled_from(["blue", "red"]), st.sampled_from(ACTIONS))
def test_if_exists_with_the_key_present_equals_the_base_operator(policy_team: str, caller_team: str,
                                                                 action: str) -> None:
    base = doc({"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalTag/team": policy_team}}})
    if_exists = doc({"Effect": "Allow", "Action": "*", "Resource": "*",
                     "Condition": {"StringEqualsIfExists": {"aws:PrincipalTag/team": policy_team}}})
    req = request(action, **{"aws:PrincipalTag/team": caller_team})
    assert decide(req, base).effect == decide(req, if_exists).effect


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=5), requests, st.sampled_from([str.upper, str.lower, str.swapcase]))
def test_the_case_of_the_action_does_not_matter(stmts: list[dict[str, Any]], req: Any, change: Any) -> None:
    from dataclasses import replace

    assert decide(replace(req, action=change(req.action)), doc(*stmts)).effect == decide(req, doc(*stmts)).effect


def test_a_deny_statement_alone_is_an_explicit_deny() -> None:
    assert decide(request("ssm:GetParameter"), doc({"Effect": "Deny", "Action": "*", "Resource": "*"})).effect == \
        Effect.EXPLICIT_DENY
