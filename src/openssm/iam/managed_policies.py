"""Managed policies: customer managed ones with up to five versions, and AWS's own, bundled as data."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import Connection, delete, func, insert, select, update

from openssm.iam.errors import DeleteConflict, EntityAlreadyExists, InvalidInput, LimitExceeded, NoSuchEntity
from openssm.iam.ids import IdPrefix, unique_id
from openssm.iam.policy import PolicyKind, parse_policy
from openssm.store.tables.iam import iam_attachments, iam_policies, iam_policy_versions

MAX_VERSIONS = 5
MAX_MANAGED_POLICY_SIZE = 6144
AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class ManagedPolicy:
    arn: str
    name: str
    path: str
    policy_id: str
    default_version: str
    description: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    attachment_count: int = 0

    @property
    def aws_managed(self) -> bool:
        return self.arn.startswith(AWS_POLICY_PREFIX + "/")


@dataclass(frozen=True)
class PolicyVersion:
    version_id: str
    document: str
    is_default: bool
    created_at: dt.datetime


def _aws_policy_id(name: str) -> str:
    """A stable id in IAM's format; AWS's real ids are not published with the documents."""
    digest = base64.b32encode(hashlib.sha256(name.encode()).digest()).decode()
    return IdPrefix.POLICY + digest[:17]


@cache
def _aws_policies() -> dict[str, tuple[ManagedPolicy, str]]:
    """AWS managed policies as published (document, path, default version, dates), one data file each."""
    table = {}
    folder = resources.files("openssm.iam.data").joinpath("aws_managed_policies")
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if not item.name.endswith(".json"):
            continue
        entry = json.loads(item.read_text())
        name, path = entry["PolicyName"], entry["Path"]
        policy = ManagedPolicy(f"{AWS_POLICY_PREFIX}{path}{name}", name, path, _aws_policy_id(name),
                               entry["DefaultVersionId"], entry["Description"],
                               dt.datetime.fromisoformat(entry["CreateDate"]),
                               dt.datetime.fromisoformat(entry["UpdateDate"]))
        table[policy.arn] = (policy, json.dumps(entry["Document"], indent=4))
    return table


def validate_document(document: str, max_size: int) -> None:
    parse_policy(document, PolicyKind.IDENTITY)
    if len(re.sub(r"\s", "", document)) > max_size:
        raise LimitExceeded(f"Cannot exceed quota for PolicySize: {max_size}")


def _not_found(arn: str) -> NoSuchEntity:
    return NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")


def _from_row(row: object, attachments: int = 0) -> ManagedPolicy:
    r = row._mapping  # type: ignore[attr-defined]
    return ManagedPolicy(r["arn"], r["name"], r["path"], r["policy_id"], r["default_version"], r["description"],
                         r["created_at"], r["updated_at"], attachments)


def attachment_count(conn: Connection, arn: str, account_id: str | None = None) -> int:
    query = select(func.count()).select_from(iam_attachments).where(iam_attachments.c.policy_arn == arn)
    if account_id is not None:
        query = query.where(iam_attachments.c.account_id == account_id)
    return int(conn.execute(query).scalar_one())


def find_policy(conn: Connection, arn: str, account_id: str | None = None) -> ManagedPolicy | None:
    if arn in _aws_policies():
        policy = _aws_policies()[arn][0]
        return ManagedPolicy(**{**policy.__dict__, "attachment_count": attachment_count(conn, arn, account_id)})
    row = conn.execute(select(iam_policies).where(iam_policies.c.arn == arn)).first()
    return _from_row(row, attachment_count(conn, arn)) if row else None


def get_policy(conn: Connection, arn: str, account_id: str | None = None) -> ManagedPolicy:
    policy = find_policy(conn, arn, account_id)
    if policy is None:
        raise _not_found(arn)
    return policy


def create_policy(conn: Connection, account_id: str, name: str, path: str, document: str,
                  description: str | None, now: dt.datetime) -> ManagedPolicy:
    validate_document(document, MAX_MANAGED_POLICY_SIZE)
    arn = f"arn:aws:iam::{account_id}:policy{path}{name}"
    exists = conn.execute(select(iam_policies.c.arn).where(
        iam_policies.c.account_id == account_id, func.lower(iam_policies.c.name) == name.lower())).first()
    if exists:
        raise EntityAlreadyExists(f"A policy called {name} already exists. Duplicate names are not allowed.")
    conn.execute(insert(iam_policies).values(
        arn=arn, account_id=account_id, name=name, path=path, policy_id=unique_id(IdPrefix.POLICY),
        description=description, default_version="v1", next_version=2, created_at=now, updated_at=now))
    conn.execute(insert(iam_policy_versions).values(policy_arn=arn, version_id="v1", document=document,
                                                    created_at=now))
    return get_policy(conn, arn)


def _customer_policy(conn: Connection, arn: str) -> ManagedPolicy:
    policy = get_policy(conn, arn)
    if policy.aws_managed:
        raise InvalidInput(f"Policy {arn} is an AWS managed policy and cannot be modified.")
    return policy


def list_policies(conn: Connection, account_id: str, scope: str = "All", only_attached: bool = False,
                  path_prefix: str = "/") -> list[ManagedPolicy]:
    found: list[ManagedPolicy] = []
    if scope in ("All", "AWS"):
        found += [p for p in (find_policy(conn, arn, account_id) for arn in _aws_policies()) if p is not None]
    if scope in ("All", "Local"):
        rows = conn.execute(select(iam_policies).where(iam_policies.c.account_id == account_id))
        found += [_from_row(r, attachment_count(conn, r.arn)) for r in rows]
    found = [p for p in found if p.path.startswith(path_prefix) and (p.attachment_count or not only_attached)]
    return sorted(found, key=lambda p: p.name.lower())


def versions(conn: Connection, arn: str) -> list[PolicyVersion]:
    policy = get_policy(conn, arn)
    if policy.aws_managed:
        return [PolicyVersion(policy.default_version, _aws_policies()[arn][1], True, policy.updated_at)]
    rows = conn.execute(select(iam_policy_versions).where(iam_policy_versions.c.policy_arn == arn)
                        .order_by(iam_policy_versions.c.created_at.desc()))
    return [PolicyVersion(r.version_id, r.document, r.version_id == policy.default_version, r.created_at)
            for r in rows]


def get_version(conn: Connection, arn: str, version_id: str) -> PolicyVersion:
    for version in versions(conn, arn):
        if version.version_id == version_id:
            return version
    raise NoSuchEntity(f"Policy {arn} version {version_id} does not exist or is not attachable.")


def default_document(conn: Connection, arn: str) -> str | None:
    """The default version's document, or None when no such policy exists."""
    if arn in _aws_policies():
        return _aws_policies()[arn][1]
    row = conn.execute(select(iam_policy_versions.c.document).join(
        iam_policies, iam_policies.c.arn == iam_policy_versions.c.policy_arn).where(
        iam_policies.c.arn == arn, iam_policy_versions.c.version_id == iam_policies.c.default_version)).first()
    return row[0] if row else None


