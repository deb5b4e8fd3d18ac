"""CloudTrail LookupEvents over the audit trail (authorized as cloudtrail:LookupEvents on "*")."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params
from openssm.services import audit_query
from openssm.services.audit_query import StoredEvent


def lookup_events(ctx: RequestContext, p: Params) -> dict[str, Any]:
    if p.get("EventCategory") == "insight":
        return {"Events": []}  # OpenSSM raises no Insights events
    # What this caller just did must be visible to it (AWS takes minutes; tests and scripts would flake).
    ctx.container.audit.flush()
    attributes = [(a["AttributeKey"], a["AttributeValue"]) for a in p.get("LookupAttributes") or []]
    with ctx.container.db.read() as conn:
        page = audit_query.lookup(conn, ctx.account_id, attributes, p.get("StartTime"), p.get("EndTime"),
                                  p.get("MaxResults") or 50, p.get("NextToken"))
    out: dict[str, Any] = {"Events": [_event(e) for e in page.events]}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def _event(stored: StoredEvent) -> dict[str, Any]:
    e = stored.record
    item: dict[str, Any] = {
        "EventId": e.event_id, "EventName": e.event_name, "ReadOnly": "true" if e.read_only else "false",
        "EventTime": e.event_time, "EventSource": e.event_source,
        "Resources": [{"ResourceType": e.resource_type, "ResourceName": n} for n in e.resource_names],
        "CloudTrailEvent": e.event_json,
    }
    if e.access_key_id:
        item["AccessKeyId"] = e.access_key_id
    if e.username:
        item["Username"] = e.username
    return item


OPERATIONS = [Operation("cloudtrail", "LookupEvents", lookup_events, read_only=True)]
