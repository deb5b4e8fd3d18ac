"""SSM documents: create, version, find and delete them (CreateDocument, UpdateDocument,
UpdateDocumentDefaultVersion, DeleteDocument, GetDocument, DescribeDocument, ListDocumentVersions).

A document belongs to an account and region and has numbered versions, each keeping its content exactly as
submitted; one version is the default. Amazon's documents (documents_builtin) are found by name from every
account; another account's document by its ARN, when it is shared with the caller (document_shares)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection

from openssm.errors import AwsError, ValidationError
from openssm.services import document_content, session_document_content
from openssm.services.document_content import DocumentContent
from openssm.services.documents_builtin import AMAZON, BUILT_IN
from openssm.services.parameter_model import Scope
from openssm.services.resource_tags import ResourceTagStore, unknown_resource
from openssm.store.tables.documents import document_shares, document_versions, documents

MAX_CONTENT_BYTES = 64 * 1024
MAX_VERSIONS = 1000
MAX_DOCUMENTS = 500
SUPPORTED_TYPES = ("Command", "Session")
_RESERVED_PREFIXES = ("aws", "amazon", "amzn")
_ARN = re.compile(r"^arn:aws:ssm:([a-z0-9-]+):(\d{12})?:document/([a-zA-Z0-9_\-.]{3,128})$")


class InvalidDocument(AwsError):
    code = "InvalidDocument"


class InvalidDocumentVersion(AwsError):
    code = "InvalidDocumentVersion"


class InvalidDocumentOperation(AwsError):
    code = "InvalidDocumentOperation"


class InvalidDocumentType(AwsError):
    code = "InvalidDocumentType"


class DocumentAlreadyExists(AwsError):
    code = "DocumentAlreadyExists"


class DocumentLimitExceeded(AwsError):
    code = "DocumentLimitExceeded"


class DocumentVersionLimitExceeded(AwsError):
    code = "DocumentVersionLimitExceeded"


class DuplicateDocumentContent(AwsError):
    code = "DuplicateDocumentContent"


class DuplicateDocumentVersionName(AwsError):
    code = "DuplicateDocumentVersionName"


class MaxDocumentSizeExceeded(AwsError):
    code = "MaxDocumentSizeExceeded"


def not_found(name: str) -> InvalidDocument:
    return InvalidDocument(f"Document with name {name} does not exist." if name else
                           "The specified document does not exist.")


@dataclass(frozen=True)
class DocumentVersion:
    """One version of a document, with what describes the whole document (its default and latest)."""

    name: str
    owner: str  # an account id, or "Amazon"
    region: str
    version: int
    version_name: str | None
    display_name: str
    document_format: str
    content: str
    content_hash: str
    created_at: dt.datetime
    document_type: str
    target_type: str
    default_version: int
    latest_version: int
    parsed: DocumentContent

    @property
    def arn(self) -> str:
        account = "" if self.owner == AMAZON else self.owner
        return f"arn:aws:ssm:{self.region}:{account}:document/{self.name}"

    @property
    def is_default(self) -> bool:
        return self.version == self.default_version


@dataclass(frozen=True)
class NewDocument:
    name: str
    content: str
    document_type: str = "Command"
    document_format: str = "JSON"
    version_name: str | None = None
    display_name: str = ""
    target_type: str = ""


@dataclass(frozen=True)
class DocumentChange:
    name: str
    content: str
    document_version: str | None = None  # must name the latest version
    document_format: str = "JSON"
    version_name: str | None = None
    display_name: str | None = None
    target_type: str | None = None


@dataclass(frozen=True)
class Location:
    """Where a document named by a request lives: its owner (an account, or Amazon), region and name."""

    owner: str
    region: str
    name: str


def locate(scope: Scope, name_or_arn: str) -> Location:
    """A name is the caller's own document or Amazon's; an ARN may name another account's."""
    match = _ARN.match(name_or_arn)
    if match:
        region, account, name = match.groups()
        return Location(account or AMAZON, region, name)
    if name_or_arn in BUILT_IN:
        return Location(AMAZON, scope.region, name_or_arn)
    return Location(scope.account_id, scope.region, name_or_arn)


def document_key(account_id: str, region: str, name: str,
                 table: sa.Table = documents) -> tuple[ColumnElement[bool], ...]:
    return table.c.account_id == account_id, table.c.region == region, table.c.name == name


