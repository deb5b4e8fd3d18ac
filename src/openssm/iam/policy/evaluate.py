"""AWS's policy evaluation logic: explicit deny wins; SCPs, identity or resource policies, the permissions
boundary and session policies must each allow (see "Policy evaluation logic" in the IAM user guide)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from openssm.iam.policy.conditions import condition_holds
from openssm.iam.policy.document import PolicyDocument, Statement
from openssm.iam.policy.matching import action_matches, resource_matches
from openssm.iam.policy.variables import substitute

NamedPolicy = tuple[str, PolicyDocument]


class Effect(StrEnum):
    """The EvalDecision values of IAM's simulation API."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


class PolicyType(StrEnum):
    IDENTITY = "identity-based policy"
    RESOURCE = "resource-based policy"
    BOUNDARY = "permissions boundary"
    SESSION = "session policy"
    SCP = "service control policy"


@dataclass(frozen=True)
class AuthzRequest:
    """One action on one resource by one principal; `context` maps lower-cased condition keys to values."""

    action: str
    resource: str
    principal_arn: str
    principal_account: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    role_arn: str | None = None
    service_principal: str | None = None


@dataclass(frozen=True)
class PolicySet:
    identity: Sequence[NamedPolicy] = ()
    resource: Sequence[NamedPolicy] = ()
    boundary: NamedPolicy | None = None
    session: Sequence[NamedPolicy] | None = None
    scp_levels: Sequence[Sequence[NamedPolicy]] = ()
    is_root: bool = False
    # KMS-style: the resource policy must allow (itself, or by delegating to the account) for any allow.
    resource_required: bool = False


@dataclass(frozen=True)
class MatchedStatement:
    policy_id: str
    policy_type: PolicyType
    statement_index: int
    sid: str | None
    effect: str


@dataclass(frozen=True)
class Decision:
    effect: Effect
    matched: tuple[MatchedStatement, ...] = ()
    missing_context_keys: tuple[str, ...] = ()
    # The policy type that decided a denial (for AWS's "because no … allows" messages).
    denied_by: PolicyType | None = None

    @property
    def allowed(self) -> bool:
        return self.effect is Effect.ALLOWED


def _any_pattern(patterns: tuple[str, ...], value: str, doc: PolicyDocument, request: AuthzRequest,
                 is_action: bool) -> bool:
    for pattern in patterns:
        if doc.supports_variables and not is_action:
            resolved = substitute(pattern, request.context)
            if resolved is None:
                continue
            pattern = resolved
        if action_matches(pattern, value) if is_action else resource_matches(pattern, value):
            return True
    return False


def principal_match(principals: Mapping[str, tuple[str, ...]], request: AuthzRequest) -> str | None:
    """'specific' when the principal is named by its own ARN (or a service), 'account' when only its
    account (or everyone) is named: such a grant delegates to the account's own policies."""
    found: str | None = None
    for kind, ids in principals.items():
        for pid in ids:
            if kind == "Service" and pid == request.service_principal:
                return "specific"
            if kind != "AWS":
                continue
            if pid in (request.principal_arn, request.role_arn):
                return "specific"
            if pid in ("*", request.principal_account, f"arn:aws:iam::{request.principal_account}:root"):
                found = "account"
    return found


def _conditions_hold(stmt: Statement, doc: PolicyDocument, request: AuthzRequest, missing: set[str]) -> bool:
    for cond in stmt.conditions:
        values = request.context.get(cond.key.lower())
        if values is None:
            missing.add(cond.key)
        policy_values = cond.values
        if doc.supports_variables:
            policy_values = tuple(v for v in (substitute(p, request.context) for p in cond.values) if v is not None)
        if not condition_holds(cond.operator, values, policy_values):
            return False
    return True


