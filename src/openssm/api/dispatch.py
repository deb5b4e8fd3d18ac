"""The fixed steps of every API call: identify, authenticate, parse, authorize, handle, reply, audit.

`handle_call` is synchronous (the store is), and the ASGI layer runs it on a worker thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import OperationModel

from openssm.api.auth import Authenticator, IncomingRequest
from openssm.api.context import RequestContext
from openssm.api.operations import Operation, registry
from openssm.api.wire import JSON_WIRE, QUERY_WIRE, Wire, WireResponse
from openssm.container import Container
from openssm.errors import AwsError, InternalError, InvalidAction, MissingAction, UnknownOperation
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.iam.principals import Caller
from openssm.protocol import service_models, sigv4
from openssm.services.audit_record import ApiCallRecord
from openssm.types import Region, RequestId

log = logging.getLogger(__name__)

# Query-protocol services are told apart by the signing name; unsigned calls can only be STS's.
_QUERY_SERVICES = frozenset({"iam", "sts"})


@dataclass
class _Call:
    """What is known so far about a call, for the audit record whatever step fails."""

    request_id: RequestId
    service: str = ""
    operation: str = ""
    region: str = ""
    caller: Caller | None = None
    access_key_id: str = ""
    params: dict[str, Any] | None = None
    op: Operation | None = None
    read_only: bool = False


def _identify(req: IncomingRequest, form: Mapping[str, str], info: sigv4.SignatureInfo | None) -> tuple[Wire, str, str]:
    target = req.headers.get("x-amz-target")
    if target:
        prefix, _, name = target.rpartition(".")
        service = service_models.service_for_target_prefix(prefix)
        if service is None or not name:
            raise UnknownOperation()
        return JSON_WIRE, service, name
    service = info.service if info is not None and info.service in _QUERY_SERVICES else "sts"
    action = form.get("Action")
    if not action:
        raise MissingAction("Missing Action")
    return QUERY_WIRE, service, action


def _operation(service: str, name: str) -> tuple[Operation | None, OperationModel | None]:
    op = registry().get((service, name))
    if op is None:
        return None, None
    return op, service_models.service_model(service).operation_model(name)


def _unknown(wire: Wire, service: str, name: str) -> AwsError:
    if wire is QUERY_WIRE:
        version = service_models.service_model(service).api_version
        return InvalidAction(f"Could not find operation {name} for version {version}")
    return UnknownOperation()


def _form(req: IncomingRequest) -> dict[str, str]:
    if req.headers.get("x-amz-target"):
        return {}
    pairs = parse_qsl(req.query_string, keep_blank_values=True)
    if req.method == "POST" and req.body:
        pairs += parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    return dict(pairs)


def handle_call(container: Container, authenticator: Authenticator, req: IncomingRequest, source_ip: str,
                secure: bool) -> WireResponse:
    call = _Call(RequestId(str(uuid.uuid4())))
    now = container.clock.now()
    wire: Wire = QUERY_WIRE if not req.headers.get("x-amz-target") else JSON_WIRE
    error: AwsError | None = None
    try:
        form = _form(req)
        info = authenticator.signature_scope(req)
        if info is not None:
            call.access_key_id, call.region = info.access_key_id, info.region
        wire, call.service, call.operation = _identify(req, form, info)
        op, op_model = _operation(call.service, call.operation)
        # Authentication comes first, as at AWS: an unsigned probe learns nothing about operations.
        if op is None or op.authenticated or info is not None:
            signing_name = service_models.service_model(call.service).signing_name
            authed = authenticator.authenticate(req, info, wire.family, now, signing_name)
            call.caller, call.region = authed.caller, authed.region
        if op is None or op_model is None:
            raise _unknown(wire, call.service, call.operation)
        call.op, call.read_only = op, op.read_only
        call.params = wire.parse(op_model, req.body, form)
        ctx = RequestContext(
            request_id=call.request_id, service=call.service, operation=call.operation,
            region=Region(call.region or container.config.default_region),
            caller=call.caller or _anonymous(container), source_ip=source_ip,
            user_agent=req.headers.get("user-agent", ""), secure_transport=secure, now=now, container=container,
            host=req.headers.get("host", ""),
        )
        if op.authorized and call.caller is not None:
            _authorize(ctx, op, call.params)
        result = op.handler(ctx, call.params)
        return wire.respond(op_model, result, call.request_id)
    except AwsError as err:
        error = err
        return wire.error(err, call.request_id, call.service)
    except Exception:
        log.exception("request %s failed", call.request_id)
        error = InternalError("We encountered an internal error. Please try again.")
        return wire.error(error, call.request_id, call.service)
    finally:
        _audit(container, call, req, source_ip, now, error)


def _anonymous(container: Container) -> Caller:
    from openssm.iam.principals import PrincipalType
    from openssm.types import Arn

    account = container.config.default_account
    return Caller(account, Arn(f"arn:aws:iam::{account}:anonymous"), PrincipalType.ANONYMOUS, "anonymous", "anonymous")


def _authorize(ctx: RequestContext, op: Operation, params: dict[str, Any]) -> None:
    action = op.iam_action(service_models.iam_prefix(ctx.service))
    # An operation that names no resource is authorized on "*", never skipped.
    targets = [AuthorizationTarget(r.arn, r.tags, r.policy, r.policy_required)
               for r in op.resources(ctx, params)] or [AuthorizationTarget("*", {})]
    facts = CallFacts(ctx.caller, ctx.region, ctx.source_ip, ctx.secure_transport, ctx.now, ctx.user_agent)
    ctx.container.authorizer.authorize(facts, action, targets, op.condition_keys(ctx, params))


def _audit(container: Container, call: _Call, req: IncomingRequest, source_ip: str, now: Any,
           error: AwsError | None) -> None:
    secret = call.op.secret_params if call.op else frozenset()
    record = ApiCallRecord(
        event_time=now, request_id=call.request_id, service=call.service, event_name=call.operation,
        region=call.region, source_ip=source_ip, user_agent=req.headers.get("user-agent", ""),
        caller=call.caller, access_key_id=call.access_key_id, request_parameters=call.params,
        secret_parameters=secret, error_code=error.code if error else None,
        error_message=error.message if error else None, read_only=call.read_only,
    )
    try:
        container.audit.record(record)
    except Exception:
        log.exception("audit record for request %s could not be written", call.request_id)
