"""STS over the query protocol: AssumeRole, GetSessionToken, GetCallerIdentity."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.operations import Operation, Params
from openssm.iam import sts
from openssm.iam.ports import CallFacts
from openssm.iam.sessions import IssuedCredentials


def _facts(ctx: RequestContext) -> CallFacts:
    return CallFacts(ctx.caller, ctx.region, ctx.source_ip, ctx.secure_transport, ctx.now, ctx.user_agent)


def _credentials(c: IssuedCredentials) -> dict[str, Any]:
    return {"AccessKeyId": c.access_key_id, "SecretAccessKey": c.secret_access_key, "SessionToken": c.session_token,
            "Expiration": c.expiration}


def get_caller_identity(ctx: RequestContext, p: Params) -> dict[str, Any]:
    caller = ctx.caller
    return {"UserId": caller.user_id, "Account": caller.account_id, "Arn": caller.arn}


def assume_role(ctx: RequestContext, p: Params) -> dict[str, Any]:
    req = sts.AssumeRoleRequest(
        role_arn=p["RoleArn"], session_name=p["RoleSessionName"], duration_seconds=p.get("DurationSeconds"),
        policy=p.get("Policy"), policy_arns=tuple(a["arn"] for a in p.get("PolicyArns") or [] if "arn" in a),
        tags=tuple((t["Key"], t["Value"]) for t in p.get("Tags") or []),
        transitive_keys=tuple(p.get("TransitiveTagKeys") or ()), external_id=p.get("ExternalId"),
        source_identity=p.get("SourceIdentity"))
    with ctx.container.iam.write() as conn:
        assumed = sts.assume_role(conn, ctx.container.box, ctx.container.authorizer, _facts(ctx), req)
    out: dict[str, Any] = {"Credentials": _credentials(assumed.credentials),
                           "AssumedRoleUser": {"AssumedRoleId": assumed.assumed_role_id, "Arn": assumed.arn}}
    if assumed.packed_policy_size is not None:
        out["PackedPolicySize"] = assumed.packed_policy_size
    if assumed.source_identity is not None:
        out["SourceIdentity"] = assumed.source_identity
    return out


def get_session_token(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.iam.write() as conn:
        creds = sts.get_session_token(conn, ctx.container.box, _facts(ctx), p.get("DurationSeconds"))
    return {"Credentials": _credentials(creds)}


_SECRETS = frozenset({"SecretAccessKey", "SessionToken"})

OPERATIONS = [
    Operation("sts", "GetCallerIdentity", get_caller_identity, read_only=True, authorized=False),
    # AssumeRole is authorized inside (trust policy, then the caller's own policies when needed).
    Operation("sts", "AssumeRole", assume_role, authorized=False, secret_params=_SECRETS),
    Operation("sts", "GetSessionToken", get_session_token, authorized=False, secret_params=_SECRETS),
]
