"""Authorizing API calls: the caller's policies, the request's condition keys, the engine's verdict,
and AWS's AccessDenied wording when the answer is no."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openssm.errors import AccessDenied
from openssm.iam.directory import PolicyDirectory
from openssm.iam.policy import (
    AuthzRequest,
    Decision,
    Effect,
    NamedPolicy,
    PolicyKind,
    PolicySet,
    PolicyType,
    evaluate,
    parse_policy,
)
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import Caller, PrincipalType

ContextValues = dict[str, tuple[str, ...]]


def _text(value: Any) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(v for item in value for v in _text(item))
    return (str(value),)


def global_keys(facts: CallFacts) -> ContextValues:
    caller = facts.caller
    keys: ContextValues = {
        "aws:userid": (caller.user_id,),
        "aws:principalarn": (caller.role_arn or caller.arn,),
        "aws:principalaccount": (caller.account_id,),
        "aws:principaltype": (caller.principal_type.value,),
        "aws:currenttime": (facts.now.strftime("%Y-%m-%dT%H:%M:%SZ"),),
        "aws:epochtime": (str(int(facts.now.timestamp())),),
        "aws:securetransport": ("true" if facts.secure_transport else "false",),
        "aws:requestedregion": (facts.region,),
        "aws:multifactorauthpresent": ("true" if caller.mfa_authenticated else "false",),
    }
    if facts.source_ip:
        keys["aws:sourceip"] = (facts.source_ip,)
    if facts.user_agent:
        keys["aws:useragent"] = (facts.user_agent,)
    if caller.principal_type is PrincipalType.USER:
        keys["aws:username"] = (caller.name,)
    if caller.source_identity:
        keys["aws:sourceidentity"] = (caller.source_identity,)
    for tag, value in caller.tags.items():
        keys[f"aws:principaltag/{tag.lower()}"] = (value,)
    return keys


def request_keys(condition_keys: Mapping[str, Any], target: AuthorizationTarget, with_tags: bool = True
                 ) -> ContextValues:
    keys: ContextValues = {k.lower(): _text(v) for k, v in condition_keys.items() if v is not None}
    if not with_tags:
        return keys
    service = target.arn.split(":")[2] if target.arn.count(":") >= 5 else ""
    for tag, value in target.tags.items():
        keys[f"aws:resourcetag/{tag.lower()}"] = (value,)
        if service:
            keys[f"{service}:resourcetag/{tag.lower()}"] = (value,)
    return keys


def denial_message(caller: Caller, action: str, resource: str, decision: Decision) -> str:
    kind = decision.denied_by or PolicyType.IDENTITY
    head = f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}"
    if decision.effect is Effect.EXPLICIT_DENY:
        article = "an" if kind.value[0] in "aeiou" else "a"
        return f"{head} with an explicit deny in {article} {kind.value}"
    return f"{head} because no {kind.value} allows the {action} action"


class PolicyAuthorizer:
    """The `Authorizer` of the API layer, over the policy directory and the engine."""

    def __init__(self, directory: PolicyDirectory) -> None:
        self._directory = directory

    def decide(self, facts: CallFacts, action: str, target: AuthorizationTarget, condition_keys: Mapping[str, Any],
               resource_policies: Sequence[NamedPolicy] = ()) -> Decision:
        caller = facts.caller
        loaded = self._directory.policies_for(caller)
        # Tags may be loaded lazily by the caller; read them only when some policy can look at them.
        with_tags = loaded.mention_resource_tags or bool(target.policy) or bool(resource_policies)
        context = {**global_keys(facts), **request_keys(condition_keys, target, with_tags)}
        request = AuthzRequest(action, target.arn, caller.arn, caller.account_id, context, role_arn=caller.role_arn)
        resources = list(resource_policies)
        if target.policy:
            resources.append((target.arn, parse_policy(target.policy, PolicyKind.RESOURCE)))
        # The root is bound by a required resource policy too: a KMS key policy can lock the account out.
        policy_set = PolicySet(identity=loaded.identity, resource=resources, boundary=loaded.boundary,
                               session=loaded.session, scp_levels=loaded.scp_levels,
                               is_root=caller.is_root and not target.policy_required,
                               resource_required=target.policy_required)
        return evaluate(request, policy_set)

    def authorize(self, facts: CallFacts, action: str, targets: Sequence[AuthorizationTarget],
                  condition_keys: Mapping[str, Any], resource_policies: Sequence[NamedPolicy] = ()) -> None:
        for target in targets:
            decision = self.decide(facts, action, target, condition_keys, resource_policies)
            if not decision.allowed:
                raise AccessDenied(denial_message(facts.caller, action, target.arn, decision))

    def authorize_pass_role(self, facts: CallFacts, role_arn: str, service: str,
                            role_tags: Mapping[str, str] | None = None,
                            associated_resource_arn: str | None = None) -> None:
        """iam:PassRole, which services that accept a role ARN (SSM's ServiceRoleArn…) check for the caller.

        `service` is the service principal the role goes to ("ssm.amazonaws.com"): iam:PassedToService.
        """
        keys: dict[str, Any] = {"iam:PassedToService": service}
        if associated_resource_arn:
            keys["iam:AssociatedResourceArn"] = associated_resource_arn
        self.authorize(facts, "iam:PassRole", [AuthorizationTarget(role_arn, role_tags or {})], keys)
