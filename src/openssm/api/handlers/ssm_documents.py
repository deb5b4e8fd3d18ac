"""SSM documents over JSON 1.1: CreateDocument, GetDocument, DescribeDocument, UpdateDocument,
UpdateDocumentDefaultVersion, DeleteDocument, ListDocuments, ListDocumentVersions,
DescribeDocumentPermission, ModifyDocumentPermission."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import request_tags_condition, scope, tag_map, without_nones
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.services import document_content, document_queries, document_shares, documents
from openssm.services.document_parameters import ParameterDeclaration
from openssm.services.documents import DocumentChange, DocumentVersion, NewDocument
from openssm.services.documents_builtin import AMAZON
from openssm.store.lazy import LazyMapping

_LIST_LIMIT = 50


def _arn(ctx: RequestContext, name: str) -> str:
    location = documents.locate(scope(ctx), name)
    account = "" if location.owner == AMAZON else location.owner
    return f"arn:aws:ssm:{location.region}:{account}:document/{location.name}"


def _tags(ctx: RequestContext, name: str) -> dict[str, str]:
    location = documents.locate(scope(ctx), name)
    with ctx.container.db.read() as conn:
        return ctx.container.parameters.tags.of(conn, location.owner, location.region, "Document", location.name)


def _document(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    """The document a call names, with its tags for ssm:resourceTag/… conditions."""
    return [ResourceRef(_arn(ctx, p["Name"]), LazyMapping(lambda: _tags(ctx, p["Name"])))]


def _default_value(declaration: ParameterDeclaration) -> str | None:
    if not declaration.has_default:
        return None
    value = declaration.default
    return value if isinstance(value, str) else json.dumps(value)


def _description(d: DocumentVersion, tags: dict[str, str]) -> dict[str, Any]:
    return without_nones({
        "Hash": d.content_hash, "HashType": "Sha256", "Name": d.name, "DisplayName": d.display_name or None,
        "VersionName": d.version_name, "Owner": d.owner, "CreatedDate": d.created_at, "Status": "Active",
        "DocumentVersion": str(d.version), "Description": d.parsed.description or None,
        "Parameters": [without_nones({"Name": x.name, "Type": x.type, "Description": x.description or None,
                                      "DefaultValue": _default_value(x)}) for x in d.parsed.parameters],
        "PlatformTypes": list(d.parsed.platform_types), "DocumentType": d.document_type,
        "SchemaVersion": d.parsed.schema_version, "LatestVersion": str(d.latest_version),
        "DefaultVersion": str(d.default_version), "DocumentFormat": d.document_format,
        "TargetType": d.target_type or None, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})


def create_document(ctx: RequestContext, p: Params) -> dict[str, Any]:
    spec = NewDocument(p["Name"], p["Content"], p.get("DocumentType") or "Command", p.get("DocumentFormat") or "JSON",
                       p.get("VersionName"), p.get("DisplayName") or "", p.get("TargetType") or "")
    tags = tag_map(p.get("Tags"))
    with ctx.container.db.begin() as conn:
        created = documents.create(conn, scope(ctx), spec)
        ctx.container.parameters.tags.add(conn, ctx.account_id, ctx.region, "Document", created.name, tags)
    return {"DocumentDescription": _description(created, tags)}


def describe_document(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = documents.find(conn, scope(ctx), p["Name"], p.get("DocumentVersion"), p.get("VersionName"))
    return {"Document": _description(found, _tags(ctx, p["Name"]))}


def get_document(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = documents.find(conn, scope(ctx), p["Name"], p.get("DocumentVersion"), p.get("VersionName"))
    wanted = p.get("DocumentFormat") or found.document_format
    content = found.content if wanted == found.document_format else document_content.render(found.parsed, wanted)
    return without_nones({
        "Name": found.name, "CreatedDate": found.created_at, "DisplayName": found.display_name or None,
        "VersionName": found.version_name, "DocumentVersion": str(found.version), "Status": "Active",
        "Content": content, "DocumentType": found.document_type, "DocumentFormat": wanted})


def update_document(ctx: RequestContext, p: Params) -> dict[str, Any]:
    change = DocumentChange(p["Name"], p["Content"], p.get("DocumentVersion"), p.get("DocumentFormat") or "JSON",
                            p.get("VersionName"), p.get("DisplayName"), p.get("TargetType"))
    with ctx.container.db.begin() as conn:
        updated = documents.update(conn, scope(ctx), change)
    return {"DocumentDescription": _description(updated, _tags(ctx, p["Name"]))}


def update_document_default_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        chosen = documents.set_default(conn, scope(ctx), p["Name"], p["DocumentVersion"])
    return {"Description": without_nones({"Name": chosen.name, "DefaultVersion": str(chosen.version),
                                          "DefaultVersionName": chosen.version_name})}


def delete_document(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        documents.delete(conn, scope(ctx), p["Name"], p.get("DocumentVersion"), p.get("VersionName"))
    return {}


def _page(p: Params, items: Sequence[Any]) -> tuple[Sequence[Any], str | None]:
    """A page of `items` and the token for the next (the offset, opaque to callers)."""
    limit = p.get("MaxResults") or _LIST_LIMIT
    try:
        start = int(base64.urlsafe_b64decode(p["NextToken"]).decode()) if p.get("NextToken") else 0
    except ValueError as err:
        raise ValidationError("The specified token is not valid.") from err
    end = start + limit
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[start:end], token


def list_documents(ctx: RequestContext, p: Params) -> dict[str, Any]:
    filters = document_queries.from_request(p.get("Filters") or [], p.get("DocumentFilterList") or [])
    with ctx.container.db.read() as conn:
        visible = documents.default_versions(conn, scope(ctx))

        def tags_of(d: DocumentVersion) -> dict[str, str]:
            owner = d.owner if d.owner != AMAZON else ""
            return ctx.container.parameters.tags.of(conn, owner, d.region, "Document", d.name)

        chosen = document_queries.select(visible, filters, ctx.account_id, tags_of)
        page, token = _page(p, chosen)
        out = [without_nones({
            "Name": d.name, "CreatedDate": d.created_at, "DisplayName": d.display_name or None, "Owner": d.owner,
            "VersionName": d.version_name, "PlatformTypes": list(d.parsed.platform_types),
            "DocumentVersion": str(d.version), "DocumentType": d.document_type,
            "SchemaVersion": d.parsed.schema_version, "DocumentFormat": d.document_format,
            "TargetType": d.target_type or None,
            "Tags": [{"Key": k, "Value": v} for k, v in tags_of(d).items()]}) for d in page]
    return without_nones({"DocumentIdentifiers": out, "NextToken": token})


def list_document_versions(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        page, token = _page(p, documents.versions(conn, scope(ctx), p["Name"]))
    return without_nones({"DocumentVersions": [without_nones({
        "Name": d.name, "DisplayName": d.display_name or None, "DocumentVersion": str(d.version),
        "VersionName": d.version_name, "CreatedDate": d.created_at, "IsDefaultVersion": d.is_default,
        "DocumentFormat": d.document_format, "Status": "Active"}) for d in page], "NextToken": token})


def describe_document_permission(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        shares = document_shares.describe(conn, scope(ctx), p["Name"])
    page, token = _page(p, shares)
    return without_nones({
        "AccountIds": [s.account_id for s in page],
        "AccountSharingInfoList": [{"AccountId": s.account_id, "SharedDocumentVersion": s.shared_version}
                                   for s in page], "NextToken": token})


def modify_document_permission(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        document_shares.modify(conn, scope(ctx), p["Name"], p.get("AccountIdsToAdd") or [],
                               p.get("AccountIdsToRemove") or [], p.get("SharedDocumentVersion"))
    return {}


OPERATIONS = [
    Operation("ssm", "CreateDocument", create_document, resources=_document,
              condition_keys=request_tags_condition),
    Operation("ssm", "GetDocument", get_document, resources=_document, read_only=True),
    Operation("ssm", "DescribeDocument", describe_document, resources=_document, read_only=True),
    Operation("ssm", "UpdateDocument", update_document, resources=_document),
    Operation("ssm", "UpdateDocumentDefaultVersion", update_document_default_version, resources=_document),
    Operation("ssm", "DeleteDocument", delete_document, resources=_document),
    Operation("ssm", "ListDocuments", list_documents, read_only=True),
    Operation("ssm", "ListDocumentVersions", list_document_versions, resources=_document, read_only=True),
    Operation("ssm", "DescribeDocumentPermission", describe_document_permission, resources=_document,
              read_only=True),
    Operation("ssm", "ModifyDocumentPermission", modify_document_permission, resources=_document),
]
