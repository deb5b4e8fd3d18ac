"""Tags on SSM resources over JSON 1.1: AddTagsToResource, RemoveTagsFromResource, ListTagsForResource,
whatever the ResourceType (each type's service is registered in `Container.ssm_tags`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import request_tags_condition, scope, tag_map
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AwsError
from openssm.store.lazy import LazyMapping


def _resource(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    tagging = ctx.container.ssm_tags
    try:
        arn = tagging.arn(scope(ctx), p["ResourceType"], p["ResourceId"])
    except AwsError:
        # An unsupported type is refused by the handler, after authorization, as AWS does.
        return [ResourceRef("*")]

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            try:
                return tagging.tags(conn, scope(ctx), p["ResourceType"], p["ResourceId"])
            except AwsError:
                return {}

    return [ResourceRef(arn, LazyMapping(load_tags))]


def add_tags_to_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.ssm_tags.add(conn, scope(ctx), p["ResourceType"], p["ResourceId"], tag_map(p["Tags"]))
    return {}


def remove_tags_from_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.ssm_tags.remove(conn, scope(ctx), p["ResourceType"], p["ResourceId"], p["TagKeys"])
    return {}


def list_tags_for_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        tags = ctx.container.ssm_tags.tags(conn, scope(ctx), p["ResourceType"], p["ResourceId"])
    return {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]}


OPERATIONS = [
    Operation("ssm", "AddTagsToResource", add_tags_to_resource, resources=_resource,
              condition_keys=request_tags_condition),
    Operation("ssm", "RemoveTagsFromResource", remove_tags_from_resource, resources=_resource,
              condition_keys=request_tags_condition),
    Operation("ssm", "ListTagsForResource", list_tags_for_resource, resources=_resource, read_only=True),
]
