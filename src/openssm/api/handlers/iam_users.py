"""IAM users and their group memberships."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import (
    account_resource,
    caller_user,
    entity_out,
    entity_resource,
    iam_op,
    page_out,
    renamed_resources,
    tag_map,
)
from openssm.api.operations import Params
from openssm.iam import entities, users
from openssm.iam.entities import EntityKind

USER = EntityKind.USER
GROUP = EntityKind.GROUP


def create_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = users.create_user(conn, ctx.account_id, p["UserName"], p.get("Path") or "/", ctx.now,
                                 boundary_arn=p.get("PermissionsBoundary"), user_tags=tag_map(p.get("Tags")))
        return {"User": entity_out(conn, user)}


def get_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"User": entity_out(conn, entities.get(conn, ctx.account_id, USER, caller_user(ctx, p)))}


def update_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        users.update_user(conn, ctx.account_id, p["UserName"], p.get("NewUserName"), p.get("NewPath"))
    return {}


def delete_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        users.delete_user(conn, ctx.account_id, p["UserName"])
    return {}


def list_users(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = entities.list_entities(conn, ctx.account_id, USER, p.get("PathPrefix") or "/")
        return page_out("Users", [entity_out(conn, u, with_tags=False) for u in found], p)


def add_user_to_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        users.add_to_group(conn, ctx.account_id, p["GroupName"], p["UserName"])
    return {}


def remove_user_from_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        users.remove_from_group(conn, ctx.account_id, p["GroupName"], p["UserName"])
    return {}


def list_groups_for_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        return page_out("Groups", [entity_out(conn, g) for g in users.groups_of(conn, user)], p)


USER_RESOURCE = entity_resource(USER, "UserName")


def _caller_resource(ctx: RequestContext, p: Params) -> Any:
    return USER_RESOURCE(ctx, {**p, "UserName": caller_user(ctx, p)})


OPERATIONS = [
    iam_op("CreateUser", create_user, USER_RESOURCE, tagged=True),
    iam_op("GetUser", get_user, _caller_resource),
    iam_op("UpdateUser", update_user, renamed_resources(USER, "UserName", "NewUserName")),
    iam_op("DeleteUser", delete_user, USER_RESOURCE),
    iam_op("ListUsers", list_users, account_resource(USER)),
    iam_op("AddUserToGroup", add_user_to_group, entity_resource(GROUP, "GroupName")),
    iam_op("RemoveUserFromGroup", remove_user_from_group, entity_resource(GROUP, "GroupName")),
    iam_op("ListGroupsForUser", list_groups_for_user, USER_RESOURCE),
]
