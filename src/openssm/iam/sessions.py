"""Temporary credentials: issuing them for STS and resolving them on every signed request."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from openssm.iam.ids import IdPrefix, access_key_id, secret_access_key
from openssm.iam.ports import ResolvedCredential
from openssm.iam.principals import Caller, PrincipalType
from openssm.store.secrets import SecretBox
from openssm.store.tables.sts import sts_sessions
from openssm.types import AccessKeyId, AccountId, Arn

# Expired sessions still answer ExpiredToken for a while (as AWS does), then are dropped.
RETAIN_EXPIRED = dt.timedelta(days=7)


@dataclass(frozen=True)
class IssuedCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime


@dataclass(frozen=True)
class SessionGrant:
    """Who the temporary credentials act as, and what limits them."""

    account_id: str
    principal_type: PrincipalType
    arn: str
    user_id: str
    name: str
    role_arn: str | None
    session_policy: str | None
    policy_arns: tuple[str, ...]
    tags: Mapping[str, str]
    transitive_keys: tuple[str, ...]
    source_identity: str | None = None
    instance_id: str | None = None


def issue(conn: Connection, box: SecretBox, grant: SessionGrant, now: dt.datetime,
          duration: dt.timedelta) -> IssuedCredentials:
    """Store new temporary credentials (secret and token sealed, bound to the key id) and return them."""
    conn.execute(delete(sts_sessions).where(sts_sessions.c.expires_at < now - RETAIN_EXPIRED))
    key_id, secret = access_key_id(IdPrefix.SESSION_KEY), secret_access_key()
    token = "IQoJb3JpZ2luX2VjE" + secrets.token_urlsafe(160)
    expires = now + duration
    conn.execute(insert(sts_sessions).values(
        access_key_id=key_id, account_id=grant.account_id,
        secret_sealed=box.seal(secret.encode(), key_id.encode()),
        token_sealed=box.seal(token.encode(), key_id.encode() + b"/token"),
        principal_type=grant.principal_type.value, arn=grant.arn, user_id=grant.user_id, name=grant.name,
        role_arn=grant.role_arn, session_policy=grant.session_policy, policy_arns=json.dumps(list(grant.policy_arns)),
        tags=json.dumps(dict(grant.tags)), transitive_keys=json.dumps(list(grant.transitive_keys)),
        source_identity=grant.source_identity, instance_id=grant.instance_id, issued_at=now, expires_at=expires))
    return IssuedCredentials(key_id, secret, token, expires)


def resolve_session_credential(conn: Connection, box: SecretBox, key_id: str) -> ResolvedCredential | None:
    """The principal behind an ASIA… key, with its token and expiry (the API layer answers ExpiredToken)."""
    row = conn.execute(select(sts_sessions).where(sts_sessions.c.access_key_id == key_id)).first()
    if row is None:
        return None
    caller = Caller(
        account_id=AccountId(row.account_id), arn=Arn(row.arn), principal_type=PrincipalType(row.principal_type),
        user_id=row.user_id, name=row.name, access_key_id=AccessKeyId(key_id), tags=json.loads(row.tags),
        role_arn=Arn(row.role_arn) if row.role_arn else None,
        session_policies=(row.session_policy,) if row.session_policy else (),
        session_policy_arns=tuple(Arn(a) for a in json.loads(row.policy_arns)),
        transitive_tag_keys=tuple(json.loads(row.transitive_keys)), source_identity=row.source_identity,
        instance_id=row.instance_id,
    )
    return ResolvedCredential(
        secret_access_key=box.open(row.secret_sealed, key_id.encode()).decode(), caller=caller,
        session_token=box.open(row.token_sealed, key_id.encode() + b"/token").decode(), expires_at=row.expires_at)


def revoke_instance(conn: Connection, instance_id: str) -> None:
    """A deregistered node's credentials stop working at once (within the credential cache's TTL)."""
    conn.execute(delete(sts_sessions).where(sts_sessions.c.instance_id == instance_id))
