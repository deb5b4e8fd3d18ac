"""Policy documents: parsing and IAM's validation into typed, immutable statements."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from openssm.iam.policy.conditions import BASE_OPERATORS, split_operator
from openssm.iam.policy.errors import MalformedPolicyDocument

VERSIONS = ("2012-10-17", "2008-10-17")


class PolicyKind(StrEnum):
    IDENTITY = "identity"
    RESOURCE = "resource"
    TRUST = "trust"
    SCP = "scp"
    BOUNDARY = "boundary"
    SESSION = "session"


@dataclass(frozen=True)
class Condition:
    operator: str
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    effect: str
    sid: str | None
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    principals: Mapping[str, tuple[str, ...]] | None
    not_principals: Mapping[str, tuple[str, ...]] | None
    conditions: tuple[Condition, ...]
    index: int


@dataclass(frozen=True)
class PolicyDocument:
    version: str
    statements: tuple[Statement, ...]
    text: str

    @property
    def supports_variables(self) -> bool:
        return self.version == "2012-10-17"


def _strings(value: Any, what: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        raise MalformedPolicyDocument(f"Syntax errors in policy. {what} must be a string or a list of strings.")
    return tuple(items)


def _condition_values(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for v in items:
        if isinstance(v, bool):
            out.append("true" if v else "false")
        elif isinstance(v, str | int | float):
            out.append(str(v))
        else:
            raise MalformedPolicyDocument("Syntax errors in policy. Condition values must be strings.")
    return tuple(out)


def _conditions(block: Any) -> tuple[Condition, ...]:
    if block is None:
        return ()
    if not isinstance(block, dict):
        raise MalformedPolicyDocument("Syntax errors in policy. Condition must be an object.")
    out = []
    for operator, clauses in block.items():
        _qualifier, base, _if_exists = split_operator(operator)
        if base not in BASE_OPERATORS:
            raise MalformedPolicyDocument(f"Invalid Condition type : {operator}.")
        if not isinstance(clauses, dict):
            raise MalformedPolicyDocument("Syntax errors in policy. Condition clauses must be objects.")
        for key, values in clauses.items():
            out.append(Condition(operator, key, _condition_values(values)))
    return tuple(out)


def _principal(value: Any) -> Mapping[str, tuple[str, ...]]:
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedPolicyDocument("Invalid principal in policy")
    out = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicyDocument("Invalid principal in policy")
        out[kind] = _strings(ids, "Principal")
    return out


def _check_action(action: str) -> None:
    if action != "*" and ":" not in action:
        raise MalformedPolicyDocument("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")


def _check_resource(resource: str) -> None:
    if resource != "*" and not resource.startswith("arn:"):
        raise MalformedPolicyDocument(f'Resource {resource} must be in ARN format or "*".')


def _statement(raw: Any, index: int, kind: PolicyKind) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    known = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
             "Condition"}
    if set(raw) - known:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyDocument("Syntax errors in policy." if effect is not None
                                      else "Missing required field Effect")
    if "Action" not in raw and "NotAction" not in raw:
        raise MalformedPolicyDocument("Policy statement must contain actions.")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if kind in (PolicyKind.RESOURCE, PolicyKind.TRUST) and not has_principal:
        raise MalformedPolicyDocument("Missing required field Principal")
    if kind not in (PolicyKind.RESOURCE, PolicyKind.TRUST) and has_principal:
        raise MalformedPolicyDocument("Policy document should not specify a principal.")
    needs_resource = kind not in (PolicyKind.TRUST,)
    if needs_resource and "Resource" not in raw and "NotResource" not in raw:
        raise MalformedPolicyDocument("Policy statement must contain resources.")
    actions = _strings(raw["Action"], "Action") if "Action" in raw else None
    not_actions = _strings(raw["NotAction"], "NotAction") if "NotAction" in raw else None
    for a in (actions or ()) + (not_actions or ()):
        _check_action(a)
    resources = _strings(raw["Resource"], "Resource") if "Resource" in raw else None
    not_resources = _strings(raw["NotResource"], "NotResource") if "NotResource" in raw else None
    for r in (resources or ()) + (not_resources or ()):
        _check_resource(r)
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    return Statement(
        effect=effect, sid=sid, actions=actions, not_actions=not_actions, resources=resources,
        not_resources=not_resources,
        principals=_principal(raw["Principal"]) if "Principal" in raw else None,
        not_principals=_principal(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
        conditions=_conditions(raw.get("Condition")), index=index,
    )


def parse_policy(text: str, kind: PolicyKind = PolicyKind.IDENTITY) -> PolicyDocument:
    """Parse and validate a policy document as IAM does; raise MalformedPolicyDocument otherwise."""
    try:
        raw = json.loads(text)
    except (ValueError, TypeError) as err:
        raise MalformedPolicyDocument("Syntax errors in policy.") from err
    if not isinstance(raw, dict):
        raise MalformedPolicyDocument("Syntax errors in policy.")
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicyDocument("The policy failed legacy parsing")
    if "Statement" not in raw:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    body = raw["Statement"]
    items = body if isinstance(body, list) else [body]
    if not items:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    extra = set(raw) - {"Version", "Statement", "Id"}
    if extra:
        raise MalformedPolicyDocument("Syntax errors in policy.")
    statements = tuple(_statement(s, i, kind) for i, s in enumerate(items))
    return PolicyDocument(version, statements, text)