def statement_applies(stmt: Statement, doc: PolicyDocument, request: AuthzRequest, missing: set[str]) -> bool:
    if stmt.actions is not None and not _any_pattern(stmt.actions, request.action, doc, request, True):
        return False
    if stmt.not_actions is not None and _any_pattern(stmt.not_actions, request.action, doc, request, True):
        return False
    if stmt.resources is not None and not _any_pattern(stmt.resources, request.resource, doc, request, False):
        return False
    if stmt.not_resources is not None and _any_pattern(stmt.not_resources, request.resource, doc, request, False):
        return False
    if stmt.principals is not None and principal_match(stmt.principals, request) is None:
        return False
    if stmt.not_principals is not None and principal_match(stmt.not_principals, request) is not None:
        return False
    return _conditions_hold(stmt, doc, request, missing)


def _scan(policies: Sequence[NamedPolicy], kind: PolicyType, request: AuthzRequest,
          missing: set[str]) -> tuple[list[MatchedStatement], list[MatchedStatement]]:
    allows: list[MatchedStatement] = []
    denies: list[MatchedStatement] = []
    for policy_id, doc in policies:
        for stmt in doc.statements:
            if statement_applies(stmt, doc, request, missing):
                hit = MatchedStatement(policy_id, kind, stmt.index, stmt.sid, stmt.effect)
                (denies if stmt.effect == "Deny" else allows).append(hit)
    return allows, denies


def _names_principal(allows: Sequence[MatchedStatement], policies: PolicySet, request: AuthzRequest) -> bool:
    """A resource-based allow grants by itself only when it names the principal specifically."""
    by_id = dict(policies.resource)
    for hit in allows:
        stmt = by_id[hit.policy_id].statements[hit.statement_index]
        if stmt.principals is not None and principal_match(stmt.principals, request) == "specific":
            return True
    return False


def evaluate(request: AuthzRequest, policies: PolicySet) -> Decision:
    """Decide one request under every policy type that applies to it."""
    missing: set[str] = set()
    scans: dict[PolicyType, tuple[list[MatchedStatement], list[MatchedStatement]]] = {
        PolicyType.IDENTITY: _scan(policies.identity, PolicyType.IDENTITY, request, missing),
        PolicyType.RESOURCE: _scan(policies.resource, PolicyType.RESOURCE, request, missing),
    }
    if policies.boundary is not None:
        scans[PolicyType.BOUNDARY] = _scan([policies.boundary], PolicyType.BOUNDARY, request, missing)
    if policies.session is not None:
        scans[PolicyType.SESSION] = _scan(policies.session, PolicyType.SESSION, request, missing)
    scp_scans = [_scan(level, PolicyType.SCP, request, missing) for level in policies.scp_levels]
    keys = tuple(sorted(missing))
    denies = [d for _, ds in scans.values() for d in ds] + [d for _, ds in scp_scans for d in ds]
    if denies:
        return Decision(Effect.EXPLICIT_DENY, tuple(denies), keys, denies[0].policy_type)
    if any(not allows for allows, _ in scp_scans):
        return Decision(Effect.IMPLICIT_DENY, (), keys, PolicyType.SCP)
    if policies.resource_required and not scans[PolicyType.RESOURCE][0]:
        return Decision(Effect.IMPLICIT_DENY, (), keys, PolicyType.RESOURCE)
    if policies.is_root:
        return Decision(Effect.ALLOWED, (), keys)
    resource_allows = scans[PolicyType.RESOURCE][0]
    identity_allows = scans[PolicyType.IDENTITY][0]
    if _names_principal(resource_allows, policies, request):
        return Decision(Effect.ALLOWED, tuple(resource_allows), keys)
    # A resource policy naming only the account delegates to identity policies; it grants nothing itself.
    if not identity_allows:
        return Decision(Effect.IMPLICIT_DENY, (), keys, PolicyType.IDENTITY)
    for kind in (PolicyType.BOUNDARY, PolicyType.SESSION):
        if kind in scans and not scans[kind][0]:
            return Decision(Effect.IMPLICIT_DENY, (), keys, kind)
    return Decision(Effect.ALLOWED, tuple(identity_allows + resource_allows), keys)
