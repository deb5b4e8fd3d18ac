"""Sharing a document with other accounts, or with everyone (DescribeDocumentPermission,
ModifyDocumentPermission). A shared document is used by its ARN from the accounts it is shared with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import AwsError, ValidationError
from openssm.services import documents
from openssm.services.parameter_model import Scope
from openssm.store.tables.documents import document_shares

MAX_ACCOUNTS = 1000
PUBLIC = "all"
_ACCOUNT = re.compile(r"^(?i:all)$|^[0-9]{12}$")
_SHARED_VERSION = re.compile(r"^([$]LATEST|[$]DEFAULT|[$]ALL)$")


class DocumentPermissionLimit(AwsError):
    code = "DocumentPermissionLimit"


@dataclass(frozen=True)
class Share:
    account_id: str  # or "all"
    shared_version: str


def describe(conn: Connection, scope: Scope, name: str) -> list[Share]:
    """Who the caller's document is shared with, in the order it was shared. (PermissionType has one value,
    Share, which the service model's enum already enforces.)"""
    location = documents.owned(conn, scope, name)
    rows = conn.execute(sa.select(document_shares).where(
        *documents.document_key(*documents.key_values(location), document_shares))
        .order_by(document_shares.c.created_at, document_shares.c.shared_with))
    return [Share(r.shared_with, r.shared_version) for r in rows]


def _accounts(values: Sequence[str], member: str) -> list[str]:
    for account in values:
        if not _ACCOUNT.match(account):
            raise ValidationError(f"Value '[{account}]' at '{member}' failed to satisfy constraint: Member must "
                                  "satisfy regular expression pattern: (?i)all|[0-9]{12}.")
    accounts = [a.lower() for a in values]
    if PUBLIC in accounts and len(accounts) > 1:
        raise DocumentPermissionLimit("Accounts can either be all or a group of AWS accounts")
    return accounts


def modify(conn: Connection, scope: Scope, name: str, to_add: Sequence[str], to_remove: Sequence[str],
           shared_version: str | None) -> None:
    """Share with (or stop sharing with) accounts, or everyone ("all"); sharing publicly replaces the list."""
    adding, removing = _accounts(to_add, "accountIdsToAdd"), _accounts(to_remove, "accountIdsToRemove")
    version = shared_version or "$DEFAULT"
    if not _SHARED_VERSION.match(version):
        raise ValidationError(f"Value '{version}' at 'sharedDocumentVersion' failed to satisfy constraint: Member "
                              "must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|[$]ALL).")
    location = documents.owned(conn, scope, name)
    key = documents.document_key(*documents.key_values(location), document_shares)
    if set(adding) & set(removing):
        raise ValidationError("The same account can't be both added and removed.")
    if removing:
        conn.execute(sa.delete(document_shares).where(*key, document_shares.c.shared_with.in_(removing)))
    if not adding:
        return
    if PUBLIC in adding:
        conn.execute(sa.delete(document_shares).where(*key))
    else:
        conn.execute(sa.delete(document_shares).where(*key, document_shares.c.shared_with.in_([PUBLIC, *adding])))
    current = conn.execute(sa.select(sa.func.count()).select_from(document_shares).where(*key)).scalar_one()
    if current + len(adding) > MAX_ACCOUNTS:
        raise DocumentPermissionLimit(f"A document can be shared with at most {MAX_ACCOUNTS} accounts.")
    conn.execute(sa.insert(document_shares), [dict(
        account_id=location.owner, region=location.region, name=location.name, shared_with=account,
        shared_version=version, created_at=scope.now) for account in dict.fromkeys(adding)])
