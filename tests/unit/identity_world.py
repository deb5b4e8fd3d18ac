"""An in-memory identity world for unit tests of STS and Organizations: the real IAM service, store and
authorizer over SQLite in memory, with a fake clock; helpers to make users and roles and act as them."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from typing import Any

from openssm.clock import FakeClock
from openssm.iam import bindings, entities, tags
from openssm.iam.authorizer import PolicyAuthorizer
from openssm.iam.entities import Entity, EntityKind
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import Caller, PrincipalType
from openssm.iam.service import IamService
from openssm.iam.sessions import resolve_session_credential
from openssm.store.db import Database, open_database
from openssm.store.secrets import SecretBox
from openssm.types import AccountId, Arn

ACCOUNT = AccountId("111111111111")
OTHER_ACCOUNT = AccountId("222222222222")


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> str:
    return policy({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


def trust(principal: str | list[str], actions: str | list[str] = "sts:AssumeRole", **extra: Any) -> str:
    return policy({"Effect": "Allow", "Principal": {"AWS": principal}, "Action": actions, **extra})


@dataclass
class World:
    # A file, not sqlite:// (one shared connection): authorizing AssumeRole reads the caller's policies on
    # a second connection while the session is being written, as the server does.
    db: Database = field(default_factory=lambda: open_database(f"sqlite:///{tempfile.mkdtemp()}/world.db"))
    box: SecretBox = field(default_factory=lambda: SecretBox(b"k" * 32))
    clock: FakeClock = field(default_factory=FakeClock)

    def __post_init__(self) -> None:
        self.iam = IamService(self.db, self.box, self.clock)
        self.iam.credentials.session_resolver = resolve_session_credential
        self.authorizer = PolicyAuthorizer(self.iam.directory)

    def facts(self, caller: Caller) -> CallFacts:
        return CallFacts(caller, "us-east-1", "10.0.0.1", True, self.clock.now())

    def user(self, name: str, identity_policy: str | None = None, account: str = ACCOUNT,
             user_tags: dict[str, str] | None = None) -> Caller:
        with self.iam.write() as conn:
            user = entities.create(conn, account, EntityKind.USER, name, "/", self.clock.now())
            if identity_policy is not None:
                bindings.put_inline(conn, user, "inline", identity_policy)
            if user_tags:
                tags.tag(conn, account, "user", name, user_tags)
        return Caller(AccountId(account), Arn(user.arn), PrincipalType.USER, user.entity_id, name,
                      tags=dict(user_tags or {}))

    def role(self, name: str, trust_policy: str, identity_policy: str | None = None, account: str = ACCOUNT,
             max_duration: int = 3600, role_tags: dict[str, str] | None = None) -> Entity:
        with self.iam.write() as conn:
            role = entities.create(conn, account, EntityKind.ROLE, name, "/", self.clock.now(),
                                   trust_policy=trust_policy, max_session_duration=max_duration)
            if identity_policy is not None:
                bindings.put_inline(conn, role, "inline", identity_policy)
            if role_tags:
                tags.tag(conn, account, "role", name, role_tags)
        return role

    def session_caller(self, access_key_id: str) -> Caller:
        with self.db.read() as conn:
            resolved = resolve_session_credential(conn, self.box, access_key_id)
        assert resolved is not None
        return resolved.caller

    def allowed(self, caller: Caller, action: str, resource: str = "*") -> bool:
        decision = self.authorizer.decide(self.facts(caller), action, AuthorizationTarget(resource, {}), {})
        return bool(decision.allowed)
