"""AWS Organizations over JSON 1.1: the organization, OUs, member accounts and service control policies."""

from __future__ import annotations

import json
import secrets
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params
from openssm.iam import bindings, entities
from openssm.iam import organizations as orgs
from openssm.iam.accounts import create_account, get_account, list_accounts
from openssm.iam.entities import EntityKind
from openssm.iam.organizations import Organization, OrgPolicy

ACCESS_ROLE = "OrganizationAccountAccessRole"


def _org_out(org: Organization) -> dict[str, Any]:
    return {"Id": org.org_id, "Arn": org.arn("organization"), "FeatureSet": org.feature_set,
            "MasterAccountArn": org.arn("account", org.management_account),
            "MasterAccountId": org.management_account, "MasterAccountEmail": "admin@openssm.local",
            "AvailablePolicyTypes": [{"Type": orgs.SCP, "Status": "ENABLED" if org.scp_enabled else "DISABLED"}]}


def _account_out(ctx: RequestContext, conn: Any, org: Organization, account_id: str) -> dict[str, Any]:
    account = get_account(conn, account_id)
    if account is None:
        raise orgs.fail(orgs.AccountNotFound)
    return {"Id": account_id, "Arn": org.arn("account", account_id), "Email": account.email, "Name": account.name,
            "Status": account.status, "JoinedMethod": "CREATED", "JoinedTimestamp": account.created_at}


def _policy_summary(org: Organization, p: OrgPolicy) -> dict[str, Any]:
    arn = ("arn:aws:organizations::aws:policy/service_control_policy/" + p.policy_id if p.aws_managed
           else org.arn("policy", "service_control_policy", p.policy_id))
    return {"Id": p.policy_id, "Arn": arn, "Name": p.name, "Description": p.description, "Type": orgs.SCP,
            "AwsManaged": p.aws_managed}


def _policy_out(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {"Policy": {"PolicySummary": _policy_summary(org, policy), "Content": policy.content}}


def _mgmt(ctx: RequestContext, conn: Any) -> Organization:
    return orgs.require_org(conn, ctx.account_id)


def create_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = orgs.create_organization(conn, ctx.account_id, p.get("FeatureSet") or "ALL", ctx.now)
    return {"Organization": _org_out(org)}


def describe_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        return {"Organization": _org_out(orgs.require_org(conn, ctx.account_id, management_only=False))}


def delete_organization(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.delete_organization(conn, _mgmt(ctx, conn))
    return {}


def list_roots(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
    return {"Roots": [{"Id": org.root_id, "Arn": org.arn("root", org.root_id), "Name": "Root",
                       "PolicyTypes": [{"Type": orgs.SCP, "Status": "ENABLED"}] if org.scp_enabled else []}]}


def _access_role(ctx: RequestContext, conn: Any, org: Organization, account_id: str) -> None:
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{org.management_account}:root"},
        "Action": "sts:AssumeRole"}]})
    role = entities.create(conn, account_id, EntityKind.ROLE, ACCESS_ROLE, "/", ctx.now, trust_policy=trust,
                           max_session_duration=3600)
    bindings.attach(conn, role, "arn:aws:iam::aws:policy/AdministratorAccess")


