"""Parameter Store over JSON 1.1 (AmazonSSM.*Parameter*): putting, reading, finding and deleting parameters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import (
    key_access,
    named_parameters,
    request_tag_keys,
    scope,
    tag_map,
    without_nones,
)
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.services.parameter_model import Parameter, ParameterType, ParameterVersion, Tier
from openssm.services.parameter_names import parameter_arn
from openssm.services.parameter_policies import parse_policies
from openssm.services.parameter_queries import Filter, legacy_filters
from openssm.services.parameters import PutRequest


def _parameter_out(p: Parameter) -> dict[str, Any]:
    v = p.version
    return without_nones({"Name": v.name, "Type": v.type.value, "Value": p.value, "Version": v.version,
                          "Selector": p.selector, "LastModifiedDate": v.last_modified, "ARN": p.arn,
                          "DataType": v.data_type.value})


def _policies_out(text: str | None) -> list[dict[str, str]]:
    # Notifications are never sent and an expired parameter is gone, so every policy shown is pending.
    return [{"PolicyText": p.text, "PolicyType": p.type.value, "PolicyStatus": "Pending"}
            for p in parse_policies(text)]


def _metadata_out(v: ParameterVersion, arn: str) -> dict[str, Any]:
    return without_nones({
        "Name": v.name, "ARN": arn, "Type": v.type.value, "KeyId": v.key_id, "LastModifiedDate": v.last_modified,
        "LastModifiedUser": v.last_modified_user, "Description": v.description, "AllowedPattern": v.allowed_pattern,
        "Version": v.version, "Tier": v.tier.value, "Policies": _policies_out(v.policies),
        "DataType": v.data_type.value})


def _history_out(p: Parameter) -> dict[str, Any]:
    out = _metadata_out(p.version, p.arn)
    out.pop("ARN")
    return {**out, "Value": p.value, "Labels": list(p.version.labels)}


def _paged(key: str, items: list[dict[str, Any]], token: str | None) -> dict[str, Any]:
    return without_nones({key: items, "NextToken": token})


def _filters(raw: Sequence[dict[str, Any]] | None) -> list[Filter]:
    return [Filter(f["Key"], f.get("Option"), tuple(f.get("Values") or ())) for f in raw or ()]


def put_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    req = PutRequest(
        name=p["Name"], value=p["Value"], type=ParameterType(p["Type"]) if p.get("Type") else None,
        overwrite=bool(p.get("Overwrite")), description=p.get("Description"), key_id=p.get("KeyId"),
        allowed_pattern=p.get("AllowedPattern"), tags=tag_map(p.get("Tags")),
        tier=Tier(p["Tier"]) if p.get("Tier") else None, policies=p.get("Policies"), data_type=p.get("DataType"))
    with ctx.container.db.begin() as conn:
        version = ctx.container.parameters.put(conn, scope(ctx), req, key_access(ctx, conn))
    return {"Version": version.version, "Tier": version.tier.value}


def get_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = ctx.container.parameters.get(conn, scope(ctx), p["Name"], bool(p.get("WithDecryption")),
                                             key_access(ctx, conn))
    return {"Parameter": _parameter_out(found)}


def get_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found, invalid = ctx.container.parameters.get_many(conn, scope(ctx), p["Names"],
                                                           bool(p.get("WithDecryption")), key_access(ctx, conn))
    return {"Parameters": [_parameter_out(x) for x in found], "InvalidParameters": invalid}


def get_parameters_by_path(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found, token = ctx.container.parameters.by_path(
            conn, scope(ctx), p["Path"], bool(p.get("Recursive")), _filters(p.get("ParameterFilters")),
            bool(p.get("WithDecryption")), key_access(ctx, conn), p.get("NextToken"), p.get("MaxResults") or 10)
    return _paged("Parameters", [_parameter_out(x) for x in found], token)


def get_parameter_history(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found, token = ctx.container.parameters.history(
            conn, scope(ctx), p["Name"], bool(p.get("WithDecryption")), key_access(ctx, conn), p.get("NextToken"),
            p.get("MaxResults") or 50)
    return _paged("Parameters", [_history_out(x) for x in found], token)


def describe_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    new_style = _filters(p.get("ParameterFilters"))
    filters = legacy_filters(_filters(p.get("Filters")), new_style) + new_style
    with ctx.container.db.read() as conn:
        page = ctx.container.parameters.describe(conn, scope(ctx), filters, p.get("NextToken"),
                                                 p.get("MaxResults") or 10)
    items = [_metadata_out(v, parameter_arn(ctx.region, ctx.account_id, v.name)) for v in page.items]
    return _paged("Parameters", items, page.next_token)


def delete_parameter(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.parameters.delete(conn, scope(ctx), p["Name"])
    return {}


def delete_parameters(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        deleted, invalid = ctx.container.parameters.delete_many(conn, scope(ctx), p["Names"])
    return {"DeletedParameters": deleted, "InvalidParameters": invalid}


def _path_resource(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    # AWS authorizes GetParametersByPath on the path itself, and filters nothing by policy.
    return [ResourceRef(parameter_arn(ctx.region, ctx.account_id, p["Path"].rstrip("/")))]


def _put_condition_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    return {"ssm:Overwrite": bool(p.get("Overwrite")), **request_tag_keys(p)}


OPERATIONS = [
    Operation("ssm", "PutParameter", put_parameter, resources=named_parameters("Name"),
              condition_keys=_put_condition_keys, secret_params=frozenset({"Value"})),
    Operation("ssm", "GetParameter", get_parameter, resources=named_parameters("Name"), read_only=True,
              on_event_loop=True),
    Operation("ssm", "GetParameters", get_parameters, resources=named_parameters("Names"), read_only=True),
    Operation("ssm", "GetParametersByPath", get_parameters_by_path, resources=_path_resource, read_only=True,
              condition_keys=lambda ctx, p: {"ssm:Recursive": bool(p.get("Recursive"))}),
    Operation("ssm", "GetParameterHistory", get_parameter_history, resources=named_parameters("Name"),
              read_only=True),
    Operation("ssm", "DescribeParameters", describe_parameters, read_only=True),
    Operation("ssm", "DeleteParameter", delete_parameter, resources=named_parameters("Name")),
    Operation("ssm", "DeleteParameters", delete_parameters, resources=named_parameters("Names")),
]
