"""CompiledSelect runs a Core SELECT on the driver connection and must answer exactly what
`conn.execute` answers, types included, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, create_engine, insert, select
from sqlalchemy.engine import Engine

from openssm.store.compiled import CompiledSelect
from openssm.store.metadata import UtcDateTime

PG_ADMIN_URL = os.environ.get("OPENSSM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
WHEN = dt.datetime(2026, 11, 22, 14, 0, 5, 123456, tzinfo=dt.UTC)

meta = MetaData()
things = Table("compiled_things", meta, Column("id", Integer, primary_key=True), Column("name", String(20)),
               Column("seen", UtcDateTime(), nullable=True))
BY_NAME = select(things.c.id, things.c.name, things.c.seen).where(
    things.c.name == bindparam("name"), things.c.seen > bindparam("after")).order_by(things.c.id)


def _filled(engine: Engine) -> Engine:
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(things), [dict(id=1, name="a", seen=WHEN), dict(id=2, name="a", seen=WHEN),
                                      dict(id=3, name="b", seen=None)])
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield _filled(create_engine("sqlite://"))
        return
    name = "compiled_" + uuid.uuid4().hex[:8]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    engine = create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + "/" + name)
    try:
        yield _filled(engine)
    finally:
        engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name}")


def test_rows_and_types_match_what_sqlalchemy_returns(engine: Engine) -> None:
    params = {"name": "a", "after": WHEN - dt.timedelta(seconds=1)}
    with engine.connect() as conn:
        expected = [tuple(r) for r in conn.execute(BY_NAME, params)]
        got = CompiledSelect(BY_NAME).all(conn, params)
    assert [tuple(r) for r in got] == expected == [(1, "a", WHEN), (2, "a", WHEN)]
    assert got[0].seen.tzinfo is not None and got[0].name == "a"


def test_first_is_the_first_row_or_none(engine: Engine) -> None:
    query = CompiledSelect(BY_NAME)
    with engine.connect() as conn:
        first = query.first(conn, {"name": "a", "after": WHEN - dt.timedelta(days=1)})
        none = query.first(conn, {"name": "a", "after": WHEN})
    assert first is not None and first.id == 1
    assert none is None


def test_a_naive_datetime_is_refused_as_the_column_type_refuses_it(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(ValueError, match="naive"):
        CompiledSelect(BY_NAME).first(conn, {"name": "a", "after": WHEN.replace(tzinfo=None)})
