"""IAM roles: trust policy, description, maximum session duration, boundary and tags."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import account_resource, entity_out, entity_resource, iam_op, page_out, tag_map
from openssm.api.operations import Params
from openssm.iam import entities, roles
from openssm.iam.entities import EntityKind

ROLE = EntityKind.ROLE


def create_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    spec = roles.NewRole(
        name=p["RoleName"], trust_policy=p["AssumeRolePolicyDocument"], path=p.get("Path") or "/",
        description=p.get("Description"),
        max_session_duration=p.get("MaxSessionDuration") or roles.DEFAULT_SESSION_SECONDS,
        boundary_arn=p.get("PermissionsBoundary"), tags=tag_map(p.get("Tags")))
    with ctx.container.iam.write() as conn:
        return {"Role": entity_out(conn, roles.create_role(conn, ctx.account_id, spec, ctx.now))}


def get_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"Role": entity_out(conn, entities.get(conn, ctx.account_id, ROLE, p["RoleName"]))}


def update_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        roles.update_role(conn, ctx.account_id, p["RoleName"], p.get("Description"), p.get("MaxSessionDuration"))
    return {}


def update_assume_role_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        roles.update_trust_policy(conn, ctx.account_id, p["RoleName"], p["PolicyDocument"])
    return {}


def delete_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        roles.delete_role(conn, ctx.account_id, p["RoleName"])
    return {}


def list_roles(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = entities.list_entities(conn, ctx.account_id, ROLE, p.get("PathPrefix") or "/")
        return page_out("Roles", [entity_out(conn, r, with_tags=False) for r in found], p)


ROLE_RESOURCE = entity_resource(ROLE, "RoleName")

OPERATIONS = [
    iam_op("CreateRole", create_role, ROLE_RESOURCE, tagged=True),
    iam_op("GetRole", get_role, ROLE_RESOURCE),
    iam_op("UpdateRole", update_role, ROLE_RESOURCE),
    iam_op("UpdateAssumeRolePolicy", update_assume_role_policy, ROLE_RESOURCE),
    iam_op("DeleteRole", delete_role, ROLE_RESOURCE),
    iam_op("ListRoles", list_roles, account_resource(ROLE)),
]