def create_account_op(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        account = create_account(conn, p["AccountName"], p["Email"], ctx.now)
        orgs.add_account(conn, org, account.account_id, ctx.now)
        _access_role(ctx, conn, org, account.account_id)
    status = {"Id": f"car-{secrets.token_hex(16)}", "AccountName": account.name, "State": "SUCCEEDED",
              "RequestedTimestamp": ctx.now, "CompletedTimestamp": ctx.now, "AccountId": account.account_id}
    return {"CreateAccountStatus": status}


def list_accounts_op(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        ids = orgs.accounts_under(conn, org, p.get("ParentId"))
        known = {a.account_id for a in list_accounts(conn)}
        return {"Accounts": [_account_out(ctx, conn, org, i) for i in ids if i in known]}


def describe_account(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        if p["AccountId"] not in orgs.accounts_under(conn, org):
            raise orgs.fail(orgs.AccountNotFound)
        return {"Account": _account_out(ctx, conn, org, p["AccountId"])}


def move_account(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.move_account(conn, _mgmt(ctx, conn), p["AccountId"], p["SourceParentId"], p["DestinationParentId"])
    return {}


def _ou_out(org: Organization, unit_id: str, name: str) -> dict[str, Any]:
    return {"Id": unit_id, "Arn": org.arn("ou", unit_id), "Name": name}


def create_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        unit_id = orgs.create_ou(conn, org, p["ParentId"], p["Name"])
    return {"OrganizationalUnit": _ou_out(org, unit_id, p["Name"])}


def describe_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        return {"OrganizationalUnit": _ou_out(org, p["OrganizationalUnitId"],
                                              orgs.ou_name(conn, org, p["OrganizationalUnitId"]))}


def update_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        if p.get("Name"):
            orgs.rename_ou(conn, org, p["OrganizationalUnitId"], p["Name"])
        return {"OrganizationalUnit": _ou_out(org, p["OrganizationalUnitId"],
                                              orgs.ou_name(conn, org, p["OrganizationalUnitId"]))}


def delete_ou(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.delete_ou(conn, _mgmt(ctx, conn), p["OrganizationalUnitId"])
    return {}


def list_ous_for_parent(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        if not orgs.unit_exists(conn, org, p["ParentId"]):
            raise orgs.fail(orgs.ParentNotFound)
        return {"OrganizationalUnits": [_ou_out(org, u, n) for u, n in orgs.units_under(conn, org, p["ParentId"])]}


def list_parents(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        parent = orgs.parent_of(conn, org, p["ChildId"])
    return {"Parents": [{"Id": parent, "Type": "ROOT" if parent == org.root_id else "ORGANIZATIONAL_UNIT"}]}


def list_children(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        if not orgs.unit_exists(conn, org, p["ParentId"]):
            raise orgs.fail(orgs.ParentNotFound)
        if p["ChildType"] == "ACCOUNT":
            children = orgs.accounts_under(conn, org, p["ParentId"])
        else:
            children = [u for u, _ in orgs.units_under(conn, org, p["ParentId"])]
    return {"Children": [{"Id": c, "Type": p["ChildType"]} for c in children]}


def enable_policy_type(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        if p["PolicyType"] != orgs.SCP:
            raise orgs.fail(orgs.TypeNotEnabled)
        orgs.enable_scps(conn, org)
    return list_roots_of(org, True)


def disable_policy_type(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        orgs.disable_scps(conn, org)
    return list_roots_of(org, False)


def list_roots_of(org: Organization, enabled: bool) -> dict[str, Any]:
    return {"Root": {"Id": org.root_id, "Arn": org.arn("root", org.root_id), "Name": "Root",
                     "PolicyTypes": [{"Type": orgs.SCP, "Status": "ENABLED"}] if enabled else []}}


def create_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        if p["Type"] != orgs.SCP:
            raise orgs.fail(orgs.TypeNotEnabled)
        policy = orgs.create_policy(conn, org, p["Name"], p["Description"], p["Content"])
    return _policy_out(org, policy)


def describe_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        policy = orgs.get_policy(conn, org, p["PolicyId"])
    return _policy_out(org, policy)


def update_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        policy = orgs.update_policy(conn, org, p["PolicyId"], p.get("Name"), p.get("Description"), p.get("Content"))
    return _policy_out(org, policy)


def delete_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.delete_policy(conn, _mgmt(ctx, conn), p["PolicyId"])
    return {}


def list_policies(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        return {"Policies": [_policy_summary(org, x) for x in orgs.list_policies(conn, org)]}


def attach_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = _mgmt(ctx, conn)
        if not org.scp_enabled:
            raise orgs.fail(orgs.TypeNotEnabled)
        orgs.attach(conn, org, p["PolicyId"], p["TargetId"])
    return {}


def detach_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        orgs.detach(conn, _mgmt(ctx, conn), p["PolicyId"], p["TargetId"])
    return {}


def list_policies_for_target(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        return {"Policies": [_policy_summary(org, x) for x in orgs.policies_for(conn, org, p["TargetId"])]}


def list_targets_for_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = _mgmt(ctx, conn)
        orgs.get_policy(conn, org, p["PolicyId"])
        targets = orgs.targets_of(conn, org, p["PolicyId"])
    return {"Targets": [{"TargetId": t, "Arn": org.arn("account", t), "Name": t, "Type": _target_type(org, t)}
                        for t in targets]}


def _target_type(org: Organization, target: str) -> str:
    if target == org.root_id:
        return "ROOT"
    return "ORGANIZATIONAL_UNIT" if target.startswith("ou-") else "ACCOUNT"


def _op(name: str, handler: Any, read_only: bool = False) -> Operation:
    return Operation("organizations", name, handler, read_only=read_only)


OPERATIONS = [
    _op("CreateOrganization", create_organization), _op("DescribeOrganization", describe_organization, True),
    _op("DeleteOrganization", delete_organization), _op("ListRoots", list_roots, True),
    _op("CreateAccount", create_account_op), _op("ListAccounts", list_accounts_op, True),
    _op("ListAccountsForParent", list_accounts_op, True), _op("DescribeAccount", describe_account, True),
    _op("MoveAccount", move_account), _op("CreateOrganizationalUnit", create_ou),
    _op("DescribeOrganizationalUnit", describe_ou, True), _op("UpdateOrganizationalUnit", update_ou),
    _op("DeleteOrganizationalUnit", delete_ou), _op("ListOrganizationalUnitsForParent", list_ous_for_parent, True),
    _op("ListParents", list_parents, True), _op("ListChildren", list_children, True),
    _op("EnablePolicyType", enable_policy_type), _op("DisablePolicyType", disable_policy_type),
    _op("CreatePolicy", create_policy), _op("DescribePolicy", describe_policy, True),
    _op("UpdatePolicy", update_policy), _op("DeletePolicy", delete_policy), _op("ListPolicies", list_policies, True),
    _op("AttachPolicy", attach_policy), _op("DetachPolicy", detach_policy),
    _op("ListPoliciesForTarget", list_policies_for_target, True),
    _op("ListTargetsForPolicy", list_targets_for_policy, True),
]
