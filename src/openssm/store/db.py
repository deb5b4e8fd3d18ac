"""Opening the database: engine set-up for SQLite (WAL) and PostgreSQL, and migrations on start."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

from openssm.store import tables  # noqa: F401  (registers every table with the metadata)
from openssm.store.migrations.runner import upgrade_to_head


class Database:
    """A handle on the store: `begin()` yields a connection inside one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A read-write transaction (on SQLite it takes the write lock up front).

        On SQLite, the threads of one process queue on a lock of their own before asking for the database's:
        SQLite's busy handler waits by sleeping in growing steps (up to 100 ms each), which under many
        concurrent writers (a thousand control channels) costs far more than the writes themselves.
        """
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: on SQLite it does not queue behind writers.

        The transaction begins lazily with the first SQLAlchemy statement and is rolled back on return; a
        lone CompiledSelect (store/compiled.py) runs as a single atomic statement and never pays for it.
        """
        with self.engine.connect().execution_options(openssm_read_only=True) as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'openssm.db'}"


def _tune_sqlite(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; busy_timeout turns writer contention into waiting.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    # Every write (the audit trail writes all the time) empties each reader's page cache; reading the
    # database file through a memory map instead of read() calls makes those cold reads cheap.
    cur.execute("PRAGMA mmap_size=268435456")
    cur.close()


def _begin_sqlite(conn: Connection) -> None:
    # A deferred SQLite transaction that later writes can fail with SQLITE_BUSY instead of waiting;
    # taking the write lock up front makes busy_timeout apply. Readers stay deferred under WAL.
    # Straight to the driver: a full SQLAlchemy execution here would cost more than the query itself.
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("BEGIN" if conn.get_execution_options().get("openssm_read_only") else "BEGIN IMMEDIATE")


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_size"] = 16
            kwargs["max_overflow"] = 16
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _tune_sqlite)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_transactions(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        event.listen(engine, "begin", _begin_sqlite)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)


def open_database(url: str) -> Database:
    """Create the engine and bring the schema to the newest migration."""
    engine = create_db_engine(url)
    upgrade_to_head(engine)
    return Database(engine)
