"""Compliance over JSON 1.1: PutComplianceItems (on a managed node), ListComplianceItems,
ListComplianceSummaries, ListResourceComplianceSummaries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import paginate, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.services import compliance, compliance_queries, instances
from openssm.services.compliance import ComplianceItem, ExecutionSummary, ItemInput
from openssm.services.compliance_queries import ResourceSummary, StringFilter, TypeSummary
from openssm.services.parameter_model import InvalidResourceId

PAGE = 50


def _resource(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    return [ResourceRef(f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/{p['ResourceId']}")]


def _summary_in(raw: Mapping[str, Any]) -> ExecutionSummary:
    return ExecutionSummary(raw["ExecutionTime"], raw.get("ExecutionId"), raw.get("ExecutionType"))


def _summary_out(summary: ExecutionSummary) -> dict[str, Any]:
    return without_nones({"ExecutionTime": summary.execution_time, "ExecutionId": summary.execution_id,
                          "ExecutionType": summary.execution_type})


def _filters(p: Params) -> list[StringFilter]:
    return [StringFilter(f["Key"], tuple(f.get("Values") or ()), f.get("Type") or "EQUAL")
            for f in p.get("Filters") or ()]


def put_compliance_items(ctx: RequestContext, p: Params) -> dict[str, Any]:
    compliance.check_resource_type(p["ResourceType"])
    items = [ItemInput(i.get("Id"), i.get("Title"), i["Severity"], i["Status"], i.get("Details") or {})
             for i in p["Items"]]
    with ctx.container.db.begin() as conn:
        if instances.get(conn, ctx.account_id, ctx.region, p["ResourceId"], ctx.now) is None:
            raise InvalidResourceId(f"The resource ID {p['ResourceId']} is not a managed node of "
                                               f"account {ctx.account_id} in {ctx.region}.")
        compliance.put_items(conn, ctx.account_id, ctx.region, p["ResourceId"], p["ResourceType"],
                             p["ComplianceType"], _summary_in(p["ExecutionSummary"]), items, ctx.now,
                             upload_type=p.get("UploadType") or "COMPLETE",
                             item_content_hash=p.get("ItemContentHash"))
    return {}


def _item_out(item: ComplianceItem) -> dict[str, Any]:
    return without_nones({"ComplianceType": item.compliance_type, "ResourceType": item.resource_type,
                          "ResourceId": item.resource_id, "Id": item.id, "Title": item.title, "Status": item.status,
                          "Severity": item.severity, "ExecutionSummary": _summary_out(item.summary),
                          "Details": dict(item.details) or None})


def list_compliance_items(ctx: RequestContext, p: Params) -> dict[str, Any]:
    resource_ids, resource_types = p.get("ResourceIds") or [], p.get("ResourceTypes") or []
    if len(resource_ids) > 1:
        raise ValidationError("ResourceIds may name one resource only.")
    for resource_type in resource_types:
        compliance.check_resource_type(resource_type)
    with ctx.container.db.read() as conn:
        found = compliance.items_of(conn, ctx.account_id, ctx.region, resource_ids, resource_types)
    page, token = paginate(p, compliance_queries.select(found, _filters(p), compliance_queries.ITEM_FIELDS), PAGE)
    return without_nones({"ComplianceItems": [_item_out(i) for i in page], "NextToken": token})


def _severity_counts(counts: Mapping[str, int]) -> dict[str, int]:
    return {field: counts[severity] for severity, field in compliance.SEVERITY_FIELDS.items()}


def _counts_out(compliant: Mapping[str, int], non_compliant: Mapping[str, int]) -> dict[str, Any]:
    """The two summaries both views answer: totals, and the counts by severity."""
    return {"CompliantSummary": {"CompliantCount": sum(compliant.values()),
                                 "SeveritySummary": _severity_counts(compliant)},
            "NonCompliantSummary": {"NonCompliantCount": sum(non_compliant.values()),
                                    "SeveritySummary": _severity_counts(non_compliant)}}


def _type_summary_out(s: TypeSummary) -> dict[str, Any]:
    return {"ComplianceType": s.compliance_type, **_counts_out(s.compliant, s.non_compliant)}


def list_compliance_summaries(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = compliance.items_of(conn, ctx.account_id, ctx.region)
    kept = compliance_queries.select(found, _filters(p), compliance_queries.TYPE_FIELDS)
    page, token = paginate(p, compliance_queries.type_summaries(kept), PAGE)
    return without_nones({"ComplianceSummaryItems": [_type_summary_out(s) for s in page], "NextToken": token})


def _resource_summary_out(s: ResourceSummary) -> dict[str, Any]:
    return {"ComplianceType": s.compliance_type, "ResourceType": s.resource_type, "ResourceId": s.resource_id,
            "Status": s.status, "OverallSeverity": s.overall_severity, "ExecutionSummary": _summary_out(s.summary),
            **_counts_out(s.compliant, s.non_compliant)}


def list_resource_compliance_summaries(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = compliance.items_of(conn, ctx.account_id, ctx.region)
        uploads = compliance.uploads_of(conn, ctx.account_id, ctx.region)
    summaries = compliance_queries.select(compliance_queries.resource_summaries(found, uploads), _filters(p),
                                          compliance_queries.RESOURCE_FIELDS)
    page, token = paginate(p, summaries, PAGE)
    return without_nones({"ResourceComplianceSummaryItems": [_resource_summary_out(s) for s in page],
                          "NextToken": token})


OPERATIONS = [
    Operation("ssm", "PutComplianceItems", put_compliance_items, resources=_resource),
    Operation("ssm", "ListComplianceItems", list_compliance_items, read_only=True),
    Operation("ssm", "ListComplianceSummaries", list_compliance_summaries, read_only=True),
    Operation("ssm", "ListResourceComplianceSummaries", list_resource_compliance_summaries, read_only=True),
]
