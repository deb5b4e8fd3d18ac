"""IAM groups."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import (
    account_resource,
    entity_out,
    entity_resource,
    iam_op,
    page_out,
    renamed_resources,
)
from openssm.api.operations import Params
from openssm.iam import entities, groups
from openssm.iam.entities import EntityKind

GROUP = EntityKind.GROUP


def create_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        group = groups.create_group(conn, ctx.account_id, p["GroupName"], p.get("Path") or "/", ctx.now)
        return {"Group": entity_out(conn, group)}


def get_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        group = entities.get(conn, ctx.account_id, GROUP, p["GroupName"])
        members = [entity_out(conn, u, with_tags=False) for u in groups.members(conn, group)]
        return {"Group": entity_out(conn, group), **page_out("Users", members, p)}


def update_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        groups.update_group(conn, ctx.account_id, p["GroupName"], p.get("NewGroupName"), p.get("NewPath"))
    return {}


def delete_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        groups.delete_group(conn, ctx.account_id, p["GroupName"])
    return {}


def list_groups(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = entities.list_entities(conn, ctx.account_id, GROUP, p.get("PathPrefix") or "/")
        return page_out("Groups", [entity_out(conn, g) for g in found], p)


GROUP_RESOURCE = entity_resource(GROUP, "GroupName")

OPERATIONS = [
    iam_op("CreateGroup", create_group, GROUP_RESOURCE),
    iam_op("GetGroup", get_group, GROUP_RESOURCE),
    iam_op("UpdateGroup", update_group, renamed_resources(GROUP, "GroupName", "NewGroupName")),
    iam_op("DeleteGroup", delete_group, GROUP_RESOURCE),
    iam_op("ListGroups", list_groups, account_resource(GROUP)),
]
