"""IAM's unit of work: transactions whose commits drop every cached credential and policy set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from openssm.clock import Clock
from openssm.iam.credentials import CachingCredentialResolver
from openssm.iam.directory import PolicyDirectory
from openssm.iam.organizations import scp_levels
from openssm.store.db import Database
from openssm.store.secrets import SecretBox


class IamService:
    def __init__(self, db: Database, box: SecretBox, clock: Clock) -> None:
        self.db = db
        self.box = box
        self.clock = clock
        self.credentials = CachingCredentialResolver(db, box, clock)
        self.directory = PolicyDirectory(db, scps=scp_levels)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction; caches are dropped after it commits (and if it fails, harmlessly)."""
        try:
            with self.db.begin() as conn:
                yield conn
        finally:
            self.invalidate()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.db.read() as conn:
            yield conn

    def invalidate(self) -> None:
        self.credentials.invalidate()
        self.directory.invalidate()
