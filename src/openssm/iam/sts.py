"""STS's rules: who may assume which role for how long, with which session tags, session policies and
source identity; and users' own temporary credentials (GetSessionToken)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.iam import entities, session_tags, tags
from openssm.iam.authorizer import ContextValues, PolicyAuthorizer, global_keys
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.policy import AuthzRequest, PolicyKind, parse_policy
from openssm.iam.policy.evaluate import principal_match, statement_applies
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import Caller, PrincipalType
from openssm.iam.sessions import IssuedCredentials, SessionGrant, issue
from openssm.store.secrets import SecretBox

DEFAULT_DURATION = 3600
CHAINED_MAX = 3600
MAX_PACKED_POLICY = 2048
USER_SESSION_DEFAULT = 43200
ROOT_SESSION_MAX = 3600
_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role(/(?:[^/]+/)*)([\w+=,.@-]+)$")
_ANY_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:[^:]*:.+$")

Admission = Literal["specific", "account"]


class PackedPolicyTooLarge(AwsError):
    code = "PackedPolicyTooLarge"


@dataclass(frozen=True)
class AssumeRoleRequest:
    role_arn: str
    session_name: str
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive_keys: tuple[str, ...] = ()
    external_id: str | None = None
    source_identity: str | None = None


@dataclass(frozen=True)
class AssumedRole:
    credentials: IssuedCredentials
    assumed_role_id: str
    arn: str
    packed_policy_size: int | None
    source_identity: str | None


def _denied(caller: Caller, resource: str, action: str = "sts:AssumeRole") -> AccessDenied:
    return AccessDenied(f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}")


def _find_role(conn: Connection, caller: Caller, role_arn: str) -> Entity:
    if not _ANY_ARN.match(role_arn):
        raise ValidationError(f"{role_arn} is invalid")
    match = _ROLE_ARN.match(role_arn)
    role = entities.find(conn, match.group(1), EntityKind.ROLE, match.group(3)) if match else None
    # AWS does not tell a missing role from a refusal: both are AccessDenied naming the ARN asked for.
    if role is None or role.arn != role_arn:
        raise _denied(caller, role_arn)
    return role


def _trust_admits(facts: CallFacts, role: Entity, action: str, context: ContextValues) -> Admission | None:
    """How the role's trust policy admits the caller for `action`: naming it ('specific'), naming only
    its account or everyone ('account', which delegates to the caller's own policies), or not at all."""
    trust = parse_policy(role.trust_policy or "", PolicyKind.TRUST)
    caller = facts.caller
    request = AuthzRequest(action, role.arn, caller.arn, caller.account_id, context, role_arn=caller.role_arn)
    hits = [s for s in trust.statements if statement_applies(s, trust, request, set())]
    if any(s.effect == "Deny" for s in hits):
        return None
    matches = {principal_match(s.principals, request) for s in hits if s.effect == "Allow" and s.principals}
    if "specific" in matches:
        return "specific"
    return "account" if "account" in matches else None


def _context(facts: CallFacts, req: AssumeRoleRequest, source_identity: str | None) -> ContextValues:
    keys = global_keys(facts)
    keys["sts:rolesessionname"] = (req.session_name,)
    if req.external_id is not None:
        keys["sts:externalid"] = (req.external_id,)
    if source_identity is not None:
        keys["sts:sourceidentity"] = (source_identity,)
    if req.transitive_keys:
        keys["sts:transitivetagkeys"] = req.transitive_keys
    for key, value in req.tags:
        keys[f"aws:requesttag/{key.lower()}"] = (value,)
    if req.tags:
        keys["aws:tagkeys"] = tuple(key for key, _ in req.tags)
    return keys


def _actions(req: AssumeRoleRequest) -> list[str]:
    actions = ["sts:AssumeRole"]
    if req.tags:
        actions.append("sts:TagSession")
    if req.source_identity is not None:
        actions.append("sts:SetSourceIdentity")
    return actions


def _authorize(authorizer: PolicyAuthorizer, facts: CallFacts, role: Entity, req: AssumeRoleRequest,
               context: ContextValues) -> None:
    """The trust policy must allow each action; the caller's own policies (and its SCPs) must too, unless
    the trust policy names the caller itself in the role's own account (AWS's same-account rule)."""
    request_keys = {k: list(v) for k, v in context.items() if k.startswith(("aws:requesttag/", "aws:tagkeys", "sts:"))}
    for action in _actions(req):
        admitted = _trust_admits(facts, role, action, context)
        if admitted is None:
            raise _denied(facts.caller, role.arn, action)
        if admitted == "account" or role.account_id != facts.caller.account_id:
            authorizer.authorize(facts, action, [AuthorizationTarget(role.arn, {})], request_keys)


def _source_identity(caller: Caller, req: AssumeRoleRequest, role_arn: str) -> str | None:
    """A source identity, once set, is kept down a role chain and cannot be changed."""
    if caller.source_identity is None or req.source_identity in (None, caller.source_identity):
        return req.source_identity or caller.source_identity
    raise _denied(caller, role_arn, "sts:SetSourceIdentity")


def _packed_size(req: AssumeRoleRequest) -> int | None:
    """PackedPolicySize as a percentage; AWS packs the session policy and tags into one bounded blob.
    Ours counts the policy without whitespace plus the tags' characters, a conservative stand-in."""
    if req.policy is None and not req.tags:
        return None
    if req.policy is not None:
        parse_policy(req.policy, PolicyKind.SESSION)
    packed = len("".join((req.policy or "").split())) + sum(len(k) + len(v) for k, v in req.tags)
    percent = packed * 100 // MAX_PACKED_POLICY
    if packed > MAX_PACKED_POLICY:
        raise PackedPolicyTooLarge(f"Packed policy consumes {percent}% of allotted space, please use smaller "
                                   "policy for session")
    return percent


def _duration(caller: Caller, requested: int | None, role_max: int) -> int:
    seconds = requested or DEFAULT_DURATION
    if caller.principal_type is PrincipalType.ASSUMED_ROLE and seconds > CHAINED_MAX:
        raise ValidationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
                              "role chaining.")
    if seconds > role_max:
        raise ValidationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    return seconds