def built_in(name: str, region: str) -> DocumentVersion:
    """One of Amazon's documents (a Command or Session document), read by the rules of its type."""
    spec = BUILT_IN[name]
    parsed = replace(parse_content(spec.content, "JSON", spec.document_type), platform_types=spec.platform_types)
    return DocumentVersion(name, AMAZON, region, 1, None, "", "JSON", spec.content,
                           document_content.sha256(spec.content), spec.created_at, spec.document_type, "", 1, 1,
                           parsed)


def _version(header: Any, row: Any) -> DocumentVersion:
    return DocumentVersion(
        header.name, header.account_id, header.region, row.version, row.version_name, row.display_name,
        row.document_format, row.content, row.content_hash, row.created_at, header.document_type,
        header.target_type, header.default_version, header.latest_version,
        parse_content(row.content, row.document_format, header.document_type))


def _header(conn: Connection, location: Location) -> Any:
    header = conn.execute(sa.select(documents).where(*document_key(*key_values(location)))).first()
    if header is None:
        raise not_found(location.name)
    return header


def version_number(raw: str | None, header: Any) -> int:
    """`$DEFAULT` (or nothing), `$LATEST` or a version number."""
    if raw in (None, "", "$DEFAULT"):
        return int(header.default_version)
    if raw == "$LATEST":
        return int(header.latest_version)
    if raw is None or not raw.isdigit() or int(raw) < 1:
        raise InvalidDocumentVersion(f"Document version {raw} is not valid. Specify a version number, $DEFAULT or "
                                     "$LATEST.")
    return int(raw)


def find_at(conn: Connection, location: Location, document_version: str | None = None,
            version_name: str | None = None) -> DocumentVersion:
    """A version of the document at `location`: the default unless a version or version name is given."""
    if location.owner == AMAZON:
        if location.name not in BUILT_IN:
            raise not_found(location.name)
        document = built_in(location.name, location.region)
        if (version_number(document_version, document) != 1) or version_name not in (None, ""):
            raise InvalidDocumentVersion("The document version is not valid or does not exist.")
        return document
    header = _header(conn, location)
    query = sa.select(document_versions).where(*document_key(*key_values(location),
                                                     document_versions))
    if version_name:
        query = query.where(document_versions.c.version_name == version_name)
    if document_version or not version_name:
        query = query.where(document_versions.c.version == version_number(document_version, header))
    row = conn.execute(query).first()
    if row is None:
        raise InvalidDocumentVersion("The document version is not valid or does not exist.")
    return _version(header, row)


def find(conn: Connection, scope: Scope, name_or_arn: str, document_version: str | None = None,
         version_name: str | None = None) -> DocumentVersion:
    """The document a request names, as the caller may see it: its own, Amazon's, or one shared with it."""
    location = locate(scope, name_or_arn)
    if location.owner not in (AMAZON, scope.account_id) or location.region != scope.region:
        return _shared(conn, scope, location, document_version, version_name)
    return find_at(conn, location, document_version, version_name)


def _shared(conn: Connection, scope: Scope, location: Location, document_version: str | None,
            version_name: str | None) -> DocumentVersion:
    shares = {r.shared_with: r.shared_version for r in conn.execute(
        sa.select(document_shares).where(*document_key(*key_values(location), document_shares)))}
    shared_version = shares.get(scope.account_id) or shares.get("all")
    if location.region != scope.region or shared_version is None:
        raise not_found(location.name)
    document = find_at(conn, location, document_version, version_name)
    if (shared_version == "$DEFAULT" and not document.is_default) or (
            shared_version == "$LATEST" and document.version != document.latest_version):
        raise InvalidDocumentVersion("The document version is not valid or does not exist.")
    return document


def _check_name(name: str) -> None:
    if name.lower().startswith(_RESERVED_PREFIXES):
        raise ValidationError(f"Invalid document name {name}. A document name can't start with aws, amazon or amzn "
                              "(in any case); those prefixes are reserved for documents Amazon owns.")


