"""CloudTrail LookupEvents over the audit trail."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params
from openssm.services import audit_query


def lookup_events(ctx: RequestContext, p: Params) -> dict[str, Any]:
    ctx.container.audit.flush()
    attributes = [(a["AttributeKey"], a["AttributeValue"]) for a in p.get("LookupAttributes") or []]
    with ctx.container.db.read() as conn:
        events, token = audit_query.lookup(conn, ctx.account_id, attributes, p.get("StartTime"), p.get("EndTime"),
                                           p.get("MaxResults") or 50, p.get("NextToken"))
    items = []
    for e in events:
        item: dict[str, Any] = {
            "EventId": e.event_id, "EventName": e.event_name, "ReadOnly": "true" if e.read_only else "false",
            "EventTime": e.event_time, "EventSource": e.event_source, "CloudTrailEvent": e.event_json,
            "Resources": [{"ResourceType": e.resource_type, "ResourceName": n} for n in e.resource_names]}
        if e.access_key_id:
            item["AccessKeyId"] = e.access_key_id
        if e.username:
            item["Username"] = e.username
        items.append(item)
    out: dict[str, Any] = {"Events": items}
    if token:
        out["NextToken"] = token
    return out


OPERATIONS = [Operation("cloudtrail", "LookupEvents", lookup_events, read_only=True)]
