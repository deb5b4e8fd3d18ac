"""The other views of the fleet: DescribeInstanceProperties and ListNodes (JSON 1.1)."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import page_start, page_token, without_nones
from openssm.api.operations import Operation, Params
from openssm.errors import ValidationError
from openssm.services import instances
from openssm.services.instance_filters import NODE_FIELDS, PROPERTY_FIELDS, Tagged, matching, with_operators
from openssm.services.instances import ManagedInstance

PAGE = 50


def _fleet(ctx: RequestContext) -> list[Tagged]:
    tags = ctx.container.parameters.tags
    with ctx.container.db.read() as conn:
        return [(i, tags.of(conn, ctx.account_id, ctx.region, "ManagedInstance", i.instance_id))
                for i in instances.describe(conn, ctx.account_id, ctx.region, ctx.now)]


def _page(ctx: RequestContext, p: Params, found: list[ManagedInstance], key: str, out: Any) -> dict[str, Any]:
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or PAGE
    return without_nones({key: [out(ctx, i) for i in found[start:start + size]],
                          "NextToken": page_token(start + size) if start + size < len(found) else None})


def _property(ctx: RequestContext, i: ManagedInstance) -> dict[str, Any]:
    return without_nones({
        "Name": i.name, "InstanceId": i.instance_id, "PingStatus": i.ping_status, "LastPingDateTime": i.last_ping,
        "AgentVersion": i.agent_version, "PlatformType": i.platform_type, "PlatformName": i.platform_name,
        "PlatformVersion": i.platform_version, "ActivationId": i.activation_id, "IamRole": i.iam_role,
        "RegistrationDate": i.registered_at, "ResourceType": i.resource_type, "ComputerName": i.computer_name,
        "IPAddress": i.ip_address, "SourceId": i.instance_id, "SourceType": "AWS::SSM::ManagedInstance"})


def describe_instance_properties(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p.get("InstancePropertyFilterList") and p.get("FiltersWithOperator"):
        raise ValidationError("InstancePropertyFilterList and FiltersWithOperator cannot be used together.")
    fleet = _fleet(ctx)
    found = matching(fleet, p.get("InstancePropertyFilterList") or (), ())
    if p.get("FiltersWithOperator"):
        found = with_operators([t for t in fleet if t[0] in found], p["FiltersWithOperator"], PROPERTY_FIELDS)
    return _page(ctx, p, found, "InstanceProperties", _property)


def _node(ctx: RequestContext, i: ManagedInstance) -> dict[str, Any]:
    return {"CaptureTime": ctx.now, "Id": i.instance_id, "Owner": {"AccountId": i.account_id}, "Region": i.region,
            "NodeType": {"Instance": without_nones({
                "AgentType": i.agent_name, "AgentVersion": i.agent_version, "ComputerName": i.computer_name,
                "InstanceStatus": "Active", "IpAddress": i.ip_address, "ManagedStatus": "Managed",
                "PlatformType": i.platform_type, "PlatformName": i.platform_name,
                "PlatformVersion": i.platform_version, "ResourceType": i.resource_type,
                "SourceId": i.instance_id, "SourceType": "AWS::SSM::ManagedInstance"})}}


def list_nodes(ctx: RequestContext, p: Params) -> dict[str, Any]:
    found = with_operators(_fleet(ctx), p.get("Filters") or (), NODE_FIELDS, operator="Type")
    return _page(ctx, p, found, "Nodes", _node)


OPERATIONS = [
    Operation("ssm", "DescribeInstanceProperties", describe_instance_properties, read_only=True),
    Operation("ssm", "ListNodes", list_nodes, read_only=True),
]