def _check_content(content: str, document_format: str, document_type: str) -> DocumentContent:
    if len(content.encode()) > MAX_CONTENT_BYTES:
        raise MaxDocumentSizeExceeded(f"The size limit of a document is {MAX_CONTENT_BYTES // 1024} KB.")
    if document_type not in SUPPORTED_TYPES:
        raise InvalidDocumentType(f"Document type {document_type} is not supported. OpenSSM supports "
                                  f"{', '.join(SUPPORTED_TYPES)} documents.")
    return parse_content(content, document_format, document_type)


def parse_content(content: str, document_format: str, document_type: str) -> DocumentContent:
    """A stored or submitted document read by the rules of its type."""
    if document_type == "Session":
        return session_document_content.parse(content, document_format)
    return document_content.parse(content, document_format, document_type)


def create(conn: Connection, scope: Scope, spec: NewDocument) -> DocumentVersion:
    """CreateDocument: version 1, the default and the latest."""
    _check_name(spec.name)
    _check_content(spec.content, spec.document_format, spec.document_type)
    key = document_key(scope.account_id, scope.region, spec.name)
    if conn.execute(sa.select(documents.c.name).where(*key)).first() is not None:
        raise DocumentAlreadyExists("The specified document already exists.")
    count = conn.execute(sa.select(sa.func.count()).select_from(documents).where(
        documents.c.account_id == scope.account_id, documents.c.region == scope.region)).scalar_one()
    if count >= MAX_DOCUMENTS:
        raise DocumentLimitExceeded(f"You can have at most {MAX_DOCUMENTS} documents in a Region. Delete documents "
                                    "you no longer need and try again.")
    conn.execute(sa.insert(documents).values(
        account_id=scope.account_id, region=scope.region, name=spec.name, document_type=spec.document_type,
        target_type=spec.target_type, created_at=scope.now, default_version=1, latest_version=1))
    _insert_version(conn, scope, spec.name, 1, spec.content, spec.document_format, spec.version_name,
                    spec.display_name)
    return find_at(conn, Location(scope.account_id, scope.region, spec.name), "1")


def _insert_version(conn: Connection, scope: Scope, name: str, version: int, content: str, document_format: str,
                    version_name: str | None, display_name: str) -> None:
    conn.execute(sa.insert(document_versions).values(
        account_id=scope.account_id, region=scope.region, name=name, version=version, version_name=version_name or None,
        display_name=display_name, document_format=document_format, content=content,
        content_hash=document_content.sha256(content), created_at=scope.now))


def update(conn: Connection, scope: Scope, change: DocumentChange) -> DocumentVersion:
    """UpdateDocument: a new latest version (the default stays where it was)."""
    location = Location(scope.account_id, scope.region, change.name)
    header = _header(conn, location)
    if version_number(change.document_version or "$LATEST", header) != header.latest_version:
        raise InvalidDocumentVersion("The document version is not valid or does not exist. Only the latest version "
                                     f"({header.latest_version}) can be updated.")
    _check_content(change.content, change.document_format, header.document_type)
    existing = conn.execute(sa.select(document_versions.c.version, document_versions.c.version_name,
                                      document_versions.c.content_hash, document_versions.c.display_name)
                            .where(*document_key(*key_values(location), document_versions))).all()
    if len(existing) >= MAX_VERSIONS:
        raise DocumentVersionLimitExceeded(f"The document has reached the maximum of {MAX_VERSIONS} versions. Delete "
                                           "versions you no longer need and try again.")
    if change.version_name and any(r.version_name == change.version_name for r in existing):
        raise DuplicateDocumentVersionName("The specified version name is a duplicate.")
    if any(r.content_hash == document_content.sha256(change.content) for r in existing):
        raise DuplicateDocumentContent("The content of the association document matches another document. Change "
                                       "the content of the document and try again.")
    version = int(header.latest_version) + 1
    latest_display = next(r.display_name for r in existing if r.version == header.latest_version)
    display_name = latest_display if change.display_name is None else change.display_name
    _insert_version(conn, scope, change.name, version, change.content, change.document_format,
                    change.version_name, display_name)
    values: dict[str, Any] = {"latest_version": version}
    if change.target_type is not None:
        values["target_type"] = change.target_type
    conn.execute(sa.update(documents).where(*document_key(*key_values(location))).values(values))
    return find_at(conn, location, str(version))


