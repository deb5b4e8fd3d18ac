"""IAM's policy simulator: the engine's decision for each action and resource, with the statements that
decided it and the context keys the policies asked for but the request did not give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from openssm.iam import entities
from openssm.iam.directory import entity_policies, load_policies, no_scps
from openssm.iam.entities import EntityKind
from openssm.iam.errors import InvalidInput
from openssm.iam.policy import AuthzRequest, Decision, NamedPolicy, PolicyKind, PolicySet, evaluate, parse_policy
from openssm.iam.principals import Caller, PrincipalType
from openssm.types import AccountId, Arn


@dataclass(frozen=True)
class SimulationInput:
    actions: Sequence[str]
    resources: Sequence[str]
    context: Mapping[str, tuple[str, ...]]
    identity: Sequence[NamedPolicy]
    boundary: NamedPolicy | None = None
    resource_policy: NamedPolicy | None = None
    caller_arn: str = "arn:aws:iam::123456789012:user/simulated"
    caller_account: str = "123456789012"


@dataclass(frozen=True)
class SimulationResult:
    action: str
    resource: str
    decision: Decision


def named_inputs(texts: Sequence[str], prefix: str, kind: PolicyKind = PolicyKind.IDENTITY) -> list[NamedPolicy]:
    return [(f"{prefix}{i + 1}", parse_policy(t, kind)) for i, t in enumerate(texts)]


def simulate(inp: SimulationInput) -> list[SimulationResult]:
    results = []
    for action in inp.actions:
        for resource in inp.resources or ["*"]:
            request = AuthzRequest(action, resource, inp.caller_arn, inp.caller_account,
                                   {k.lower(): v for k, v in inp.context.items()})
            policies = PolicySet(identity=inp.identity, boundary=inp.boundary,
                                 resource=[inp.resource_policy] if inp.resource_policy else ())
            results.append(SimulationResult(action, resource, evaluate(request, policies)))
    return results


def principal_policies(conn: Connection, arn: str) -> tuple[list[NamedPolicy], NamedPolicy | None]:
    """The identity policies and boundary of a user (with its groups), group or role, by ARN."""
    entity = entities.find_by_arn(conn, arn)
    if entity is None:
        raise InvalidInput(f"Invalid Entity Arn: {arn} does not clearly define entity type and name.")
    if entity.kind is EntityKind.GROUP:
        return entity_policies(conn, entity), None
    if entity.kind is EntityKind.USER:
        caller = Caller(AccountId(entity.account_id), Arn(entity.arn), PrincipalType.USER, entity.entity_id,
                        entity.name)
    else:
        caller = Caller(AccountId(entity.account_id), Arn(entity.arn), PrincipalType.ASSUMED_ROLE, entity.entity_id,
                        entity.name, role_arn=Arn(entity.arn))
    loaded = load_policies(conn, caller, no_scps)
    return list(loaded.identity), loaded.boundary


__all__ = ["SimulationInput", "SimulationResult", "named_inputs", "principal_policies", "simulate"]
