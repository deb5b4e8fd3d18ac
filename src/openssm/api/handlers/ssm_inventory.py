"""Inventory over JSON 1.1: PutInventory (by the node itself, or by an IAM principal allowed ssm:PutInventory, as
AWS allows), GetInventory, GetInventorySchema, ListInventoryEntries, DeleteInventory and
DescribeInventoryDeletions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import node_ref, page_start, page_token, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AccessDenied
from openssm.services import inventory, inventory_deletions, inventory_queries, inventory_schemas
from openssm.services.inventory_deletions import Deletion, Summary
from openssm.services.inventory_model import Aggregator, Filter, Group, Item, ItemInput

PAGE = 50
SCHEMA_PAGE = 50  # GetInventorySchema's MaxResults is 50 to 200


def _node_ref(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """AWS authorizes inventory calls on an EC2 instance's own ARN, on a hybrid node's managed-instance ARN."""
    node = p["InstanceId"]
    ec2 = f"arn:aws:ec2:{ctx.region}:{ctx.account_id}:instance/{node}" if node.startswith("i-") else None
    return [node_ref(ctx, node, ec2)]


def put_inventory(ctx: RequestContext, p: Params) -> dict[str, Any]:
    node = p["InstanceId"]
    if ctx.caller.instance_id is not None and ctx.caller.instance_id != node:
        raise AccessDenied(f"User: {ctx.caller.arn} is not authorized to perform: ssm:PutInventory on resource: "
                           f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/{node} because a node "
                           "may report only its own inventory")
    items = [ItemInput(i["TypeName"], i["SchemaVersion"], i["CaptureTime"],
                       tuple(i["Content"]) if "Content" in i else None, i.get("ContentHash"), i.get("Context") or {})
             for i in p["Items"]]
    with ctx.container.db.begin() as conn:
        tags = ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "ManagedInstance", node)
        inventory.put(conn, ctx.account_id, ctx.region, node, items, ctx.now, tags)
    return {}


def get_inventory(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = _filters(p.get("Filters"))
    if p.get("Aggregators"):
        with ctx.container.db.read() as conn:
            found = inventory_queries.get_aggregates(conn, ctx.account_id, ctx.region, ctx.now, filters,
                                                     [_aggregator(a) for a in p["Aggregators"]])
        # AWS's answer: one entity, without an Id, holding each aggregator's counts as Content.
        return {"Entities": [{"Data": {a.key: {"Content": [dict(r) for r in a.rows]} for a in found}}]}
    wanted = (p.get("ResultAttributes") or [{}])[0].get("TypeName")
    start = page_start(p.get("NextToken"))
    with ctx.container.db.read() as conn:
        page = inventory_queries.get_inventory(conn, ctx.account_id, ctx.region, ctx.now, filters, wanted, start,
                                               p.get("MaxResults") or PAGE)
    return without_nones({
        "Entities": [{"Id": e.id, "Data": {name: _item_out(item) for name, item in e.data.items()}}
                     for e in page.items],
        "NextToken": page_token(page.next_offset) if page.next_offset is not None else None})


def get_inventory_schema(ctx: RequestContext, p: Params) -> dict[str, Any]:
    aggregator = bool(p.get("Aggregator"))
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or SCHEMA_PAGE
    with ctx.container.db.read() as conn:
        found = inventory_schemas.schemas(conn, ctx.account_id, ctx.region, p.get("TypeName") or None,
                                          aggregator=aggregator, sub_type=bool(p.get("SubType")))
    out = [without_nones({"TypeName": t.type_name, "Version": t.version,
                          "Attributes": [{"Name": a.name, "DataType": a.data_type} for a in t.attributes],
                          "DisplayName": t.display_name if aggregator else None})
           for t in found[start:start + size]]
    return without_nones({"Schemas": out,
                          "NextToken": page_token(start + size) if start + size < len(found) else None})


def list_inventory_entries(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        item = inventory.list_entries(conn, ctx.account_id, ctx.region, p["InstanceId"], p["TypeName"],
                                      _filters(p.get("Filters")), ctx.now)
    entries = item.content if item else ()
    start = page_start(p.get("NextToken"))
    # Without MaxResults the whole item is answered, as GetInventory answers an item's Content.
    end = start + p["MaxResults"] if p.get("MaxResults") else len(entries)
    return without_nones({
        "TypeName": p["TypeName"], "InstanceId": p["InstanceId"],
        "SchemaVersion": item.schema_version if item else None, "CaptureTime": item.capture_time if item else None,
        "Entries": [dict(e) for e in entries[start:end]],
        "NextToken": page_token(end) if end < len(entries) else None})


def delete_inventory(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        done = inventory_deletions.delete(conn, ctx.account_id, ctx.region, p["TypeName"], p.get("SchemaDeleteOption"),
                                          bool(p.get("DryRun")), p.get("ClientToken"), ctx.now)
    return without_nones({"DeletionId": done.deletion_id, "TypeName": done.type_name,
                          "DeletionSummary": _summary_out(done.summary)})


def describe_inventory_deletions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    start = page_start(p.get("NextToken"))
    with ctx.container.db.read() as conn:
        page = inventory_deletions.describe(conn, ctx.account_id, ctx.region, p.get("DeletionId"), start,
                                            p.get("MaxResults") or PAGE)
    return without_nones({"InventoryDeletions": [_deletion_out(d) for d in page.items],
                          "NextToken": page_token(page.next_offset) if page.next_offset is not None else None})


def _filters(raw: Sequence[Mapping[str, Any]] | None) -> list[Filter]:
    return [Filter(f["Key"], tuple(f["Values"]), f.get("Type") or "Equal") for f in raw or ()]


def _aggregator(raw: Mapping[str, Any]) -> Aggregator:
    return Aggregator(raw.get("Expression"), tuple(_aggregator(a) for a in raw.get("Aggregators") or ()),
                      tuple(Group(g["Name"], tuple(_filters(g["Filters"]))) for g in raw.get("Groups") or ()))


def _item_out(item: Item) -> dict[str, Any]:
    return without_nones({"TypeName": item.type_name, "SchemaVersion": item.schema_version,
                          "CaptureTime": item.capture_time, "ContentHash": item.content_hash,
                          "Content": [dict(c) for c in item.content]})


def _summary_out(summary: Summary) -> dict[str, Any]:
    return {"TotalCount": summary.total, "RemainingCount": summary.remaining,
            "SummaryItems": [{"Version": v.version, "Count": v.count, "RemainingCount": v.remaining}
                             for v in summary.versions]}


def _deletion_out(d: Deletion) -> dict[str, Any]:
    return without_nones({"DeletionId": d.deletion_id, "TypeName": d.type_name, "DeletionStartTime": d.started_at,
                          "LastStatus": d.status, "LastStatusMessage": d.status_message,
                          "DeletionSummary": _summary_out(d.summary), "LastStatusUpdateTime": d.status_updated_at})


OPERATIONS = [
    # An item's Content (up to 10,000 entries) stays out of the audit trail: a node's 500 packages would make every
    # report a 100 KB record. The rest of the call (node, types, versions, hashes) is recorded.
    Operation("ssm", "PutInventory", put_inventory, resources=_node_ref, secret_params=frozenset({"Content"})),
    Operation("ssm", "GetInventory", get_inventory, read_only=True),
    Operation("ssm", "GetInventorySchema", get_inventory_schema, read_only=True),
    Operation("ssm", "ListInventoryEntries", list_inventory_entries, resources=_node_ref, read_only=True),
    Operation("ssm", "DeleteInventory", delete_inventory),
    Operation("ssm", "DescribeInventoryDeletions", describe_inventory_deletions, read_only=True),
]
