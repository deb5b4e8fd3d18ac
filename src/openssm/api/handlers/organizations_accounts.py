"""Organizations over JSON 1.1: the organization itself, its root, and member accounts."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.organizations_common import (
    account_out,
    management,
    op,
    organization_out,
    page,
    root_out,
    tags_in,
)
from openssm.api.operations import Params
from openssm.iam import org_units
from openssm.iam import organization_errors as errors
from openssm.iam import organizations as orgs
from openssm.iam.org_model import FeatureSet, require_org
from openssm.iam.organizations import CreateAccountState, CreateAccountStatus, NewAccount


def create_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    feature_set = FeatureSet(p.get("FeatureSet") or FeatureSet.ALL)
    with ctx.container.iam.write() as conn:
        org = orgs.create_organization(conn, ctx.account_id, feature_set, ctx.now)
        return {"Organization": organization_out(conn, org)}


def describe_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"Organization": organization_out(conn, require_org(conn, ctx.account_id))}


def delete_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.delete_organization(conn, management(ctx, conn))
    return {}


def list_roots(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
    return page(p, "Roots", [root_out(org)])


def _status_out(status: CreateAccountStatus) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": status.request_id, "AccountName": status.account_name, "State": status.state.value,
                           "RequestedTimestamp": status.requested_at, "AccountId": status.account_id,
                           "FailureReason": status.failure_reason}
    if status.state is not CreateAccountState.IN_PROGRESS:
        out["CompletedTimestamp"] = status.requested_at
    return out


def create_account(ctx: RequestContext, p: Params) -> dict[str, Any]:
    new = NewAccount(p["AccountName"], p["Email"], p.get("RoleName") or orgs.ACCESS_ROLE, tags_in(p))
    with ctx.container.iam.write() as conn:
        status = orgs.create_account(conn, management(ctx, conn), new, ctx.now)
    return {"CreateAccountStatus": _status_out(status)}


def describe_create_account_status(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        status = orgs.create_account_status(conn, management(ctx, conn), p["CreateAccountRequestId"])
    return {"CreateAccountStatus": _status_out(status)}


def list_create_account_status(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        statuses = orgs.create_account_statuses(conn, management(ctx, conn), p.get("States") or ())
    return page(p, "CreateAccountStatuses", [_status_out(s) for s in statuses])


def list_accounts(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        return page(p, "Accounts", [account_out(conn, org, m) for m in org_units.members(conn, org, p.get("ParentId"))])


def describe_account(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        member = org_units.member(conn, org, p["AccountId"])
        if member is None:
            raise errors.AccountNotFound()
        return {"Account": account_out(conn, org, member)}


def move_account(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org_units.move_account(conn, management(ctx, conn), p["AccountId"], p["SourceParentId"],
                               p["DestinationParentId"])
    return {}


def remove_account_from_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.remove_account(conn, management(ctx, conn), p["AccountId"])
    return {}


OPERATIONS = [
    op("CreateOrganization", create_organization), op("DescribeOrganization", describe_organization, True),
    op("DeleteOrganization", delete_organization), op("ListRoots", list_roots, True),
    op("CreateAccount", create_account),
    op("DescribeCreateAccountStatus", describe_create_account_status, True),
    op("ListCreateAccountStatus", list_create_account_status, True),
    op("ListAccounts", list_accounts, True), op("ListAccountsForParent", list_accounts, True),
    op("DescribeAccount", describe_account, True), op("MoveAccount", move_account),
    op("RemoveAccountFromOrganization", remove_account_from_organization),
]
