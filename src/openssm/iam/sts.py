"""STS's rules: who may assume which role for how long, with which session tags and policies."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.iam import entities, tags
from openssm.iam.authorizer import PolicyAuthorizer, global_keys
from openssm.iam.entities import EntityKind
from openssm.iam.policy import AuthzRequest, PolicyKind, parse_policy
from openssm.iam.policy.evaluate import principal_match, statement_applies
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import PrincipalType
from openssm.iam.sessions import IssuedCredentials, SessionGrant, issue
from openssm.store.secrets import SecretBox

MIN_DURATION = 900
CHAINED_MAX = 3600
MAX_PACKED_POLICY = 2048
MAX_SESSION_TAGS = 50
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role(/(?:[^/]+/)*)([\w+=,.@-]+)$")


class PackedPolicyTooLarge(AwsError):
    code = "PackedPolicyTooLarge"


@dataclass(frozen=True)
class AssumeRoleRequest:
    role_arn: str
    session_name: str
    duration_seconds: int | None
    policy: str | None
    policy_arns: tuple[str, ...]
    tags: Mapping[str, str]
    transitive_keys: tuple[str, ...]
    external_id: str | None


@dataclass(frozen=True)
class AssumedRole:
    credentials: IssuedCredentials
    assumed_role_id: str
    arn: str
    packed_policy_size: int | None


def _denied(facts: CallFacts, role_arn: str, action: str = "sts:AssumeRole") -> AccessDenied:
    return AccessDenied(f"User: {facts.caller.arn} is not authorized to perform: {action} on resource: {role_arn}")


def _trust_allows(facts: CallFacts, trust_text: str, action: str, role_arn: str,
                  context: dict[str, tuple[str, ...]]) -> str | None:
    """How the trust policy admits the caller ('specific' or 'account'), or None when it does not."""
    trust = parse_policy(trust_text, PolicyKind.TRUST)
    caller = facts.caller
    request = AuthzRequest(action, role_arn, caller.arn, caller.account_id, context, role_arn=caller.role_arn)
    hits = [s for s in trust.statements if statement_applies(s, trust, request, set())]
    allows = [s for s in hits if s.effect == "Allow" and s.principals is not None]
    if not allows or any(s.effect == "Deny" for s in hits):
        return None
    matches = {principal_match(s.principals, request) for s in allows if s.principals is not None}
    return "specific" if "specific" in matches else "account"


def _context(facts: CallFacts, req: AssumeRoleRequest) -> dict[str, tuple[str, ...]]:
    keys = global_keys(facts)
    keys["sts:rolesessionname"] = (req.session_name,)
    if req.external_id is not None:
        keys["sts:externalid"] = (req.external_id,)
    for key, value in req.tags.items():
        keys[f"aws:requesttag/{key.lower()}"] = (value,)
    if req.tags:
        keys["aws:tagkeys"] = tuple(req.tags)
    return keys


def _check_policy(req: AssumeRoleRequest) -> int | None:
    if req.policy is None:
        return None
    parse_policy(req.policy, PolicyKind.SESSION)
    packed = len("".join(req.policy.split()))
    percent = packed * 100 // MAX_PACKED_POLICY
    if packed > MAX_PACKED_POLICY:
        raise PackedPolicyTooLarge(f"Packed policy consumes {percent}% of allotted space, please use smaller "
                                   "policy for session")
    return percent


def _duration(facts: CallFacts, req: AssumeRoleRequest, role_max: int) -> int:
    seconds = req.duration_seconds or 3600
    if facts.caller.principal_type is PrincipalType.ASSUMED_ROLE and seconds > CHAINED_MAX:
        raise ValidationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                              "role chaining.")
    if seconds > role_max:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return seconds


def assume_role(conn: Connection, box: SecretBox, authorizer: PolicyAuthorizer, facts: CallFacts,
                req: AssumeRoleRequest) -> AssumedRole:
    match = _ROLE_ARN.match(req.role_arn)
    role = entities.find(conn, match.group(1), EntityKind.ROLE, match.group(3)) if match else None
    if role is None or role.arn != req.role_arn:
        raise _denied(facts, req.role_arn)
    context = _context(facts, req)
    admitted = _trust_allows(facts, role.trust_policy or "", "sts:AssumeRole", role.arn, context)
    if admitted is None:
        raise _denied(facts, role.arn)
    if req.tags and _trust_allows(facts, role.trust_policy or "", "sts:TagSession", role.arn, context) is None:
        raise _denied(facts, role.arn, "sts:TagSession")
    same_account = role.account_id == facts.caller.account_id
    if not (same_account and admitted == "specific"):
        authorizer.authorize(facts, "sts:AssumeRole", [AuthorizationTarget(role.arn, {})], {
            k: list(v) for k, v in context.items() if k.startswith(("aws:requesttag/", "aws:tagkeys", "sts:"))})
    if len(req.tags) > MAX_SESSION_TAGS:
        raise ValidationError(f"1 validation error detected: Value at 'tags' failed to satisfy constraint: Member "
                              f"must have length less than or equal to {MAX_SESSION_TAGS}")
    packed = _check_policy(req)
    seconds = _duration(facts, req, role.max_session_duration or 3600)
    inherited = {k: v for k, v in facts.caller.tags.items() if k in facts.caller.transitive_tag_keys}
    session_tags = {**tags.tags_of(conn, role.account_id, "role", role.name), **inherited, **req.tags}
    assumed_id = f"{role.entity_id}:{req.session_name}"
    arn = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{req.session_name}"
    grant = SessionGrant(role.account_id, PrincipalType.ASSUMED_ROLE, arn, assumed_id, req.session_name, role.arn,
                         req.policy, req.policy_arns, session_tags,
                         tuple(dict.fromkeys([*facts.caller.transitive_tag_keys, *req.transitive_keys])))
    creds = issue(conn, box, grant, facts.now, dt.timedelta(seconds=seconds))
    return AssumedRole(creds, assumed_id, arn, packed)


def get_session_token(conn: Connection, box: SecretBox, facts: CallFacts, duration_seconds: int | None,
                      policy_arns: Sequence[str] = ()) -> IssuedCredentials:
    caller = facts.caller
    if caller.principal_type not in (PrincipalType.USER, PrincipalType.ROOT):
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    seconds = duration_seconds or 43200
    if caller.is_root and seconds > 3600:
        seconds = 3600
    grant = SessionGrant(caller.account_id, caller.principal_type, caller.arn, caller.user_id, caller.name, None,
                         None, tuple(policy_arns), dict(caller.tags), ())
    return issue(conn, box, grant, facts.now, dt.timedelta(seconds=seconds))
