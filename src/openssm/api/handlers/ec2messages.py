"""ec2messages over JSON 1.1 (EC2WindowsMessageDeliveryService.*): a node reads and answers only its own
messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AccessDenied
from openssm.services import command_messages, instances

DEFAULT_VISIBILITY = 10


def _node(ctx: RequestContext, destination: str) -> str:
    if ctx.caller.instance_id is None or ctx.caller.instance_id != destination:
        raise AccessDenied(f"User: {ctx.caller.arn} is not authorized to read messages of {destination}")
    return destination


def _own(ctx: RequestContext, p: Params) -> str:
    """The calling node (message ids name their node; parse_message_id checks it is this one)."""
    return _node(ctx, ctx.caller.instance_id or "")


def _instance_ref(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    node = p.get("Destination") or ctx.caller.instance_id or "*"
    return [ResourceRef(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/{node}")]


def get_messages(ctx: RequestContext, p: Params) -> dict[str, Any]:
    node = _node(ctx, p["Destination"])
    visibility = dt.timedelta(seconds=p.get("VisibilityTimeoutInSeconds") or DEFAULT_VISIBILITY)
    with ctx.container.db.begin() as conn:
        instances.mark_all_seen(conn, [node], ctx.now)
        found = command_messages.messages_for(conn, node, ctx.now, visibility)
    return {"Destination": node, "MessagesRequestId": p["MessagesRequestId"], "Messages": [
        {"MessageId": m.message_id, "Destination": m.destination, "Topic": m.topic, "Payload": m.payload,
         "PayloadDigest": m.digest, "PayloadType": "Text", "CreatedDate": m.created.isoformat()} for m in found]}


def acknowledge_message(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        command_messages.acknowledge(conn, _own(ctx, p), p["MessageId"], ctx.now)
    return {}


def send_reply(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        command_messages.reply(conn, _own(ctx, p), p["MessageId"], p["Payload"], ctx.now)
    return {"MessageId": p["MessageId"]}


def fail_message(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        command_messages.fail(conn, _own(ctx, p), p["MessageId"], ctx.now)
    return {}


def delete_message(ctx: RequestContext, p: Params) -> dict[str, Any]:
    command_messages.parse_message_id(p["MessageId"], _own(ctx, p))
    return {}


def get_endpoint(ctx: RequestContext, p: Params) -> dict[str, Any]:
    _node(ctx, p["Destination"])
    endpoint = ctx.container.config.endpoint_url.split("://", 1)
    return {"Endpoint": endpoint[1], "Protocol": endpoint[0]}


# The agent's role grants ec2messages:* (AmazonSSMManagedInstanceCore); the node check above does the rest.
OPERATIONS = [
    Operation("ec2messages", "GetMessages", get_messages, resources=_instance_ref),
    Operation("ec2messages", "AcknowledgeMessage", acknowledge_message, resources=_instance_ref),
    Operation("ec2messages", "SendReply", send_reply, resources=_instance_ref),
    Operation("ec2messages", "FailMessage", fail_message, resources=_instance_ref),
    Operation("ec2messages", "DeleteMessage", delete_message, resources=_instance_ref),
    Operation("ec2messages", "GetEndpoint", get_endpoint, resources=_instance_ref, read_only=True),
]
