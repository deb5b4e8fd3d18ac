"""STS: who am I (never denied, as at AWS)."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params


def get_caller_identity(ctx: RequestContext, p: Params) -> dict[str, Any]:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


OPERATIONS = [
    Operation("sts", "GetCallerIdentity", get_caller_identity, read_only=True, authorized=False),
]
