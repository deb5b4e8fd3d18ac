"""Shared pieces of the Parameter Store handlers: the caller's scope, KMS permission checks made on the
caller's behalf, the resources and condition keys calls are authorized with."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.operations import Params, ResourceRef
from openssm.errors import AccessDenied, ValidationError
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.service_roles import find_role, trusts_service
from openssm.services import documents, kms_tags
from openssm.services.documents_builtin import AMAZON
from openssm.services.kms_model import Key, KeyManager, aws_managed_key_policy
from openssm.services.parameter_model import InvalidNextToken, Scope
from openssm.services.parameter_names import canonical, parameter_arn, split_selector
from openssm.services.parameter_values import KeyAccess
from openssm.store.lazy import LazyMapping

T = TypeVar("T")
Resources = Callable[[RequestContext, Params], Sequence[ResourceRef]]


def scope(ctx: RequestContext) -> Scope:
    return Scope(ctx.account_id, ctx.region, ctx.caller.arn, ctx.now)


def facts(ctx: RequestContext) -> CallFacts:
    return CallFacts(ctx.caller, ctx.region, ctx.source_ip, ctx.secure_transport, ctx.now, ctx.user_agent)


def _key_policy_for(ctx: RequestContext, key: Key) -> str:
    if key.key_manager is KeyManager.AWS:
        # The aws/ssm key's policy grants every principal of the account ('*'); the policy engine reads '*'
        # as delegation to the account's IAM policies, so the grant is evaluated naming this caller.
        return aws_managed_key_policy(key.account_id, key.region, "ssm", principal=ctx.caller.arn)
    return key.policy


def key_access(ctx: RequestContext, conn: Connection) -> KeyAccess:
    """KMS's authorization of the call SSM makes for the caller: the caller's policies and the key policy,
    with kms:ViaService and the parameter's ARN as encryption context."""
    def check(action: str, key: Key, context: Mapping[str, str]) -> None:
        keys: dict[str, Any] = {"kms:ViaService": f"ssm.{ctx.region}.amazonaws.com",
                                "kms:CallerAccount": ctx.account_id, "kms:EncryptionContextKeys": list(context),
                                **{f"kms:EncryptionContext:{k}": v for k, v in context.items()}}
        target = AuthorizationTarget(key.arn, LazyMapping(lambda: kms_tags.tags_of(conn, key.key_id)),
                                     _key_policy_for(ctx, key), True)
        try:
            ctx.container.authorizer.authorize(facts(ctx), action, [target], keys)
        except AccessDenied as err:
            # SSM passes KMS's refusal on, with the AWS SDK's account of the call it made.
            raise AccessDenied(f"{err.message} (Service: AWSKMS; Status Code: 400; Error Code: "
                               f"AccessDeniedException; Request ID: {uuid.uuid4()}; Proxy: null)") from err
    return check


def parameter_ref(ctx: RequestContext, raw: str) -> ResourceRef:
    """A parameter's ARN and (read only if a policy looks at them) its tags."""
    name = canonical(split_selector(raw)[0])

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags_of(conn, scope(ctx), name)

    return ResourceRef(parameter_arn(ctx.region, ctx.account_id, name), LazyMapping(load_tags))


def named_parameters(member: str) -> Resources:
    """The parameters a request names in `member` (one name or a list)."""
    def resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
        value = p.get(member) or []
        return [parameter_ref(ctx, n) for n in (value if isinstance(value, list) else [value])]
    return resources


def tag_map(items: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items or ()}


def request_tag_keys(p: Params) -> dict[str, Any]:
    """aws:RequestTag/… and aws:TagKeys for a request carrying Tags (or only TagKeys)."""
    tags = tag_map(p.get("Tags"))
    keys = list(tags) or list(p.get("TagKeys") or [])
    out: dict[str, Any] = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if keys:
        out["aws:TagKeys"] = keys
    return out


def request_tags_condition(_ctx: RequestContext, p: Params) -> dict[str, Any]:
    """request_tag_keys as an Operation's condition_keys."""
    return request_tag_keys(p)


def without_nones(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v is not None}


SSM_PRINCIPAL = "ssm.amazonaws.com"


def check_ssm_service_role(ctx: RequestContext, conn: Connection, name: str) -> None:
    """A role handed to SSM for nodes (CreateActivation, UpdateManagedInstanceRole): the caller may pass it
    (iam:PassRole, iam:PassedToService), it exists and it trusts ssm.amazonaws.com."""
    role_name = name.strip("/")
    role = find_role(conn, ctx.account_id, role_name)
    role_arn = role.arn if role else f"arn:aws:iam::{ctx.account_id}:role/{role_name}"
    ctx.container.authorizer.authorize_pass_role(facts(ctx), role_arn, SSM_PRINCIPAL)
    if role is None or not trusts_service(role, SSM_PRINCIPAL):
        # AWS's own wording for both failures.
        raise ValidationError(f"Nonexistent role or missing ssm service principal in trust policy: {role_arn}")


def page_token(offset: int) -> str:
    """The NextToken of a listing that continues at `offset` (opaque to callers)."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def paginate(p: Mapping[str, Any], rows: Sequence[T], default_size: int) -> tuple[Sequence[T], str | None]:
    """The page of `rows` the request's NextToken and MaxResults ask for, and the token of the next one."""
    start, size = page_start(p.get("NextToken")), p.get("MaxResults") or default_size
    return rows[start:start + size], page_token(start + size) if start + size < len(rows) else None


def page_start(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
        if isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, KeyError, TypeError):
        pass
    raise InvalidNextToken("The specified token isn't valid.")


def document_ref(ctx: RequestContext, name: str) -> ResourceRef:
    """The document's ARN (Amazon's with an empty account, as AWS writes it) and, if asked, its tags."""
    location = documents.locate(scope(ctx), name)

    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, location.owner, location.region, "Document",
                                                    location.name)

    account = "" if location.owner == AMAZON else location.owner
    return ResourceRef(f"arn:aws:ssm:{location.region}:{account}:document/{location.name}", LazyMapping(load_tags))


def node_ref(ctx: RequestContext, instance_id: str, arn: str | None = None) -> ResourceRef:
    """A managed node's ARN (or `arn`, for calls AWS authorizes on the EC2 instance) and, if asked, its tags."""
    def load_tags() -> dict[str, str]:
        with ctx.container.db.read() as conn:
            return ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "ManagedInstance", instance_id)

    return ResourceRef(arn or f"arn:aws:ssm:{ctx.region}:{ctx.account_id}:managed-instance/{instance_id}",
                       LazyMapping(load_tags))
