"""IAM users, their access keys and group membership."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import entity_out, entity_resource, iam_op, page_out, tag_map
from openssm.api.operations import Params, ResourceRef, any_resource
from openssm.errors import AccessDenied
from openssm.iam import access_keys, bindings, entities, tags
from openssm.iam.entities import EntityKind
from openssm.iam.errors import DeleteConflict, NoSuchEntity
from openssm.iam.memberships import GROUP_MEMBERS
from openssm.iam.principals import PrincipalType
from openssm.services import audit_query

USER = EntityKind.USER
GROUP = EntityKind.GROUP


def _caller_user(ctx: RequestContext, p: Params) -> str:
    """Operations that take an optional UserName act on the calling user when it is left out."""
    if p.get("UserName"):
        return str(p["UserName"])
    return ctx.caller.name if ctx.caller.principal_type is PrincipalType.USER else ""


def create_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.create(conn, ctx.account_id, USER, p["UserName"], p.get("Path") or "/", ctx.now,
                               boundary_arn=p.get("PermissionsBoundary"))
        if p.get("Tags"):
            tags.tag(conn, ctx.account_id, USER.value, user.name, tag_map(p["Tags"]))
        return {"User": entity_out(conn, user)}


def get_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"User": entity_out(conn, entities.get(conn, ctx.account_id, USER, _caller_user(ctx, p)))}


def update_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        changes: dict[str, Any] = {}
        if p.get("NewPath"):
            changes["path"] = p["NewPath"]
        if p.get("NewUserName"):
            changes.update(name=p["NewUserName"], name_lower=p["NewUserName"].lower())
        if changes:
            path, name = changes.get("path", user.path), changes.get("name", user.name)
            changes["arn"] = entities.entity_arn(ctx.account_id, USER, path, name)
            entities.modify(conn, user, **changes)
    return {}


def delete_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        if access_keys.keys_of(conn, user):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if bindings.has_any(conn, user):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if GROUP_MEMBERS.parents(conn, ctx.account_id, user.name):
            raise DeleteConflict("Cannot delete entity, must remove user from all groups first.")
        tags.drop(conn, ctx.account_id, USER.value, user.name)
        entities.remove(conn, user)
    return {}


def list_users(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        users = [entity_out(conn, u, with_tags=False)
                 for u in entities.list_entities(conn, ctx.account_id, USER, p.get("PathPrefix") or "/")]
    return page_out("Users", users, p)


def _key_out(key: access_keys.AccessKey, user_name: str) -> dict[str, Any]:
    return {"UserName": user_name, "AccessKeyId": key.access_key_id,
            "Status": "Active" if key.active else "Inactive", "CreateDate": key.created_at}


def create_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, _caller_user(ctx, p))
        key, secret = access_keys.create_key(conn, ctx.container.box, user, ctx.now)
    return {"AccessKey": {**_key_out(key, user.name), "SecretAccessKey": secret}}


def list_access_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        user = entities.get(conn, ctx.account_id, USER, _caller_user(ctx, p))
        keys = [_key_out(k, user.name) for k in access_keys.keys_of(conn, user)]
    return page_out("AccessKeyMetadata", keys, p)


def update_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, _caller_user(ctx, p))
        access_keys.set_status(conn, user, p["AccessKeyId"], p["Status"] == "Active")
    return {}


def delete_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, _caller_user(ctx, p))
        access_keys.delete_key(conn, user, p["AccessKeyId"])
    return {}


def get_access_key_last_used(ctx: RequestContext, p: Params) -> dict[str, Any]:
    ctx.container.audit.flush()
    with ctx.container.iam.read() as conn:
        key = access_keys.find_key(conn, p["AccessKeyId"])
        if key is None or key.account_id != ctx.account_id:
            raise AccessDenied("The specified access key was not found in this account.")
        user = entities.get(conn, key.account_id, USER, key.user_lower)
        use = audit_query.last_successful_use(conn, key.access_key_id)
    # Answered from the audit trail, which records every call with its key, so nothing extra is written.
    if use is None:
        return {"UserName": user.name, "AccessKeyLastUsed": {"ServiceName": "N/A", "Region": "N/A"}}
    return {"UserName": user.name,
            "AccessKeyLastUsed": {"LastUsedDate": use.when, "ServiceName": use.service, "Region": use.region}}


def add_user_to_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        group = entities.get(conn, ctx.account_id, GROUP, p["GroupName"])
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        GROUP_MEMBERS.link(conn, ctx.account_id, group.name, user.name)
    return {}


def remove_user_from_group(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        group = entities.get(conn, ctx.account_id, GROUP, p["GroupName"])
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        if not GROUP_MEMBERS.unlink(conn, ctx.account_id, group.name, user.name):
            raise NoSuchEntity(f"The user with name {user.name} cannot be found in group {group.name}.")
    return {}


def list_groups_for_user(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        user = entities.get(conn, ctx.account_id, USER, p["UserName"])
        groups = [entities.get(conn, ctx.account_id, GROUP, g)
                  for g in GROUP_MEMBERS.parents(conn, ctx.account_id, user.name)]
        items = [entity_out(conn, g) for g in groups]
    return page_out("Groups", items, p)


USER_RESOURCE = entity_resource(USER, "UserName")


def _caller_resource(ctx: RequestContext, p: Params) -> Any:
    return USER_RESOURCE(ctx, {**p, "UserName": _caller_user(ctx, p)})


OPERATIONS = [
    iam_op("CreateUser", create_user, USER_RESOURCE, tagged=True),
    iam_op("GetUser", get_user, _caller_resource),
    iam_op("UpdateUser", update_user, USER_RESOURCE),
    iam_op("DeleteUser", delete_user, USER_RESOURCE),
    iam_op("ListUsers", list_users, lambda ctx, p: (ResourceRef(f"arn:aws:iam::{ctx.account_id}:user/"),)),
    iam_op("CreateAccessKey", create_access_key, _caller_resource, secret=frozenset({"SecretAccessKey"})),
    iam_op("ListAccessKeys", list_access_keys, _caller_resource),
    iam_op("UpdateAccessKey", update_access_key, _caller_resource),
    iam_op("DeleteAccessKey", delete_access_key, _caller_resource),
    iam_op("GetAccessKeyLastUsed", get_access_key_last_used, any_resource),
    iam_op("AddUserToGroup", add_user_to_group, entity_resource(GROUP, "GroupName")),
    iam_op("RemoveUserFromGroup", remove_user_from_group, entity_resource(GROUP, "GroupName")),
    iam_op("ListGroupsForUser", list_groups_for_user, USER_RESOURCE),
]
