"""Customer managed policies and their versions; AWS managed policies are readable and attachable."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import iam_op, page_out, policy_out, policy_resource, quoted, tag_list, tag_map
from openssm.api.operations import Params
from openssm.iam import bindings, entities, managed_policies, tags
from openssm.iam.entities import EntityKind


def create_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        policy = managed_policies.create_policy(conn, ctx.account_id, p["PolicyName"], p.get("Path") or "/",
                                                p["PolicyDocument"], p.get("Description"), ctx.now)
        if p.get("Tags"):
            tags.tag(conn, ctx.account_id, "policy", policy.arn, tag_map(p["Tags"]))
    return {"Policy": policy_out(policy)}


def get_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        policy = managed_policies.get_policy(conn, p["PolicyArn"], ctx.account_id)
        found = tags.tags_of(conn, ctx.account_id, "policy", policy.arn)
    out = policy_out(policy)
    if found:
        out["Tags"] = tag_list(found)
    return {"Policy": out}


def delete_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        managed_policies.delete_policy(conn, p["PolicyArn"])
        tags.drop(conn, ctx.account_id, "policy", p["PolicyArn"])
    return {}


def list_policies(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = managed_policies.list_policies(conn, ctx.account_id, p.get("Scope") or "All",
                                               bool(p.get("OnlyAttached")), p.get("PathPrefix") or "/")
    return page_out("Policies", [policy_out(x) for x in found], p)


def _version_out(version: managed_policies.PolicyVersion, with_document: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"VersionId": version.version_id, "IsDefaultVersion": version.is_default,
                           "CreateDate": version.created_at}
    if with_document:
        out["Document"] = quoted(version.document)
    return out


def create_policy_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        version = managed_policies.create_version(conn, p["PolicyArn"], p["PolicyDocument"],
                                                  bool(p.get("SetAsDefault")), ctx.now)
    return {"PolicyVersion": _version_out(version, with_document=False)}


def get_policy_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"PolicyVersion": _version_out(managed_policies.get_version(conn, p["PolicyArn"], p["VersionId"]))}


def list_policy_versions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        found = managed_policies.versions(conn, p["PolicyArn"])
    return page_out("Versions", [_version_out(v, with_document=False) for v in found], p)


def delete_policy_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        managed_policies.delete_version(conn, p["PolicyArn"], p["VersionId"])
    return {}


def set_default_policy_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        managed_policies.set_default_version(conn, p["PolicyArn"], p["VersionId"], ctx.now)
    return {}


def list_entities_for_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    groups: dict[EntityKind, list[dict[str, str]]] = {k: [] for k in EntityKind}
    with ctx.container.iam.read() as conn:
        managed_policies.get_policy(conn, p["PolicyArn"])
        for kind, name in bindings.entities_for_policy(conn, p["PolicyArn"], ctx.account_id):
            entity = entities.get(conn, ctx.account_id, kind, name)
            title = kind.value.capitalize()
            groups[kind].append({f"{title}Name": entity.name, f"{title}Id": entity.entity_id})
    return {"PolicyGroups": groups[EntityKind.GROUP], "PolicyUsers": groups[EntityKind.USER],
            "PolicyRoles": groups[EntityKind.ROLE], "IsTruncated": False}


def tag_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        managed_policies.get_policy(conn, p["PolicyArn"])
        tags.tag(conn, ctx.account_id, "policy", p["PolicyArn"], tag_map(p["Tags"]))
    return {}


def untag_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        managed_policies.get_policy(conn, p["PolicyArn"])
        tags.untag(conn, ctx.account_id, "policy", p["PolicyArn"], p["TagKeys"])
    return {}


def list_policy_tags(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        managed_policies.get_policy(conn, p["PolicyArn"])
        return page_out("Tags", tag_list(tags.tags_of(conn, ctx.account_id, "policy", p["PolicyArn"])), p)


OPERATIONS = [
    iam_op("CreatePolicy", create_policy, policy_resource, tagged=True),
    iam_op("GetPolicy", get_policy, policy_resource),
    iam_op("DeletePolicy", delete_policy, policy_resource),
    iam_op("ListPolicies", list_policies, lambda ctx, p: ()),
    iam_op("CreatePolicyVersion", create_policy_version, policy_resource),
    iam_op("GetPolicyVersion", get_policy_version, policy_resource),
    iam_op("ListPolicyVersions", list_policy_versions, policy_resource),
    iam_op("DeletePolicyVersion", delete_policy_version, policy_resource),
    iam_op("SetDefaultPolicyVersion", set_default_policy_version, policy_resource),
    iam_op("ListEntitiesForPolicy", list_entities_for_policy, policy_resource),
    iam_op("TagPolicy", tag_policy, policy_resource, tagged=True),
    iam_op("UntagPolicy", untag_policy, policy_resource),
    iam_op("ListPolicyTags", list_policy_tags, policy_resource),
]
