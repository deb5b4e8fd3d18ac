"""Instance profiles and the role each one carries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import account_resource, entity_out, entity_resource, iam_op, page_out, tag_map
from openssm.api.operations import Params
from openssm.iam import entities, instance_profiles
from openssm.iam.entities import Entity, EntityKind

PROFILE = EntityKind.INSTANCE_PROFILE


def profile_out(conn: Connection, profile: Entity) -> dict[str, Any]:
    roles = [entity_out(conn, r, with_tags=False) for r in instance_profiles.roles_of(conn, profile)]
    return {**entity_out(conn, profile), "Roles": roles}


def create_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        profile = instance_profiles.create_profile(conn, ctx.account_id, p["InstanceProfileName"],
                                                   p.get("Path") or "/", ctx.now, tag_map(p.get("Tags")))
        return {"InstanceProfile": profile_out(conn, profile)}


def get_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        profile = entities.get(conn, ctx.account_id, PROFILE, p["InstanceProfileName"])
        return {"InstanceProfile": profile_out(conn, profile)}


def delete_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        instance_profiles.delete_profile(conn, ctx.account_id, p["InstanceProfileName"])
    return {}


def list_instance_profiles(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = entities.list_entities(conn, ctx.account_id, PROFILE, p.get("PathPrefix") or "/")
        return page_out("InstanceProfiles", [profile_out(conn, f) for f in found], p)


def add_role_to_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        instance_profiles.add_role(conn, ctx.account_id, p["InstanceProfileName"], p["RoleName"])
    return {}


def remove_role_from_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        instance_profiles.remove_role(conn, ctx.account_id, p["InstanceProfileName"], p["RoleName"])
    return {}


def list_instance_profiles_for_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = instance_profiles.profiles_for_role(conn, ctx.account_id, p["RoleName"])
        return page_out("InstanceProfiles", [profile_out(conn, f) for f in found], p)


PROFILE_RESOURCE = entity_resource(PROFILE, "InstanceProfileName")

OPERATIONS = [
    iam_op("CreateInstanceProfile", create_instance_profile, PROFILE_RESOURCE, tagged=True),
    iam_op("GetInstanceProfile", get_instance_profile, PROFILE_RESOURCE),
    iam_op("DeleteInstanceProfile", delete_instance_profile, PROFILE_RESOURCE),
    iam_op("ListInstanceProfiles", list_instance_profiles, account_resource(PROFILE)),
    iam_op("AddRoleToInstanceProfile", add_role_to_instance_profile, PROFILE_RESOURCE),
    iam_op("RemoveRoleFromInstanceProfile", remove_role_from_instance_profile, PROFILE_RESOURCE),
    iam_op("ListInstanceProfilesForRole", list_instance_profiles_for_role, entity_resource(EntityKind.ROLE,
                                                                                          "RoleName")),
]
