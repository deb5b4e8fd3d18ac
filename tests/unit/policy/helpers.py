"""Building requests and policy sets for policy-engine tests."""

from __future__ import annotations

import json
from typing import Any

from openssm.iam.policy import AuthzRequest, Decision, PolicyKind, PolicySet, evaluate, parse_policy

USER = "arn:aws:iam::123456789012:user/alice"


def doc(*statements: dict[str, Any], version: str = "2012-10-17", kind: PolicyKind = PolicyKind.IDENTITY) -> Any:
    return parse_policy(json.dumps({"Version": version, "Statement": list(statements)}), kind)


def request(action: str, resource: str = "*", **context: str | list[str]) -> AuthzRequest:
    ctx = {k.lower(): tuple(v) if isinstance(v, list) else (v,) for k, v in context.items()}
    ctx.setdefault("aws:username", ("alice",))
    return AuthzRequest(action, resource, USER, "123456789012", ctx)


def decide(req: AuthzRequest, *identity: Any, **kw: Any) -> Decision:
    named = [(f"p{i}", d) for i, d in enumerate(identity)]
    return evaluate(req, PolicySet(identity=named, **kw))
