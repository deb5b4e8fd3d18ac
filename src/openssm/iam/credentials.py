"""Resolving an access key to its secret and principal, for SigV4 verification on every call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection

from openssm.clock import Clock
from openssm.iam import access_keys, entities, tags
from openssm.iam.entities import EntityKind
from openssm.iam.ports import ResolvedCredential
from openssm.iam.principals import Caller, PrincipalType
from openssm.store.db import Database
from openssm.store.secrets import SecretBox
from openssm.types import AccessKeyId, AccountId, Arn

# Temporary (ASIA…) credentials are resolved by STS; it registers itself here.
SessionResolver = Callable[[Connection, SecretBox, str], ResolvedCredential | None]


def _user_credential(conn: Connection, box: SecretBox, key_id: str) -> ResolvedCredential | None:
    stored = access_keys.lookup(conn, box, key_id)
    if stored is None:
        return None
    key = stored.key
    user = entities.find(conn, key.account_id, EntityKind.USER, key.user_lower)
    if user is None:
        return None
    caller = Caller(
        account_id=AccountId(user.account_id), arn=Arn(user.arn), principal_type=PrincipalType.USER,
        user_id=user.entity_id, name=user.name, access_key_id=AccessKeyId(key_id),
        tags=tags.tags_of(conn, user.account_id, "user", user.name),
    )
    return ResolvedCredential(stored.secret, caller, active=key.active)


class CachingCredentialResolver:
    """Access key → credential, cached for `ttl` seconds and dropped on any IAM write in this process."""

    def __init__(self, db: Database, box: SecretBox, clock: Clock, ttl: float = 2.0) -> None:
        self._db = db
        self._box = box
        self._clock = clock
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, ResolvedCredential | None]] = {}
        self.session_resolver: SessionResolver | None = None

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()

    def resolve(self, access_key_id: str) -> ResolvedCredential | None:
        now = time.monotonic()
        hit = self._cache.get(access_key_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._db.read() as conn:
            if access_key_id.startswith("ASIA") and self.session_resolver is not None:
                resolved = self.session_resolver(conn, self._box, access_key_id)
            else:
                resolved = _user_credential(conn, self._box, access_key_id)
        with self._lock:
            self._cache[access_key_id] = (now + self._ttl, resolved)
        return resolved
