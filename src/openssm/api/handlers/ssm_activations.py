"""Hybrid activations over JSON 1.1: CreateActivation, DescribeActivations, DeleteActivation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import (
    check_ssm_service_role,
    page_start,
    page_token,
    request_tags_condition,
    tag_map,
    without_nones,
)
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.services import activations
from openssm.services.activations import Activation, NewActivation

TAG_KIND = "Activation"
PAGE = 50


def _arn(ctx: RequestContext, activation_id: str = "*") -> str:
    return f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:activation/{activation_id}"


def _new(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [ResourceRef(_arn(ctx))]


def _existing(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [ResourceRef(_arn(ctx, p["ActivationId"]))]


def create_activation(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        check_ssm_service_role(ctx, conn, p["IamRole"])
        spec = NewActivation(p["IamRole"], p.get("RegistrationLimit"), p.get("ExpirationDate"),
                             p.get("DefaultInstanceName"), p.get("Description"))
        activation, code = activations.create(conn, ctx.account_id, ctx.region, spec, ctx.now)
        tags = tag_map(p.get("Tags"))
        if tags:
            ctx.container.parameters.tags.add(conn, ctx.account_id, ctx.region, TAG_KIND, activation.activation_id,
                                              tags)
    return {"ActivationId": activation.activation_id, "ActivationCode": code}


def _out(ctx: RequestContext, a: Activation, tags: dict[str, str]) -> dict[str, Any]:
    return without_nones({
        "ActivationId": a.activation_id, "Description": a.description, "DefaultInstanceName": a.default_instance_name,
        "IamRole": a.iam_role, "RegistrationLimit": a.registration_limit, "RegistrationsCount": a.registrations_count,
        "ExpirationDate": a.expires_at, "Expired": a.expired(ctx.now), "CreatedDate": a.created_at,
        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def describe_activations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters: dict[str, list[str]] = {}
    for f in p.get("Filters") or ():
        filters.setdefault(f["FilterKey"], []).extend(f.get("FilterValues") or ())
    start = page_start(p.get("NextToken"))
    size = p.get("MaxResults") or PAGE
    with ctx.container.db.read() as conn:
        found = activations.describe(conn, ctx.account_id, ctx.region, filters)
        page = found[start:start + size]
        out = [_out(ctx, a, ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, TAG_KIND,
                                                            a.activation_id)) for a in page]
    more = start + size < len(found)
    return without_nones({"ActivationList": out, "NextToken": page_token(start + size) if more else None})


def delete_activation(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        activations.delete(conn, ctx.account_id, ctx.region, p["ActivationId"])
        ctx.container.parameters.tags.drop(conn, ctx.account_id, ctx.region, TAG_KIND, p["ActivationId"])
    return {}


OPERATIONS = [
    Operation("ssm", "CreateActivation", create_activation, resources=_new,
              condition_keys=request_tags_condition,
              secret_params=frozenset({"ActivationCode"})),
    Operation("ssm", "DescribeActivations", describe_activations, read_only=True),
    Operation("ssm", "DeleteActivation", delete_activation, resources=_existing),
]
