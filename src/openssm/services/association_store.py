"""Reading associations back from the store: one association (by id, or a legacy one by document and node),
all of an account's, the settings of any version, and the Overview each shows (its nodes' statuses)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.services.association_model import (
    Association,
    AssociationDoesNotExist,
    AssociationSpec,
    InvalidAssociationVersion,
    Overview,
)
from openssm.store.tables.associations import (
    association_executions,
    association_versions,
    associations,
    instance_statuses,
)


def row(conn: Connection, account_id: str, region: str, association_id: str) -> sa.Row[tuple[object, ...]]:
    c = associations.c
    found = conn.execute(sa.select(associations).where(
        c.association_id == association_id, c.account_id == account_id, c.region == region)).first()
    if found is None:
        raise AssociationDoesNotExist()
    return found


def legacy_id(conn: Connection, account_id: str, region: str, name: str, instance_id: str) -> str:
    """The association of a document with one node made by CreateAssociation's InstanceId."""
    c = associations.c
    found = conn.execute(sa.select(c.association_id).where(
        c.account_id == account_id, c.region == region, c.name == name, c.instance_id == instance_id)).first()
    if found is None:
        raise AssociationDoesNotExist()
    return str(found.association_id)


def spec_of(conn: Connection, association_id: str, version: int) -> AssociationSpec:
    c = association_versions.c
    found = conn.execute(sa.select(c.spec).where(c.association_id == association_id,
                                                 c.association_version == version)).first()
    if found is None:
        raise InvalidAssociationVersion(f"Association version {version} does not exist for association "
                                        f"{association_id}. Use ListAssociationVersions to see its versions.")
    return AssociationSpec.from_json(found.spec)


def specs_of(conn: Connection, versions: Sequence[tuple[str, int]]) -> dict[tuple[str, int], AssociationSpec]:
    """The settings of several (association, version) pairs in one read per 500; a pair that names no
    version is missing from the answer."""
    c = association_versions.c
    found: dict[tuple[str, int], AssociationSpec] = {}
    for at in range(0, len(versions), 500):
        for r in conn.execute(sa.select(c.association_id, c.association_version, c.spec).where(
                sa.tuple_(c.association_id, c.association_version).in_(list(versions[at:at + 500])))):
            found[(str(r.association_id), int(r.association_version))] = AssociationSpec.from_json(r.spec)
    return found


def overview(counts: Mapping[str, int], executed: bool) -> Overview:
    """Failed while any node failed, Pending while any has not finished, Success once all succeeded; a new
    association whose first run has not started is Pending/Creating (AWS's words)."""
    if counts.get("Failed"):
        status = detailed = "Failed"
    elif counts.get("Pending") or counts.get("InProgress") or not counts:
        status = "Pending"
        detailed = "InProgress" if counts.get("InProgress") else "Pending" if executed else "Creating"
    else:
        status = detailed = "Success"
    return Overview(status, detailed, dict(counts))


def node_counts(conn: Connection, association_ids: Sequence[str]) -> dict[str, Counter[str]]:
    """Each association's nodes by status, in one grouped read."""
    c = instance_statuses.c
    counts: dict[str, Counter[str]] = {}
    for at in range(0, len(association_ids), 500):
        for r in conn.execute(sa.select(c.association_id, c.status, sa.func.count()).where(
                c.association_id.in_(list(association_ids[at:at + 500]))).group_by(c.association_id, c.status)):
            counts.setdefault(r[0], Counter())[r[1]] = int(r[2])
    return counts


def _executed(conn: Connection, association_ids: Sequence[str]) -> set[str]:
    c = association_executions.c
    found: set[str] = set()
    for at in range(0, len(association_ids), 500):
        found |= {r[0] for r in conn.execute(sa.select(c.association_id).where(
            c.association_id.in_(list(association_ids[at:at + 500]))).distinct())}
    return found


def describe(conn: Connection, rows: Sequence[sa.Row[tuple[object, ...]]],
             versions: Mapping[str, int] | None = None) -> list[Association]:
    """The associations of `rows` as the API shows them: their current version (or the one asked for in
    `versions`) and Overview."""
    ids = [str(r.association_id) for r in rows]
    counts, executed = node_counts(conn, ids), _executed(conn, ids)
    chosen = [(str(r.association_id), (versions or {}).get(str(r.association_id), int(str(r.association_version))))
              for r in rows]
    specs = specs_of(conn, chosen)
    out = []
    for r, (association_id, version) in zip(rows, chosen, strict=True):
        spec = specs.get((association_id, version))
        if spec is None:
            spec = spec_of(conn, association_id, version)  # raises InvalidAssociationVersion
        out.append(Association(
            association_id, str(r.account_id), str(r.region), version,
            spec, r.created_at, r.updated_at,
            r.last_execution_at, r.last_successful_at,
            overview(counts.get(str(r.association_id), Counter()), str(r.association_id) in executed)))
    return out


def of_account(conn: Connection, account_id: str, region: str) -> list[sa.Row[tuple[object, ...]]]:
    c = associations.c
    return list(conn.execute(sa.select(associations).where(c.account_id == account_id, c.region == region)
                             .order_by(c.created_at, c.association_id)))


def count(conn: Connection, account_id: str, region: str) -> int:
    c = associations.c
    return int(conn.execute(sa.select(sa.func.count()).select_from(associations).where(
        c.account_id == account_id, c.region == region)).scalar_one())
