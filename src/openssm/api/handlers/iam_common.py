"""Shared pieces of the IAM handlers: entity lookups, output shapes, authorization resources."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.operations import Handler, Operation, Params, ResourceRef, no_condition_keys
from openssm.iam import entities, tags
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.managed_policies import ManagedPolicy
from openssm.iam.principals import PrincipalType


def quoted(document: str) -> str:
    """IAM returns policy documents URL-encoded; boto3 and the CLI decode them."""
    return urllib.parse.quote(document, safe="")


def tag_list(mapping: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in mapping.items()]


def tag_map(items: Sequence[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def entity_out(conn: Connection, entity: Entity, *, with_tags: bool = True) -> dict[str, Any]:
    names = {EntityKind.USER: ("UserName", "UserId"), EntityKind.GROUP: ("GroupName", "GroupId"),
             EntityKind.ROLE: ("RoleName", "RoleId"), EntityKind.INSTANCE_PROFILE: ("InstanceProfileName",
                                                                                   "InstanceProfileId")}
    name_key, id_key = names[entity.kind]
    out: dict[str, Any] = {"Path": entity.path, name_key: entity.name, id_key: entity.entity_id, "Arn": entity.arn,
                           "CreateDate": entity.created_at}
    if entity.boundary_arn:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                      "PermissionsBoundaryArn": entity.boundary_arn}
    if entity.kind is EntityKind.ROLE:
        out.update(AssumeRolePolicyDocument=quoted(entity.trust_policy or ""), Description=entity.description,
                   MaxSessionDuration=entity.max_session_duration)
    if with_tags and entity.kind in (EntityKind.USER, EntityKind.ROLE, EntityKind.INSTANCE_PROFILE):
        found = tags.tags_of(conn, entity.account_id, entity.kind.value, entity.name)
        if found:
            out["Tags"] = tag_list(found)
    return out


def policy_out(policy: ManagedPolicy) -> dict[str, Any]:
    return {"PolicyName": policy.name, "PolicyId": policy.policy_id, "Arn": policy.arn, "Path": policy.path,
            "DefaultVersionId": policy.default_version, "AttachmentCount": policy.attachment_count,
            "PermissionsBoundaryUsageCount": 0, "IsAttachable": True, "Description": policy.description,
            "CreateDate": policy.created_at, "UpdateDate": policy.updated_at}


def entity_resource(kind: EntityKind, name_member: str) -> Callable[[RequestContext, Params], Sequence[ResourceRef]]:
    """The entity's ARN (with its real path when it exists) and its tags, for authorization."""

    def resources(ctx: RequestContext, params: Params) -> Sequence[ResourceRef]:
        name = params.get(name_member, "")
        with ctx.container.iam.read() as conn:
            entity = entities.find(conn, ctx.account_id, kind, name)
            if entity is None:
                path = params.get("Path") or "/"
                return (ResourceRef(entities.entity_arn(ctx.account_id, kind, path, name)),)
            found = tags.tags_of(conn, ctx.account_id, kind.value, name)
        return (ResourceRef(entity.arn, found),)

    return resources


def renamed_resources(kind: EntityKind, name_member: str, new_name_member: str
                      ) -> Callable[[RequestContext, Params], Sequence[ResourceRef]]:
    """UpdateUser/UpdateGroup are authorized on the entity as it is and as it will be, as at AWS."""
    current = entity_resource(kind, name_member)

    def resources(ctx: RequestContext, params: Params) -> Sequence[ResourceRef]:
        refs = tuple(current(ctx, params))
        if not (params.get(new_name_member) or params.get("NewPath")):
            return refs
        with ctx.container.iam.read() as conn:
            entity = entities.find(conn, ctx.account_id, kind, params[name_member])
        path = params.get("NewPath") or (entity.path if entity else "/")
        name = params.get(new_name_member) or params[name_member]
        return (*refs, ResourceRef(entities.entity_arn(ctx.account_id, kind, path, name)))

    return resources


def account_resource(kind: EntityKind) -> Callable[[RequestContext, Params], Sequence[ResourceRef]]:
    """List* calls name no entity; they are authorized on the kind's ARN prefix in the account."""
    return lambda ctx, _p: (ResourceRef(f"arn:aws:iam::{ctx.account_id}:{kind.value}/"),)


def caller_user(ctx: RequestContext, params: Params) -> str:
    """Operations with an optional UserName act on the calling user when it is left out."""
    if params.get("UserName"):
        return str(params["UserName"])
    return ctx.caller.name if ctx.caller.principal_type is PrincipalType.USER else ""


def policy_resource(ctx: RequestContext, params: Params) -> Sequence[ResourceRef]:
    if "PolicyArn" in params:
        return (ResourceRef(params["PolicyArn"]),)
    return (ResourceRef(f"arn:aws:iam::{ctx.account_id}:policy{params.get('Path') or '/'}{params['PolicyName']}"),)


def request_tag_keys(ctx: RequestContext, params: Params) -> dict[str, Any]:
    items = tag_map(params.get("Tags"))
    keys: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in items.items()}
    if items:
        keys["aws:TagKeys"] = list(items)
    return keys


def iam_op(name: str, handler: Handler, resources: Callable[[RequestContext, Params], Sequence[ResourceRef]],
           *, read_only: bool | None = None, tagged: bool = False, secret: frozenset[str] = frozenset()) -> Operation:
    """An IAM operation; List*/Get* are read-only unless told otherwise."""
    is_read = read_only if read_only is not None else name.startswith(("Get", "List", "Simulate"))
    keys = request_tag_keys if tagged else no_condition_keys
    return Operation("iam", name, handler, resources=resources, condition_keys=keys, read_only=is_read,
                     secret_params=secret)


def page_out(member: str, items: Sequence[Any], params: Params) -> dict[str, Any]:
    """IAM's Marker/MaxItems pagination of a complete, ordered list."""
    chunk, marker = entities.page(items, params.get("Marker"), params.get("MaxItems"))
    out: dict[str, Any] = {member: chunk, "IsTruncated": marker is not None}
    if marker is not None:
        out["Marker"] = marker
    return out
