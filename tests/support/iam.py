"""Creating IAM users with a given policy through the real API, for tests that need a restricted caller."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.support.server import Credentials, ServerProcess


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def user_with_policy(server: ServerProcess, policy: dict[str, Any] | None, name: str | None = None,
                     tags: dict[str, str] | None = None) -> tuple[str, Credentials]:
    iam = server.client("iam")
    user = name or unique("user")
    iam.create_user(UserName=user, Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])
    if policy is not None:
        iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return user, Credentials(key["AccessKeyId"], key["SecretAccessKey"])


def allow(actions: list[str] | str, resources: list[str] | str = "*", **extra: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources,
                                                    **extra}]}


def wait_briefly() -> None:
    """IAM changes reach other server processes within the cache TTL; one process sees them at once."""
    time.sleep(0)
