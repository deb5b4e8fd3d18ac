"""IAM groups, roles and instance profiles."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import entity_out, entity_resource, iam_op, page_out, tag_map
from openssm.api.operations import Params, ResourceRef
from openssm.iam import bindings, entities, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.errors import DeleteConflict, LimitExceeded, NoSuchEntity
from openssm.iam.memberships import GROUP_MEMBERS, PROFILE_ROLES
from openssm.iam.policy import PolicyKind, parse_policy

GROUP, ROLE, PROFILE = EntityKind.GROUP, EntityKind.ROLE, EntityKind.INSTANCE_PROFILE
DEFAULT_SESSION_SECONDS = 3600


def _listing(kind: EntityKind, member: str) -> Any:
    def handler(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.read() as conn:
            found = entities.list_entities(conn, ctx.account_id, kind, p.get("PathPrefix") or "/")
            items = [_profile_out(conn, e) if kind is PROFILE else entity_out(conn, e, with_tags=False) for e in found]
        return page_out(member, items, p)
    return handler


def _account_resource(kind: EntityKind) -> Any:
    return lambda ctx, p: (ResourceRef(f"arn:aws:iam::{ctx.account_id}:{kind.value}/"),)


def create_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        group = entities.create(conn, ctx.account_id, GROUP, p["GroupName"], p.get("Path") or "/", ctx.now)
        return {"Group": entity_out(conn, group)}


def get_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        group = entities.get(conn, ctx.account_id, GROUP, p["GroupName"])
        members = GROUP_MEMBERS.children(conn, group.account_id, group.name)
        users = [entities.get(conn, ctx.account_id, EntityKind.USER, u) for u in members]
        out = page_out("Users", [entity_out(conn, u, with_tags=False) for u in users], p)
        return {"Group": entity_out(conn, group), **out}


def delete_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        group = entities.get(conn, ctx.account_id, GROUP, p["GroupName"])
        if GROUP_MEMBERS.children(conn, group.account_id, group.name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if bindings.has_any(conn, group):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        entities.remove(conn, group)
    return {}


def _check_trust(document: str) -> None:
    parse_policy(document, PolicyKind.TRUST)


def create_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _check_trust(p["AssumeRolePolicyDocument"])
    with ctx.container.iam.write() as conn:
        role = entities.create(
            conn, ctx.account_id, ROLE, p["RoleName"], p.get("Path") or "/", ctx.now,
            trust_policy=p["AssumeRolePolicyDocument"], description=p.get("Description"),
            max_session_duration=p.get("MaxSessionDuration") or DEFAULT_SESSION_SECONDS,
            boundary_arn=p.get("PermissionsBoundary"))
        if p.get("Tags"):
            tags.tag(conn, ctx.account_id, ROLE.value, role.name, tag_map(p["Tags"]))
        return {"Role": entity_out(conn, role)}


def get_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"Role": entity_out(conn, entities.get(conn, ctx.account_id, ROLE, p["RoleName"]))}


def update_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        role = entities.get(conn, ctx.account_id, ROLE, p["RoleName"])
        changes = {k: v for k, v in (("description", p.get("Description")),
                                     ("max_session_duration", p.get("MaxSessionDuration"))) if v is not None}
        if changes:
            entities.modify(conn, role, **changes)
    return {}


def update_assume_role_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _check_trust(p["PolicyDocument"])
    with ctx.container.iam.write() as conn:
        entities.modify(conn, entities.get(conn, ctx.account_id, ROLE, p["RoleName"]), trust_policy=p["PolicyDocument"])
    return {}


def delete_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        role = entities.get(conn, ctx.account_id, ROLE, p["RoleName"])
        if bindings.has_any(conn, role):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if PROFILE_ROLES.parents(conn, ctx.account_id, role.name):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        tags.drop(conn, ctx.account_id, ROLE.value, role.name)
        entities.remove(conn, role)
    return {}


def _profile_roles(conn: Any, profile: Entity) -> list[Entity]:
    return [entities.get(conn, profile.account_id, ROLE, r)
            for r in PROFILE_ROLES.children(conn, profile.account_id, profile.name)]


def _profile_out(conn: Any, profile: Entity) -> dict[str, Any]:
    return {**entity_out(conn, profile), "Roles": [entity_out(conn, r, with_tags=False)
                                                   for r in _profile_roles(conn, profile)]}


def create_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        profile = entities.create(conn, ctx.account_id, PROFILE, p["InstanceProfileName"], p.get("Path") or "/",
                                  ctx.now)
        if p.get("Tags"):
            tags.tag(conn, ctx.account_id, PROFILE.value, profile.name, tag_map(p["Tags"]))
        return {"InstanceProfile": _profile_out(conn, profile)}


def get_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"InstanceProfile": _profile_out(conn, entities.get(conn, ctx.account_id, PROFILE,
                                                                   p["InstanceProfileName"]))}


def delete_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        profile = entities.get(conn, ctx.account_id, PROFILE, p["InstanceProfileName"])
        if _profile_roles(conn, profile):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        entities.remove(conn, profile)
    return {}


def add_role_to_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        profile = entities.get(conn, ctx.account_id, PROFILE, p["InstanceProfileName"])
        role = entities.get(conn, ctx.account_id, ROLE, p["RoleName"])
        if _profile_roles(conn, profile):
            raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        PROFILE_ROLES.link(conn, ctx.account_id, profile.name, role.name)
    return {}


def remove_role_from_instance_profile(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        profile = entities.get(conn, ctx.account_id, PROFILE, p["InstanceProfileName"])
        role = entities.get(conn, ctx.account_id, ROLE, p["RoleName"])
        if not PROFILE_ROLES.unlink(conn, ctx.account_id, profile.name, role.name):
            raise NoSuchEntity(f"The role with name {role.name} cannot be found in instance profile {profile.name}.")
    return {}


def list_instance_profiles_for_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        role = entities.get(conn, ctx.account_id, ROLE, p["RoleName"])
        names = PROFILE_ROLES.parents(conn, ctx.account_id, role.name)
        found = [entities.get(conn, ctx.account_id, PROFILE, n) for n in names]
        return page_out("InstanceProfiles", [_profile_out(conn, f) for f in found], p)


GROUP_RESOURCE = entity_resource(GROUP, "GroupName")
ROLE_RESOURCE = entity_resource(ROLE, "RoleName")
PROFILE_RESOURCE = entity_resource(PROFILE, "InstanceProfileName")

OPERATIONS = [
    iam_op("CreateGroup", create_group, GROUP_RESOURCE),
    iam_op("GetGroup", get_group, GROUP_RESOURCE),
    iam_op("DeleteGroup", delete_group, GROUP_RESOURCE),
    iam_op("ListGroups", _listing(GROUP, "Groups"), _account_resource(GROUP)),
    iam_op("CreateRole", create_role, ROLE_RESOURCE, tagged=True),
    iam_op("GetRole", get_role, ROLE_RESOURCE),
    iam_op("UpdateRole", update_role, ROLE_RESOURCE),
    iam_op("UpdateAssumeRolePolicy", update_assume_role_policy, ROLE_RESOURCE),
    iam_op("DeleteRole", delete_role, ROLE_RESOURCE),
    iam_op("ListRoles", _listing(ROLE, "Roles"), _account_resource(ROLE)),
    iam_op("CreateInstanceProfile", create_instance_profile, PROFILE_RESOURCE, tagged=True),
    iam_op("GetInstanceProfile", get_instance_profile, PROFILE_RESOURCE),
    iam_op("DeleteInstanceProfile", delete_instance_profile, PROFILE_RESOURCE),
    iam_op("ListInstanceProfiles", _listing(PROFILE, "InstanceProfiles"), _account_resource(PROFILE)),
    iam_op("AddRoleToInstanceProfile", add_role_to_instance_profile, PROFILE_RESOURCE),
    iam_op("RemoveRoleFromInstanceProfile", remove_role_from_instance_profile, PROFILE_RESOURCE),
    iam_op("ListInstanceProfilesForRole", list_instance_profiles_for_role, ROLE_RESOURCE),
]