def assume_role(conn: Connection, box: SecretBox, authorizer: PolicyAuthorizer, facts: CallFacts,
                req: AssumeRoleRequest) -> AssumedRole:
    """Check AssumeRole as AWS does (trust policy, caller's policies, tags, size, duration) and issue
    the session's credentials."""
    caller = facts.caller
    if caller.is_root:
        raise AccessDenied("Roles may not be assumed by root accounts.")
    role = _find_role(conn, caller, req.role_arn)
    session_tags.check_session_tags(caller, req.tags, req.transitive_keys)
    source_identity = _source_identity(caller, req, role.arn)
    _authorize(authorizer, facts, role, req, _context(facts, req, source_identity))
    packed = _packed_size(req)
    seconds = _duration(caller, req.duration_seconds, role.max_session_duration or DEFAULT_DURATION)
    principal_tags = session_tags.layered(tags.tags_of(conn, role.account_id, "role", role.name),
                                          session_tags.inherited_tags(caller), dict(req.tags))
    assumed_id = f"{role.entity_id}:{req.session_name}"
    arn = f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{req.session_name}"
    grant = SessionGrant(role.account_id, PrincipalType.ASSUMED_ROLE, arn, assumed_id, req.session_name, role.arn,
                         req.policy, req.policy_arns, principal_tags,
                         session_tags.transitive_keys_for(caller, req.transitive_keys), source_identity)
    creds = issue(conn, box, grant, facts.now, dt.timedelta(seconds=seconds))
    return AssumedRole(creds, assumed_id, arn, packed, source_identity)


def get_session_token(conn: Connection, box: SecretBox, facts: CallFacts, duration_seconds: int | None,
                      policy_arns: Sequence[str] = ()) -> IssuedCredentials:
    """Temporary credentials with a user's (or the root's) own permissions; never from a session."""
    caller = facts.caller
    from_session = (caller.access_key_id or "").startswith("ASIA")
    if caller.principal_type not in (PrincipalType.USER, PrincipalType.ROOT) or from_session:
        raise AccessDenied("Cannot call GetSessionToken with session credentials")
    seconds = duration_seconds or USER_SESSION_DEFAULT
    if caller.is_root:
        # The root's sessions last at most an hour; AWS shortens longer requests instead of refusing them.
        seconds = min(seconds, ROOT_SESSION_MAX)
    grant = SessionGrant(caller.account_id, caller.principal_type, caller.arn, caller.user_id, caller.name, None,
                         None, tuple(policy_arns), dict(caller.tags), ())
    return issue(conn, box, grant, facts.now, dt.timedelta(seconds=seconds))
