"""Parameter Store over JSON 1.1 (AmazonSSM.*Parameter*)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.services.kms import Key
from openssm.services.parameter_model import (
    ParameterNotFound,
    ParameterType,
    ParameterVersion,
    ParameterVersionNotFound,
    Tier,
    parameter_arn,
    split_selector,
    strip_arn,
)
from openssm.services.parameter_queries import BY_PATH_KEYS, Filter, apply, paginate, under_path, validate_filters
from openssm.services.parameters import KmsCheck, PutRequest, Resolved, Scope
from openssm.store.lazy import LazyMapping


def scope(ctx: RequestContext) -> Scope:
    return Scope(ctx.account_id, ctx.region, ctx.caller.arn, ctx.now)


def kms_check(ctx: RequestContext) -> KmsCheck:
    """Customer managed keys need the caller's own kms permission; AWS's aws/ssm key grants it via SSM."""
    def check(action: str, key: Key) -> None:
        if key.key_manager == "AWS":
            return
        facts = CallFacts(ctx.caller, ctx.region, ctx.source_ip, ctx.secure_transport, ctx.now, ctx.user_agent)
        ctx.container.authorizer.authorize(facts, action, [AuthorizationTarget(key.arn, {}, key.policy, True)],
                                           {"kms:ViaService": f"ssm.{ctx.region}.amazonaws.com"})
    return check


def _arn_of(ctx: RequestContext, raw: str) -> ResourceRef:
    name = split_selector(raw)[0]

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "Parameter", name)

    return ResourceRef(parameter_arn(ctx.region, ctx.account_id, name), LazyMapping(load_tags))


def _named(member: str) -> Any:
    def resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
        value = p.get(member) or []
        return [_arn_of(ctx, n) for n in (value if isinstance(value, list) else [value])]
    return resources


def _out(r: Resolved) -> dict[str, Any]:
    v = r.version
    out: dict[str, Any] = {"Name": v.name, "Type": v.type.value, "Value": r.value, "Version": v.version,
                           "LastModifiedDate": v.last_modified, "ARN": r.arn, "DataType": v.data_type}
    if r.selector:
        out["Selector"] = r.selector
    return out


def put_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    req = PutRequest(
        name=p["Name"], value=p["Value"], type=ParameterType(p["Type"]) if p.get("Type") else None,
        overwrite=bool(p.get("Overwrite")), description=p.get("Description"), key_id=p.get("KeyId"),
        allowed_pattern=p.get("AllowedPattern"), tags={t["Key"]: t["Value"] for t in p.get("Tags") or []},
        tier=Tier(p["Tier"]) if p.get("Tier") else None, policies=p.get("Policies"), data_type=p.get("DataType"))
    with ctx.container.db.begin() as conn:
        version = ctx.container.parameters.put(conn, scope(ctx), req, kms_check(ctx))
    return {"Version": version.version, "Tier": version.tier.value}


def get_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        resolved = ctx.container.parameters.resolve(conn, scope(ctx), p["Name"], bool(p.get("WithDecryption")),
                                                    kms_check(ctx))
    return {"Parameter": _out(resolved)}


def get_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    found, invalid = [], []
    with ctx.container.db.read() as conn:
        for name in dict.fromkeys(p["Names"]):
            try:
                found.append(_out(ctx.container.parameters.resolve(conn, scope(ctx), name,
                                                                   bool(p.get("WithDecryption")), kms_check(ctx))))
            except (ParameterNotFound, ParameterVersionNotFound):
                invalid.append(name)
    return {"Parameters": found, "InvalidParameters": invalid}


def _filters(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    return [Filter(f["Key"], f.get("Option"), tuple(f.get("Values") or ())) for f in raw or []]


def get_parameters_by_path(ctx: RequestContext, p: Params) -> dict[str, Any]:
    path = p["Path"]
    filters = _filters(p.get("ParameterFilters"))
    validate_filters(filters, BY_PATH_KEYS)
    service, sc = ctx.container.parameters, scope(ctx)
    with ctx.container.db.read() as conn:
        latest = [v for v in (service.latest(conn, sc, n) for n in service.names(conn, sc)
                              if under_path(n, path, bool(p.get("Recursive")))) if v is not None]
        matched = apply(filters, [(v, {}) for v in latest])
        page, token = paginate(matched, p.get("NextToken"), p.get("MaxResults") or 10)
        items = [_out(Resolved(v, service.reveal(conn, sc, v, bool(p.get("WithDecryption")), kms_check(ctx)), None,
                               parameter_arn(ctx.region, ctx.account_id, v.name)))
                 for v in page if isinstance(v, ParameterVersion)]
    out: dict[str, Any] = {"Parameters": items}
    if token:
        out["NextToken"] = token
    return out


def _metadata(ctx: RequestContext, v: ParameterVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Name": v.name, "ARN": parameter_arn(ctx.region, ctx.account_id, v.name), "Type": v.type.value,
        "KeyId": v.key_id, "LastModifiedDate": v.last_modified, "LastModifiedUser": v.last_modified_user,
        "Description": v.description, "AllowedPattern": v.allowed_pattern, "Version": v.version,
        "Tier": v.tier.value, "DataType": v.data_type}
    out["Policies"] = _policies_out(v.policies)
    return out


def _policies_out(text: str | None) -> list[dict[str, str]]:
    return [{"PolicyText": json.dumps(pol), "PolicyType": str(pol.get("Type")), "PolicyStatus": "Pending"}
            for pol in (json.loads(text) if text else [])]


def describe_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = _filters(p.get("ParameterFilters"))
    filters += [Filter(f["Key"], "BeginsWith" if f["Key"] == "Name" else None, tuple(f["Values"]))
                for f in p.get("Filters") or []]
    validate_filters(filters)
    service, sc = ctx.container.parameters, scope(ctx)
    with ctx.container.db.read() as conn:
        latest = [v for v in (service.latest(conn, sc, n) for n in service.names(conn, sc)) if v is not None]
        with_tags = [(v, service.tags.of(conn, ctx.account_id, ctx.region, "Parameter", v.name)
                      if any(f.key.startswith("tag:") for f in filters) else {}) for v in latest]
    matched = apply(filters, with_tags)
    page, token = paginate(matched, p.get("NextToken"), p.get("MaxResults") or 50)
    out: dict[str, Any] = {"Parameters": [_metadata(ctx, v) for v in page if isinstance(v, ParameterVersion)]}
    if token:
        out["NextToken"] = token
    return out


def get_parameter_history(ctx: RequestContext, p: Params) -> dict[str, Any]:
    service, sc = ctx.container.parameters, scope(ctx)
    name = strip_arn(p["Name"])
    with ctx.container.db.read() as conn:
        versions = service.history(conn, sc, name)
        if not versions:
            raise ParameterNotFound(f"Parameter {name} not found.")
        page, token = paginate(versions, p.get("NextToken"), p.get("MaxResults") or 50)
        items = []
        for v in page:
            assert isinstance(v, ParameterVersion)
            value = service.reveal(conn, sc, v, bool(p.get("WithDecryption")), kms_check(ctx))
            items.append({**_metadata(ctx, v), "Value": value, "Labels": list(v.labels)})
    out: dict[str, Any] = {"Parameters": items}
    if token:
        out["NextToken"] = token
    return out


def delete_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.parameters.delete(conn, scope(ctx), p["Name"])
    return {}


def delete_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    deleted, invalid = [], []
    with ctx.container.db.begin() as conn:
        for name in dict.fromkeys(p["Names"]):
            try:
                ctx.container.parameters.delete(conn, scope(ctx), name)
                deleted.append(name)
            except ParameterNotFound:
                invalid.append(name)
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}


def _request_tags(p: Params) -> dict[str, Any]:
    tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        keys["aws:TagKeys"] = list(tags)
    return keys


OPERATIONS = [
    Operation("ssm", "PutParameter", put_parameter, resources=_named("Name"), secret_params=frozenset({"Value"}),
              condition_keys=lambda ctx, p: {"ssm:Overwrite": bool(p.get("Overwrite")), **_request_tags(p)}),
    Operation("ssm", "GetParameter", get_parameter, resources=_named("Name"), read_only=True),
    Operation("ssm", "GetParameters", get_parameters, resources=_named("Names"), read_only=True),
    Operation("ssm", "GetParametersByPath", get_parameters_by_path, read_only=True,
              resources=lambda ctx, p: [ResourceRef(parameter_arn(ctx.region, ctx.account_id, p["Path"].rstrip("/")))],
              condition_keys=lambda ctx, p: {"ssm:Recursive": bool(p.get("Recursive"))}),
    Operation("ssm", "GetParameterHistory", get_parameter_history, resources=_named("Name"), read_only=True),
    Operation("ssm", "DescribeParameters", describe_parameters, read_only=True),
    Operation("ssm", "DeleteParameter", delete_parameter, resources=_named("Name")),
    Operation("ssm", "DeleteParameters", delete_parameters, resources=_named("Names")),
]
