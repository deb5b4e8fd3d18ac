"""The organization's tree: the root, organizational units nested up to five deep, and member accounts
placed under them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, delete, insert, select, update

from openssm.iam import accounts
from openssm.iam import organization_errors as errors
from openssm.iam.org_model import Organization, TargetType, random_id
from openssm.store.tables.organizations import org_accounts, org_units

MAX_OU_DEPTH = 5


class JoinedMethod(StrEnum):
    INVITED = "INVITED"
    CREATED = "CREATED"


@dataclass(frozen=True)
class OrgUnit:
    unit_id: str
    name: str
    parent_id: str | None


@dataclass(frozen=True)
class Member:
    account_id: str
    parent_id: str
    joined_method: JoinedMethod
    joined_at: dt.datetime


def _unit(conn: Connection, org: Organization, unit_id: str) -> OrgUnit | None:
    row = conn.execute(select(org_units).where(org_units.c.org_id == org.org_id,
                                               org_units.c.unit_id == unit_id)).first()
    return OrgUnit(row.unit_id, row.name, row.parent_id) if row else None


def _member(row: object) -> Member:
    m = row._mapping  # type: ignore[attr-defined]
    return Member(m["account_id"], m["parent_id"], JoinedMethod(m["joined_method"]), m["joined_at"])


def node_exists(conn: Connection, org: Organization, node_id: str) -> bool:
    """Whether `node_id` is the root or an OU of this organization (a parent an account can sit under)."""
    return _unit(conn, org, node_id) is not None


def node_ids(conn: Connection, org: Organization) -> list[str]:
    """The root and every OU."""
    rows = conn.execute(select(org_units.c.unit_id).where(org_units.c.org_id == org.org_id))
    return [r[0] for r in rows]


def member(conn: Connection, org: Organization, account_id: str) -> Member | None:
    row = conn.execute(select(org_accounts).where(org_accounts.c.org_id == org.org_id,
                                                  org_accounts.c.account_id == account_id)).first()
    return _member(row) if row else None


def target_exists(conn: Connection, org: Organization, target_id: str) -> bool:
    return node_exists(conn, org, target_id) or member(conn, org, target_id) is not None


def target_name(conn: Connection, org: Organization, target_id: str) -> str:
    """How ListTargetsForPolicy names a target: "Root", the OU's name, or the account's name."""
    kind = org.target_type(target_id)
    if kind is TargetType.ROOT:
        return "Root"
    if kind is TargetType.ORGANIZATIONAL_UNIT:
        return get_ou(conn, org, target_id).name
    account = accounts.get_account(conn, target_id)
    return account.name if account else target_id


def parent_of(conn: Connection, org: Organization, child_id: str) -> str:
    found = member(conn, org, child_id)
    if found is not None:
        return found.parent_id
    unit = _unit(conn, org, child_id)
    if unit is None or unit.parent_id is None:
        raise errors.ChildNotFound()
    return unit.parent_id


def path_from_root(conn: Connection, org: Organization, node_id: str) -> list[str]:
    """The ids from the root down to `node_id` (an OU or a member account), both ends included."""
    path = [node_id]
    while path[-1] != org.root_id:
        path.append(parent_of(conn, org, path[-1]))
    return path[::-1]


def child_units(conn: Connection, org: Organization, parent_id: str) -> list[OrgUnit]:
    if not node_exists(conn, org, parent_id):
        raise errors.ParentNotFound()
    rows = conn.execute(select(org_units).where(org_units.c.org_id == org.org_id, org_units.c.parent_id == parent_id)
                        .order_by(org_units.c.name))
    return [OrgUnit(r.unit_id, r.name, r.parent_id) for r in rows]


def members(conn: Connection, org: Organization, parent_id: str | None = None) -> list[Member]:
    """Member accounts, in the order they joined; only those directly under `parent_id` when given."""
    query = select(org_accounts).where(org_accounts.c.org_id == org.org_id)
    if parent_id is not None:
        if not node_exists(conn, org, parent_id):
            raise errors.ParentNotFound()
        query = query.where(org_accounts.c.parent_id == parent_id)
    return [_member(r) for r in conn.execute(query.order_by(org_accounts.c.joined_at, org_accounts.c.account_id))]


def add_root(conn: Connection, org_id: str, root_id: str) -> None:
    conn.execute(insert(org_units).values(unit_id=root_id, org_id=org_id, parent_id=None, name="Root"))


def add_member(conn: Connection, org_id: str, parent_id: str, account_id: str, method: JoinedMethod,
               now: dt.datetime) -> None:
    conn.execute(insert(org_accounts).values(account_id=account_id, org_id=org_id, parent_id=parent_id,
                                             joined_method=method.value, joined_at=now))


def drop_tree(conn: Connection, org: Organization) -> None:
    """Forget the root, the OUs and every membership (deleting the organization)."""
    for table in (org_accounts, org_units):
        conn.execute(delete(table).where(table.c.org_id == org.org_id))


def remove_member(conn: Connection, org: Organization, account_id: str) -> None:
    conn.execute(delete(org_accounts).where(org_accounts.c.org_id == org.org_id,
                                            org_accounts.c.account_id == account_id))


def create_ou(conn: Connection, org: Organization, parent_id: str, name: str) -> OrgUnit:
    siblings = child_units(conn, org, parent_id)
    if any(unit.name == name for unit in siblings):
        raise errors.DuplicateOu()
    if len(path_from_root(conn, org, parent_id)) > MAX_OU_DEPTH:
        raise errors.ConstraintViolation("You attempted to create an OU tree that is too many levels deep.")
    unit = OrgUnit(f"ou-{org.root_id.removeprefix('r-')}-{random_id(8)}", name, parent_id)
    conn.execute(insert(org_units).values(unit_id=unit.unit_id, org_id=org.org_id, parent_id=parent_id, name=name))
    return unit


def get_ou(conn: Connection, org: Organization, unit_id: str) -> OrgUnit:
    unit = _unit(conn, org, unit_id)
    if unit is None or unit.parent_id is None:
        raise errors.OuNotFound()
    return unit


def rename_ou(conn: Connection, org: Organization, unit_id: str, name: str) -> OrgUnit:
    unit = get_ou(conn, org, unit_id)
    if name != unit.name and any(u.name == name for u in child_units(conn, org, unit.parent_id or org.root_id)):
        raise errors.DuplicateOu()
    conn.execute(update(org_units).where(org_units.c.org_id == org.org_id, org_units.c.unit_id == unit_id)
                 .values(name=name))
    return get_ou(conn, org, unit_id)


def delete_ou(conn: Connection, org: Organization, unit_id: str) -> None:
    get_ou(conn, org, unit_id)
    if child_units(conn, org, unit_id) or members(conn, org, unit_id):
        raise errors.OuNotEmpty()
    conn.execute(delete(org_units).where(org_units.c.org_id == org.org_id, org_units.c.unit_id == unit_id))


def move_account(conn: Connection, org: Organization, account_id: str, source_id: str, destination_id: str) -> None:
    """MoveAccount with AWS's checks, in AWS's order."""
    found = member(conn, org, account_id)
    if found is None:
        raise errors.AccountNotFound()
    if not node_exists(conn, org, source_id) or found.parent_id != source_id:
        raise errors.SourceParentNotFound()
    if not node_exists(conn, org, destination_id):
        raise errors.DestinationParentNotFound()
    if destination_id == source_id:
        raise errors.DuplicateAccount()
    conn.execute(update(org_accounts).where(org_accounts.c.org_id == org.org_id,
                                            org_accounts.c.account_id == account_id).values(parent_id=destination_id))
