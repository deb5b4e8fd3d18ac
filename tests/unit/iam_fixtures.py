"""The real IAM service on the in-memory store with a fake clock, and small policy builders, for unit tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from openssm.clock import FakeClock
from openssm.iam.authorizer import PolicyAuthorizer
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import Caller
from openssm.iam.service import IamService
from openssm.store.db import Database, open_database
from openssm.store.secrets import SecretBox

ACCOUNT = "123456789012"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    return policy({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    return policy({"Effect": "Deny", "Action": action, "Resource": resource, **extra})


@dataclass
class Iam:
    db: Database = field(default_factory=lambda: open_database("sqlite://"))
    box: SecretBox = field(default_factory=lambda: SecretBox(b"k" * 32))
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.service = IamService(self.db, self.box, self.clock)
        self.authorizer = PolicyAuthorizer(self.service.directory)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.service.write() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.service.read() as conn:
            yield conn

    def facts(self, caller: Caller, **kw: Any) -> CallFacts:
        return CallFacts(caller, kw.pop("region", "us-east-1"), kw.pop("source_ip", "192.0.2.10"),
                         kw.pop("secure", True), self.clock.now(), **kw)

    def allowed(self, caller: Caller, action: str, resource: str = "*", tags: dict[str, str] | None = None,
                keys: dict[str, Any] | None = None) -> bool:
        target = AuthorizationTarget(resource, tags or {})
        return bool(self.authorizer.decide(self.facts(caller), action, target, keys or {}).allowed)
