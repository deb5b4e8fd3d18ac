"""Parameter labels and SSM resource tags (AddTagsToResource and friends)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_parameters import scope
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.services.parameter_model import (
    InvalidResourceId,
    LabelLimitExceeded,
    ParameterNotFound,
    ParameterVersionNotFound,
    label_is_valid,
    parameter_arn,
    strip_arn,
)

MAX_LABELS = 10


def _version(ctx: RequestContext, conn: Any, name: str, number: int | None) -> tuple[list[Any], Any]:
    versions = ctx.container.parameters.history(conn, scope(ctx), name)
    if not versions:
        raise ParameterNotFound(f"Parameter {name} not found.")
    if number is None:
        return versions, versions[-1]
    for v in versions:
        if v.version == number:
            return versions, v
    raise ParameterVersionNotFound(f"Systems Manager could not find version {number} of {name}. Verify the version "
                                   "and try again.")


def label_parameter_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    name = strip_arn(p["Name"])
    labels = list(dict.fromkeys(p["Labels"]))
    invalid = [label for label in labels if not label_is_valid(label)]
    valid = [label for label in labels if label not in invalid]
    service = ctx.container.parameters
    with ctx.container.db.begin() as conn:
        versions, target = _version(ctx, conn, name, p.get("ParameterVersion"))
        merged = tuple(dict.fromkeys([*target.labels, *valid]))
        if len(merged) > MAX_LABELS:
            raise LabelLimitExceeded("A parameter version can have maximum 10 labels.Move one or more labels to "
                                     "another version and try again.")
        for other in versions:
            if other.version != target.version and set(other.labels) & set(valid):
                service.set_labels(conn, scope(ctx), name, other.version,
                                   tuple(x for x in other.labels if x not in valid))
        service.set_labels(conn, scope(ctx), name, target.version, merged)
    return {"InvalidLabels": invalid, "ParameterVersion": target.version}


def unlabel_parameter_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    name = strip_arn(p["Name"])
    with ctx.container.db.begin() as conn:
        _, target = _version(ctx, conn, name, p["ParameterVersion"])
        removed = [label for label in p["Labels"] if label in target.labels]
        invalid = [label for label in p["Labels"] if label not in target.labels]
        ctx.container.parameters.set_labels(conn, scope(ctx), name, target.version,
                                            tuple(x for x in target.labels if x not in removed))
    return {"RemovedLabels": removed, "InvalidLabels": invalid}


def _resource(ctx: RequestContext, conn: Any, p: Params) -> str:
    if p["ResourceType"] != "Parameter":
        raise ValidationError(f"OpenSSM does not support tags on resource type {p['ResourceType']} yet.")
    name = strip_arn(p["ResourceId"])
    if ctx.container.parameters.latest(conn, scope(ctx), name) is None:
        raise InvalidResourceId("The resource ID is not valid. Verify the ID and try again.")
    return name


def add_tags_to_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        name = _resource(ctx, conn, p)
        ctx.container.parameters.tags.add(conn, ctx.account_id, ctx.region, "Parameter", name,
                                          {t["Key"]: t["Value"] for t in p["Tags"]})
    return {}


def remove_tags_from_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        name = _resource(ctx, conn, p)
        ctx.container.parameters.tags.remove(conn, ctx.account_id, ctx.region, "Parameter", name, p["TagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        name = _resource(ctx, conn, p)
        tags = ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "Parameter", name)
    return {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}


def _param_resource(member: str) -> Any:
    def resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
        name = strip_arn(p[member])
        with ctx.container.db.read() as conn:
            tags = ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "Parameter", name)
        return (ResourceRef(parameter_arn(ctx.region, ctx.account_id, name), tags),)
    return resources


def _tag_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    keys = list(tags) or list(p.get("TagKeys") or [])
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": keys}


OPERATIONS = [
    Operation("ssm", "LabelParameterVersion", label_parameter_version, resources=_param_resource("Name")),
    Operation("ssm", "UnlabelParameterVersion", unlabel_parameter_version, resources=_param_resource("Name")),
    Operation("ssm", "AddTagsToResource", add_tags_to_resource, resources=_param_resource("ResourceId"),
              condition_keys=_tag_keys),
    Operation("ssm", "RemoveTagsFromResource", remove_tags_from_resource, resources=_param_resource("ResourceId"),
              condition_keys=_tag_keys),
    Operation("ssm", "ListTagsForResource", list_tags_for_resource, resources=_param_resource("ResourceId"),
              read_only=True),
]
