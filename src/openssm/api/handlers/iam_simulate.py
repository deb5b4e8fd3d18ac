"""SimulateCustomPolicy and SimulatePrincipalPolicy, answered by the policy engine."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import iam_op
from openssm.api.operations import Params, ResourceRef
from openssm.iam.policy import Decision, PolicyKind, PolicyType
from openssm.iam.policy.positions import statement_spans
from openssm.iam.simulate import SimulationInput, named_inputs, principal_policies, simulate

_SOURCE_TYPES = {PolicyType.IDENTITY: "IAM Policy", PolicyType.RESOURCE: "Resource Policy",
                 PolicyType.BOUNDARY: "PermissionsBoundaryPolicy", PolicyType.SESSION: "Session Policy",
                 PolicyType.SCP: "Organizations Policy"}


def _context(p: Params) -> dict[str, tuple[str, ...]]:
    return {e["ContextKeyName"]: tuple(e.get("ContextKeyValues") or ()) for e in p.get("ContextEntries") or []}


def _result(action: str, resource: str, decision: Decision, texts: dict[str, str]) -> dict[str, Any]:
    matched = []
    for m in decision.matched:
        item: dict[str, Any] = {"SourcePolicyId": m.policy_id, "SourcePolicyType": _SOURCE_TYPES[m.policy_type]}
        spans = statement_spans(texts.get(m.policy_id, ""))
        if m.statement_index < len(spans):
            start, end = spans[m.statement_index]
            item["StartPosition"] = {"Line": start.line, "Column": start.column}
            item["EndPosition"] = {"Line": end.line, "Column": end.column}
        matched.append(item)
    return {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision.effect.value,
            "MatchedStatements": matched, "MissingContextValues": list(decision.missing_context_keys),
            "EvalDecisionDetails": {}}


def _run(ctx: RequestContext, p: Params, identity: list[Any], boundary: Any) -> dict[str, Any]:
    boundaries = named_inputs(p.get("PermissionsBoundaryPolicyInputList") or [], "PermissionsBoundaryPolicyInputList.")
    resource_policy = None
    if p.get("ResourcePolicy"):
        resource_policy = named_inputs([p["ResourcePolicy"]], "ResourcePolicy", PolicyKind.RESOURCE)[0]
    caller = p.get("CallerArn") or p.get("PolicySourceArn") or ctx.caller.arn
    inp = SimulationInput(p["ActionNames"], p.get("ResourceArns") or ["*"], _context(p), identity,
                          boundaries[0] if boundaries else boundary, resource_policy, caller, ctx.account_id)
    texts = {pid: doc.text for pid, doc in [*identity, *boundaries, *([resource_policy] if resource_policy else [])]}
    if boundary is not None:
        texts[boundary[0]] = boundary[1].text
    results = [_result(r.action, r.resource, r.decision, texts) for r in simulate(inp)]
    return {"EvaluationResults": results, "IsTruncated": False}


def simulate_custom_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    return _run(ctx, p, named_inputs(p["PolicyInputList"], "PolicyInputList."), None)


def simulate_principal_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        identity, boundary = principal_policies(conn, p["PolicySourceArn"])
    extra = named_inputs(p.get("PolicyInputList") or [], "PolicyInputList.")
    return _run(ctx, p, identity + extra, boundary)


OPERATIONS = [
    iam_op("SimulateCustomPolicy", simulate_custom_policy, lambda ctx, p: ()),
    iam_op("SimulatePrincipalPolicy", simulate_principal_policy,
           lambda ctx, p: (ResourceRef(p["PolicySourceArn"]),)),
]
