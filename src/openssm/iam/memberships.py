"""Two-way links between IAM entities: users in groups, roles in instance profiles (names stored lower-case)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, Connection, Table, delete, insert, select

from openssm.store.tables.iam import iam_group_members, iam_profile_roles


@dataclass(frozen=True)
class Relation:
    table: Table
    parent: str
    child: str

    def _col(self, name: str) -> Column[str]:
        return self.table.c[name]

    def children(self, conn: Connection, account_id: str, parent: str) -> list[str]:
        rows = conn.execute(select(self._col(self.child)).where(
            self.table.c.account_id == account_id, self._col(self.parent) == parent.lower()))
        return [r[0] for r in rows]

    def parents(self, conn: Connection, account_id: str, child: str) -> list[str]:
        rows = conn.execute(select(self._col(self.parent)).where(
            self.table.c.account_id == account_id, self._col(self.child) == child.lower()))
        return [r[0] for r in rows]

    def link(self, conn: Connection, account_id: str, parent: str, child: str) -> None:
        if child.lower() not in self.children(conn, account_id, parent):
            conn.execute(insert(self.table).values(
                {"account_id": account_id, self.parent: parent.lower(), self.child: child.lower()}))

    def unlink(self, conn: Connection, account_id: str, parent: str, child: str) -> bool:
        gone = conn.execute(delete(self.table).where(
            self.table.c.account_id == account_id, self._col(self.parent) == parent.lower(),
            self._col(self.child) == child.lower())).rowcount
        return bool(gone)


GROUP_MEMBERS = Relation(iam_group_members, "group_lower", "user_lower")
PROFILE_ROLES = Relation(iam_profile_roles, "profile_lower", "role_lower")