def set_default(conn: Connection, scope: Scope, name: str, document_version: str) -> DocumentVersion:
    """UpdateDocumentDefaultVersion."""
    location = Location(scope.account_id, scope.region, name)
    chosen = find_at(conn, location, document_version)
    conn.execute(sa.update(documents).where(*document_key(location.owner, location.region, name))
                 .values(default_version=chosen.version))
    return find_at(conn, location, str(chosen.version))


def delete(conn: Connection, scope: Scope, name: str, document_version: str | None = None,
           version_name: str | None = None) -> None:
    """DeleteDocument: the whole document, or one version that is not the default."""
    location = locate(scope, name)
    if location.owner != scope.account_id:
        raise InvalidDocumentOperation(f"Document {name} is not owned by account {scope.account_id}; only its "
                                       "owner can delete it.")
    header = _header(conn, location)
    key = document_key(*key_values(location))
    if not document_version and not version_name:
        if conn.execute(sa.select(document_shares.c.shared_with).where(
                *document_key(*key_values(location), document_shares))).first() is not None:
            raise InvalidDocumentOperation("You attempted to delete a document while it is still shared. You must "
                                           "stop sharing the document before you can delete it.")
        conn.execute(sa.delete(documents).where(*key))
        ResourceTagStore().drop(conn, location.owner, location.region, "Document", location.name)
        return
    doomed = find_at(conn, location, document_version, version_name)
    if doomed.version == header.default_version:
        raise InvalidDocumentOperation("Default version of the document can't be deleted.")
    conn.execute(sa.delete(document_versions).where(*document_key(*key_values(location), document_versions),
                                                    document_versions.c.version == doomed.version))
    if doomed.version == header.latest_version:
        latest = conn.execute(sa.select(sa.func.max(document_versions.c.version)).where(
            *document_key(*key_values(location), document_versions))).scalar_one()
        conn.execute(sa.update(documents).where(*key).values(latest_version=latest))


def key_values(location: Location) -> tuple[str, str, str]:
    return location.owner, location.region, location.name


def versions(conn: Connection, scope: Scope, name: str) -> list[DocumentVersion]:
    """ListDocumentVersions, oldest first."""
    location = locate(scope, name)
    if location.owner == AMAZON:
        return [find_at(conn, location)]
    if location.owner != scope.account_id:
        find(conn, scope, name)  # refuses a document not shared with the caller
    header = _header(conn, location)
    rows = conn.execute(sa.select(document_versions).where(*document_key(*key_values(location), document_versions))
                        .order_by(document_versions.c.version)).all()
    return [_version(header, r) for r in rows]


def default_versions(conn: Connection, scope: Scope) -> list[DocumentVersion]:
    """The default version of every document the caller can see: Amazon's, its own, and those shared with it."""
    found = [built_in(name, scope.region) for name in BUILT_IN]
    shared = sa.select(document_shares.c.account_id, document_shares.c.name).where(
        document_shares.c.region == scope.region, document_shares.c.shared_with.in_([scope.account_id, "all"]))
    visible = sa.or_(documents.c.account_id == scope.account_id,
                     sa.tuple_(documents.c.account_id, documents.c.name).in_(shared))
    v = document_versions.c
    rows = conn.execute(sa.select(documents.c.account_id, documents.c.region, documents.c.name,
                                  documents.c.document_type, documents.c.target_type, documents.c.default_version,
                                  documents.c.latest_version, v.version, v.version_name, v.display_name,
                                  v.document_format, v.content, v.content_hash, v.created_at).join(
        document_versions, sa.and_(
        document_versions.c.account_id == documents.c.account_id, document_versions.c.region == documents.c.region,
        document_versions.c.name == documents.c.name, document_versions.c.version == documents.c.default_version))
        .where(documents.c.region == scope.region, visible).order_by(documents.c.name)).all()
    found.extend(_version(r, r) for r in rows)
    return found


def owned(conn: Connection, scope: Scope, name: str) -> Location:
    """The caller's own document `name` (which must exist)."""
    location = Location(scope.account_id, scope.region, name)
    _header(conn, location)
    return location



class DocumentTagTarget:
    """Makes documents taggable (AddTagsToResource with ResourceType Document, by name)."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        if conn.execute(sa.select(documents.c.name).where(
                *document_key(scope.account_id, scope.region, resource_id))).first() is None:
            raise unknown_resource()
        return resource_id

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return f"arn:aws:ssm:{scope.region}:{scope.account_id}:document/{resource_id}"
