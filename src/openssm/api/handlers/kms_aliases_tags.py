"""KMS over JSON 1.1: aliases (CreateAlias, DeleteAlias, ListAliases) and key tags (TagResource,
UntagResource, ListResourceTags)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.kms import existing_key, key_ref, op, page
from openssm.api.operations import Params, ResourceRef, any_resource
from openssm.errors import ValidationError
from openssm.services import kms_aliases, kms_tags
from openssm.services.kms_model import alias_arn


def _alias_and_key(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """Alias calls are authorized on the alias (IAM policies only) and on the key it points at."""
    alias = p["AliasName"]
    with ctx.container.db.read() as conn:
        target = p.get("TargetKeyId") or kms_aliases.target_of(conn, ctx.account_id, ctx.region, alias)
        key = ctx.container.kms.find(conn, ctx.account_id, ctx.region, target, ctx.now) if target else None
    refs = [ResourceRef(alias_arn(ctx.region, ctx.account_id, alias))]
    return refs + ([key_ref(ctx, key, target)] if target else [])


def create_alias(ctx: RequestContext, p: Params) -> dict[str, Any]:
    target = p["TargetKeyId"]
    if target.startswith("alias/") or ":alias/" in target:
        raise ValidationError("Aliases must refer to keys. Not aliases")
    with ctx.container.db.begin() as conn:
        key = existing_key(ctx, conn, target)
        key.require_not_pending_deletion()
        kms_aliases.create_alias(conn, p["AliasName"], key, ctx.now)
    return {}


def delete_alias(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        kms_aliases.delete_alias(conn, ctx.account_id, ctx.region, p["AliasName"])
    return {}


def list_aliases(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key_id = existing_key(ctx, conn, p["KeyId"]).key_id if p.get("KeyId") else None
        aliases = kms_aliases.list_aliases(conn, ctx.account_id, ctx.region, key_id)
    chunk, more = page(aliases, lambda a: a.name, p, default_limit=50)
    return {"Aliases": [{"AliasName": a.name, "AliasArn": a.arn, "TargetKeyId": a.target_key_id,
                         "CreationDate": a.created_at, "LastUpdatedDate": a.created_at} for a in chunk], **more}


def tag_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    tags = kms_tags.tag_map([(t["TagKey"], t["TagValue"]) for t in p["Tags"]])
    with ctx.container.db.begin() as conn:
        ctx.container.kms.tag(conn, existing_key(ctx, conn, p["KeyId"]), tags)
    return {}


def untag_resource(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        ctx.container.kms.untag(conn, existing_key(ctx, conn, p["KeyId"]), p["TagKeys"])
    return {}


def list_resource_tags(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        key = existing_key(ctx, conn, p["KeyId"])
        tags = sorted(kms_tags.tags_of(conn, key.key_id).items())
    chunk, more = page(tags, lambda t: t[0], p, default_limit=50)
    return {"Tags": [{"TagKey": k, "TagValue": v} for k, v in chunk], **more}


OPERATIONS = [
    op("CreateAlias", create_alias, _alias_and_key),
    op("DeleteAlias", delete_alias, _alias_and_key),
    op("ListAliases", list_aliases, any_resource, read_only=True),
    op("TagResource", tag_resource),
    op("UntagResource", untag_resource),
    op("ListResourceTags", list_resource_tags, read_only=True),
]