def create_version(conn: Connection, arn: str, document: str, set_default: bool, now: dt.datetime) -> PolicyVersion:
    policy = _customer_policy(conn, arn)
    validate_document(document, MAX_MANAGED_POLICY_SIZE)
    if len(versions(conn, arn)) >= MAX_VERSIONS:
        raise LimitExceeded("A managed policy can have up to 5 versions. Before you create a new version, you must "
                            "delete an existing version.")
    next_number = conn.execute(select(iam_policies.c.next_version).where(iam_policies.c.arn == arn)).scalar_one()
    version_id = f"v{next_number}"
    conn.execute(insert(iam_policy_versions).values(policy_arn=arn, version_id=version_id, document=document,
                                                    created_at=now))
    changes: dict[str, object] = {"next_version": next_number + 1, "updated_at": now}
    if set_default:
        changes["default_version"] = version_id
    conn.execute(update(iam_policies).where(iam_policies.c.arn == policy.arn).values(**changes))
    return get_version(conn, arn, version_id)


def set_default_version(conn: Connection, arn: str, version_id: str, now: dt.datetime) -> None:
    _customer_policy(conn, arn)
    get_version(conn, arn, version_id)
    conn.execute(update(iam_policies).where(iam_policies.c.arn == arn).values(default_version=version_id,
                                                                              updated_at=now))


def delete_version(conn: Connection, arn: str, version_id: str) -> None:
    policy = _customer_policy(conn, arn)
    get_version(conn, arn, version_id)
    if version_id == policy.default_version:
        raise DeleteConflict("Cannot delete the default version of a policy.")
    conn.execute(delete(iam_policy_versions).where(iam_policy_versions.c.policy_arn == arn,
                                                   iam_policy_versions.c.version_id == version_id))


def delete_policy(conn: Connection, arn: str) -> None:
    policy = _customer_policy(conn, arn)
    if policy.attachment_count:
        raise DeleteConflict("Cannot delete a policy attached to entities.")
    if len(versions(conn, arn)) > 1:
        raise DeleteConflict("This policy has more than one version. Before you delete a policy, you must delete "
                             "the policy's versions. The default version is deleted with the policy.")
    conn.execute(delete(iam_policy_versions).where(iam_policy_versions.c.policy_arn == arn))
    conn.execute(delete(iam_policies).where(iam_policies.c.arn == arn))
