"""GetAccountAuthorizationDetails: the account's whole IAM configuration in one answer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.iam_common import entity_out, iam_op, page_out, policy_out, quoted, tag_list
from openssm.api.handlers.iam_instance_profiles import profile_out
from openssm.api.operations import Params
from openssm.iam.account_details import DetailFilter, EntityDetails, PolicyDetails, account_details

_LISTS = {"user": ("UserDetailList", "UserPolicyList"), "group": ("GroupDetailList", "GroupPolicyList"),
          "role": ("RoleDetailList", "RolePolicyList")}


def _entity_out(conn: Connection, d: EntityDetails) -> dict[str, Any]:
    out = entity_out(conn, d.entity, with_tags=False)
    out.pop("Description", None)
    out.pop("MaxSessionDuration", None)
    out[_LISTS[d.entity.kind.value][1]] = [{"PolicyName": n, "PolicyDocument": quoted(doc)}
                                           for n, doc in d.inline.items()]
    out["AttachedManagedPolicies"] = [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in d.attached]
    if d.tags:
        out["Tags"] = tag_list(d.tags)
    if d.entity.kind.value == "user":
        out["GroupList"] = d.groups
    if d.entity.kind.value == "role":
        out["InstanceProfileList"] = [profile_out(conn, p) for p in d.profiles]
    return out


def _policy_out(d: PolicyDetails) -> dict[str, Any]:
    versions = [{"Document": quoted(v.document), "VersionId": v.version_id, "IsDefaultVersion": v.is_default,
                 "CreateDate": v.created_at} for v in d.versions]
    return {**policy_out(d.policy), "PolicyVersionList": versions}


def get_account_authorization_details(ctx: RequestContext, p: Params) -> dict[str, Any]:
    wanted = [DetailFilter(f) for f in p.get("Filter") or []]
    with ctx.container.iam.read() as conn:
        details = account_details(conn, ctx.account_id, wanted)
        items = [("UserDetailList", _entity_out(conn, d)) for d in details.users]
        items += [("GroupDetailList", _entity_out(conn, d)) for d in details.groups]
        items += [("RoleDetailList", _entity_out(conn, d)) for d in details.roles]
    items += [("Policies", _policy_out(d)) for d in details.policies]
    # One Marker pages through the four lists as if they were one, in this order.
    page = page_out("Items", items, p)
    out: dict[str, Any] = {name: [] for name in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")}
    for name, item in page.pop("Items"):
        out[name].append(item)
    return {**out, **page}


OPERATIONS = [iam_op("GetAccountAuthorizationDetails", get_account_authorization_details, lambda ctx, p: ())]
