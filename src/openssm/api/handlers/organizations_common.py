"""What the Organizations handlers share: the wire form of organizations, accounts, OUs and policies,
NextToken paging, and the resource ARNs each call is authorized against."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.operations import Handler, Operation, Params, ResourceRef
from openssm.iam import accounts
from openssm.iam import organization_errors as errors
from openssm.iam.org_model import SCP, Organization, organization_of, require_management
from openssm.iam.org_units import Member, OrgUnit
from openssm.iam.service_control_policies import FULL_ACCESS, OrgPolicy

DEFAULT_PAGE = 100
# Request members naming an organization resource by id, for authorization against its ARN.
_ID_PARAMS = ("AccountId", "OrganizationalUnitId", "ParentId", "RootId", "ChildId", "TargetId", "SourceParentId",
              "DestinationParentId", "ResourceId", "PolicyId")


def management(ctx: RequestContext, conn: Connection) -> Organization:
    return require_management(conn, ctx.account_id)


def tags_in(p: Params) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in p.get("Tags") or []}


def tags_out(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def page(p: Params, key: str, items: Sequence[Any]) -> dict[str, Any]:
    """One page of `items` under `key`, with a NextToken when more remain (opaque: the next index)."""
    start = 0
    if p.get("NextToken"):
        try:
            start = int(base64.urlsafe_b64decode(p["NextToken"].encode()).decode())
        except ValueError:
            raise errors.InvalidInput("You specified an invalid value for nextToken.") from None
    size = p.get("MaxResults") or DEFAULT_PAGE
    out: dict[str, Any] = {key: list(items[start:start + size])}
    if start + size < len(items):
        out["NextToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return out


def organization_out(conn: Connection, org: Organization) -> dict[str, Any]:
    account = accounts.get_account(conn, org.management_account)
    return {"Id": org.org_id, "Arn": org.arn, "FeatureSet": org.feature_set.value,
            "MasterAccountArn": org.account_arn(org.management_account),
            "MasterAccountId": org.management_account, "MasterAccountEmail": account.email if account else "",
            "AvailablePolicyTypes": [{"Type": SCP, "Status": "ENABLED" if org.scp_enabled else "DISABLED"}]}


def root_out(org: Organization) -> dict[str, Any]:
    return {"Id": org.root_id, "Arn": org.target_arn(org.root_id), "Name": "Root",
            "PolicyTypes": [{"Type": SCP, "Status": "ENABLED"}] if org.scp_enabled else []}


def account_out(conn: Connection, org: Organization, member: Member) -> dict[str, Any]:
    account = accounts.get_account(conn, member.account_id)
    status = account.status if account else "ACTIVE"
    return {"Id": member.account_id, "Arn": org.account_arn(member.account_id),
            "Email": account.email if account else "", "Name": account.name if account else member.account_id,
            "Status": status, "State": status, "JoinedMethod": member.joined_method.value,
            "JoinedTimestamp": member.joined_at}


def ou_out(org: Organization, unit: OrgUnit) -> dict[str, Any]:
    return {"Id": unit.unit_id, "Arn": org.target_arn(unit.unit_id), "Name": unit.name}


def policy_summary(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {"Id": policy.policy_id, "Arn": policy.arn(org), "Name": policy.name, "Description": policy.description,
            "Type": SCP, "AwsManaged": policy.aws_managed}


def _arn_of(org: Organization, resource_id: str) -> str:
    if resource_id == FULL_ACCESS.policy_id:
        return FULL_ACCESS.arn(org)
    if resource_id.startswith("p-"):
        return org.policy_arn(resource_id)
    return org.target_arn(resource_id)


def resource_arns(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """The ARNs of the organization resources a call names (AWS authorizes Organizations calls on them),
    or "*" for calls that name none, or when the caller is in no organization (the call then fails)."""
    ids = [p[name] for name in _ID_PARAMS if isinstance(p.get(name), str)]
    if not ids:
        return (ResourceRef("*"),)
    with ctx.container.iam.read() as conn:
        org = organization_of(conn, ctx.account_id)
    if org is None:
        return (ResourceRef("*"),)
    return tuple(ResourceRef(_arn_of(org, i)) for i in ids)


def policy_type_key(_ctx: RequestContext, p: Params) -> Mapping[str, Any]:
    kind = p.get("Type") or p.get("PolicyType") or p.get("Filter")
    return {"organizations:PolicyType": kind} if kind else {}


def op(name: str, handler: Handler, read_only: bool = False,
       condition_keys: Callable[[RequestContext, Params], Mapping[str, Any]] | None = None) -> Operation:
    if condition_keys is None:
        return Operation("organizations", name, handler, resources=resource_arns, read_only=read_only)
    return Operation("organizations", name, handler, resources=resource_arns, condition_keys=condition_keys,
                     read_only=read_only)
