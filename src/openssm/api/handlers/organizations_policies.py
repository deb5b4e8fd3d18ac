"""Organizations over JSON 1.1: enabling service control policies, the policies, and their attachments."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.organizations_common import (
    management,
    op,
    page,
    policy_summary,
    policy_type_key,
    root_out,
    tags_in,
)
from openssm.api.operations import Params
from openssm.iam import org_tags, org_units
from openssm.iam import service_control_policies as scps
from openssm.iam.org_model import SCP, Organization, random_id
from openssm.iam.service_control_policies import OrgPolicy


def _policy_out(org: Organization, policy: OrgPolicy) -> dict[str, Any]:
    return {"Policy": {"PolicySummary": policy_summary(org, policy), "Content": policy.content}}


def enable_policy_type(ctx: RequestContext, p: Params) -> dict[str, Any]:
    scps.require_scp_type(p["PolicyType"])
    with ctx.container.iam.write() as conn:
        org = scps.enable(conn, management(ctx, conn), p["RootId"])
    return {"Root": root_out(org)}


def disable_policy_type(ctx: RequestContext, p: Params) -> dict[str, Any]:
    scps.require_scp_type(p["PolicyType"])
    with ctx.container.iam.write() as conn:
        org = scps.disable(conn, management(ctx, conn), p["RootId"])
    return {"Root": root_out(org)}


def create_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    scps.require_scp_type(p["Type"])
    with ctx.container.iam.write() as conn:
        org = management(ctx, conn)
        policy = scps.create_policy(conn, org, f"p-{random_id(8)}", p["Name"], p["Description"], p["Content"])
        if p.get("Tags"):
            org_tags.tag(conn, org, policy.policy_id, tags_in(p))
    return _policy_out(org, policy)


def describe_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        policy = scps.get_policy(conn, org, p["PolicyId"])
    return _policy_out(org, policy)


def update_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        org = management(ctx, conn)
        policy = scps.update_policy(conn, org, p["PolicyId"], p.get("Name"), p.get("Description"), p.get("Content"))
    return _policy_out(org, policy)


def delete_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        scps.delete_policy(conn, management(ctx, conn), p["PolicyId"])
    return {}


def list_policies(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        policies = scps.list_policies(conn, org) if p["Filter"] == SCP else []
    return page(p, "Policies", [policy_summary(org, x) for x in policies])


def attach_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        scps.attach(conn, management(ctx, conn), p["PolicyId"], p["TargetId"])
    return {}


def detach_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        scps.detach(conn, management(ctx, conn), p["PolicyId"], p["TargetId"])
    return {}


def list_policies_for_target(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        policies = scps.policies_for(conn, org, p["TargetId"])
    return page(p, "Policies", [policy_summary(org, x) for x in policies if p["Filter"] == SCP])


def list_targets_for_policy(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.read() as conn:
        org = management(ctx, conn)
        targets = [{"TargetId": t, "Arn": org.target_arn(t), "Name": org_units.target_name(conn, org, t),
                    "Type": org.target_type(t).value} for t in scps.targets_of(conn, org, p["PolicyId"])]
    return page(p, "Targets", targets)


OPERATIONS = [
    op("EnablePolicyType", enable_policy_type, condition_keys=policy_type_key),
    op("DisablePolicyType", disable_policy_type, condition_keys=policy_type_key),
    op("CreatePolicy", create_policy, condition_keys=policy_type_key),
    op("DescribePolicy", describe_policy, True), op("UpdatePolicy", update_policy),
    op("DeletePolicy", delete_policy), op("ListPolicies", list_policies, True, condition_keys=policy_type_key),
    op("AttachPolicy", attach_policy), op("DetachPolicy", detach_policy),
    op("ListPoliciesForTarget", list_policies_for_target, True, condition_keys=policy_type_key),
    op("ListTargetsForPolicy", list_targets_for_policy, True),
]
