"""Accounts: creating and finding the namespaces that hold every other resource."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from openssm.store.tables.accounts import accounts
from openssm.types import AccountId


@dataclass(frozen=True)
class Account:
    account_id: AccountId
    name: str
    email: str
    created_at: dt.datetime
    status: str


def _row_to_account(row: object) -> Account:
    r = row._mapping  # type: ignore[attr-defined]
    return Account(AccountId(r["account_id"]), r["name"], r["email"], r["created_at"], r["status"])


def get_account(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(select(accounts).where(accounts.c.account_id == account_id)).first()
    return _row_to_account(row) if row else None


def list_accounts(conn: Connection) -> list[Account]:
    return [_row_to_account(r) for r in conn.execute(select(accounts).order_by(accounts.c.created_at))]


def new_account_id(conn: Connection) -> AccountId:
    while True:
        candidate = AccountId(f"{secrets.randbelow(10**12):012d}")
        if candidate[0] != "0" and get_account(conn, candidate) is None:
            return candidate


def create_account(conn: Connection, name: str, email: str, now: dt.datetime,
                   account_id: AccountId | None = None) -> Account:
    account = Account(account_id or new_account_id(conn), name, email, now, "ACTIVE")
    conn.execute(insert(accounts).values(
        account_id=account.account_id, name=name, email=email, created_at=now, status=account.status))
    return account
