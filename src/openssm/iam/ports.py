"""What the API layer needs from identity: resolving access keys and authorizing actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from openssm.iam.principals import Caller


@dataclass(frozen=True)
class ResolvedCredential:
    """An access key's secret and the principal it stands for.

    `session_token` is set for temporary credentials: a request must then carry exactly that token.
    """

    secret_access_key: str
    caller: Caller
    session_token: str | None = None
    expires_at: dt.datetime | None = None
    active: bool = True


class CredentialResolver(Protocol):
    def resolve(self, access_key_id: str) -> ResolvedCredential | None: ...


@dataclass(frozen=True)
class AuthorizationTarget:
    """A resource ARN, its tags (for aws:ResourceTag/*) and its resource-based policy, if any."""

    arn: str
    tags: Mapping[str, str]
    policy: str | None = None
    policy_required: bool = False


@dataclass(frozen=True)
class CallFacts:
    """Request facts that become global condition keys."""

    caller: Caller
    region: str
    source_ip: str
    secure_transport: bool
    now: dt.datetime
    user_agent: str = ""


class Authorizer(Protocol):
    def authorize(
        self,
        facts: CallFacts,
        action: str,
        targets: Sequence[AuthorizationTarget],
        condition_keys: Mapping[str, Any],
    ) -> None:
        """Raise AccessDenied (with AWS's message) unless every target is allowed."""
        ...
