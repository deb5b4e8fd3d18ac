"""The operations users, groups and roles share: inline and attached policies, tags, boundaries.

AWS names them per kind (PutUserPolicy, PutRolePolicy, PutGroupPolicy…); one factory serves all three.
"""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import (
    entity_resource,
    iam_op,
    page_out,
    quoted,
    request_tag_keys,
    tag_list,
    tag_map,
)
from openssm.api.operations import Operation, Params
from openssm.iam import bindings, entities, tags
from openssm.iam.entities import EntityKind


def _ops_for(kind: EntityKind) -> list[Operation]:
    title = {"user": "User", "group": "Group", "role": "Role"}[kind.value]
    member = f"{title}Name"
    resource = entity_resource(kind, member)

    def put_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.put_inline(conn, entities.get(conn, ctx.account_id, kind, p[member]), p["PolicyName"],
                                p["PolicyDocument"])
        return {}

    def get_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.read() as conn:
            entity = entities.get(conn, ctx.account_id, kind, p[member])
            document = bindings.get_inline(conn, entity, p["PolicyName"])
        return {member: entity.name, "PolicyName": p["PolicyName"], "PolicyDocument": quoted(document)}

    def delete_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.delete_inline(conn, entities.get(conn, ctx.account_id, kind, p[member]), p["PolicyName"])
        return {}

    def list_policies(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.read() as conn:
            names = list(bindings.inline(conn, entities.get(conn, ctx.account_id, kind, p[member])))
        return page_out("PolicyNames", names, p)

    def attach(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.attach(conn, entities.get(conn, ctx.account_id, kind, p[member]), p["PolicyArn"])
        return {}

    def detach(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.detach(conn, entities.get(conn, ctx.account_id, kind, p[member]), p["PolicyArn"])
        return {}

    def list_attached(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.read() as conn:
            arns = bindings.attached(conn, entities.get(conn, ctx.account_id, kind, p[member]))
        items = [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in arns
                 if arn.split(":policy", 1)[-1].startswith(p.get("PathPrefix") or "/")]
        return page_out("AttachedPolicies", items, p)

    ops = [
        iam_op(f"Put{title}Policy", put_policy, resource),
        iam_op(f"Get{title}Policy", get_policy, resource),
        iam_op(f"Delete{title}Policy", delete_policy, resource),
        iam_op(f"List{title}Policies", list_policies, resource),
        iam_op(f"Attach{title}Policy", attach, resource),
        iam_op(f"Detach{title}Policy", detach, resource),
        iam_op(f"ListAttached{title}Policies", list_attached, resource),
    ]
    if kind is not EntityKind.GROUP:
        ops += _tag_and_boundary_ops(kind, title, member)
    return ops


def _tag_and_boundary_ops(kind: EntityKind, title: str, member: str) -> list[Operation]:
    resource = entity_resource(kind, member)

    def tag(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            entity = entities.get(conn, ctx.account_id, kind, p[member])
            tags.tag(conn, ctx.account_id, kind.value, entity.name, tag_map(p["Tags"]))
        return {}

    def untag(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            entity = entities.get(conn, ctx.account_id, kind, p[member])
            tags.untag(conn, ctx.account_id, kind.value, entity.name, p["TagKeys"])
        return {}

    def list_tags(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.read() as conn:
            entity = entities.get(conn, ctx.account_id, kind, p[member])
            found = tags.tags_of(conn, ctx.account_id, kind.value, entity.name)
        return {**page_out("Tags", tag_list(found), p)}

    def put_boundary(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.set_boundary(conn, entities.get(conn, ctx.account_id, kind, p[member]), p["PermissionsBoundary"])
        return {}

    def delete_boundary(ctx: RequestContext, p: Params) -> dict[str, Any]:
        with ctx.container.iam.write() as conn:
            bindings.set_boundary(conn, entities.get(conn, ctx.account_id, kind, p[member]), None)
        return {}

    def untag_keys(ctx: RequestContext, p: Params) -> dict[str, Any]:
        return {"aws:TagKeys": list(p.get("TagKeys") or [])}

    return [
        Operation("iam", f"Tag{title}", tag, resources=resource, condition_keys=request_tag_keys),
        Operation("iam", f"Untag{title}", untag, resources=resource, condition_keys=untag_keys),
        iam_op(f"List{title}Tags", list_tags, resource),
        iam_op(f"Put{title}PermissionsBoundary", put_boundary, resource),
        iam_op(f"Delete{title}PermissionsBoundary", delete_boundary, resource),
    ]


OPERATIONS = [op for kind in (EntityKind.USER, EntityKind.GROUP, EntityKind.ROLE) for op in _ops_for(kind)]
