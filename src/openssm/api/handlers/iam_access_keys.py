"""Long-term access keys of IAM users, and when each was last used."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import caller_user, entity_resource, iam_op, page_out
from openssm.api.operations import Params, ResourceRef, any_resource
from openssm.errors import AccessDenied
from openssm.iam import access_keys, entities
from openssm.iam.entities import EntityKind
from openssm.services import audit_query

USER = EntityKind.USER


def _key_out(key: access_keys.AccessKey, user_name: str) -> dict[str, Any]:
    return {"UserName": user_name, "AccessKeyId": key.access_key_id,
            "Status": "Active" if key.active else "Inactive", "CreateDate": key.created_at}


def create_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, caller_user(ctx, p))
        key, secret = access_keys.create_key(conn, ctx.container.box, user, ctx.now)
    return {"AccessKey": {**_key_out(key, user.name), "SecretAccessKey": secret}}


def list_access_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        user = entities.get(conn, ctx.account_id, USER, caller_user(ctx, p))
        keys = [_key_out(k, user.name) for k in access_keys.keys_of(conn, user)]
    return page_out("AccessKeyMetadata", keys, p)


def update_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, caller_user(ctx, p))
        access_keys.set_status(conn, user, p["AccessKeyId"], p["Status"] == "Active")
    return {}


def delete_access_key(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        user = entities.get(conn, ctx.account_id, USER, caller_user(ctx, p))
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


_USER_RESOURCE = entity_resource(USER, "UserName")


def _caller_resource(ctx: RequestContext, p: Params) -> Any:
    return _USER_RESOURCE(ctx, {**p, "UserName": caller_user(ctx, p)})


def _key_owner_resource(ctx: RequestContext, p: Params) -> tuple[ResourceRef, ...]:
    """GetAccessKeyLastUsed is authorized on the user who owns the key (any user's key: '*')."""
    with ctx.container.iam.read() as conn:
        key = access_keys.find_key(conn, p["AccessKeyId"])
        owner = entities.find(conn, key.account_id, USER, key.user_lower) if key else None
    if owner is None or owner.account_id != ctx.account_id:
        return tuple(any_resource(ctx, p))
    return (ResourceRef(owner.arn),)


OPERATIONS = [
    iam_op("CreateAccessKey", create_access_key, _caller_resource, secret=frozenset({"SecretAccessKey"})),
    iam_op("ListAccessKeys", list_access_keys, _caller_resource),
    iam_op("UpdateAccessKey", update_access_key, _caller_resource),
    iam_op("DeleteAccessKey", delete_access_key, _caller_resource),
    iam_op("GetAccessKeyLastUsed", get_access_key_last_used, _key_owner_resource),
]
