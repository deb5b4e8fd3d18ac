"""OpenSSM's own endpoint for a Run Command step's full output (AWS has none: it cuts output and offers S3).

`PUT /openssm/v1/output/<commandId>/<instanceId>?plugin=&stream=&offset=` — the node's agent uploads a piece
(SigV4 with the node's credentials; a node writes only its own invocations). `GET` the same path — a reader
gets the output from `offset` on (SigV4, authorized by the policy engine as ssm:GetCommandInvocation, the AWS
action that shows output), with `x-openssm-next-offset` and the invocation's `x-openssm-status`.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from openssm.api.auth import Authenticated, Authenticator, IncomingRequest
from openssm.api.headers import header_map
from openssm.container import Container
from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.services import command_output
from openssm.services.command_output import OutOfOrder, Stream

PATH = "/openssm/v1/output/{command_id}/{instance_id}"


def _error(err: AwsError, **extra: object) -> Response:
    return Response(json.dumps({"__type": err.code, "message": err.message, **extra}), status_code=err.status,
                    media_type="application/x-amz-json-1.1")


def _piece_address(request: Request) -> tuple[str, str, str, Stream, int]:
    query = request.query_params
    try:
        stream = Stream(query.get("stream", ""))
        offset = int(query.get("offset", "0"))
    except ValueError as err:
        raise ValidationError("stream must be stdout or stderr and offset a byte count.") from err
    plugin = query.get("plugin", "")
    if not plugin or offset < 0:
        raise ValidationError("plugin is required and offset can't be negative.")
    return request.path_params["command_id"], request.path_params["instance_id"], plugin, stream, offset


def routes(container: Container, authenticator: Authenticator) -> list[Route]:
    async def authenticated(request: Request, body: bytes) -> Authenticated:
        incoming = IncomingRequest(request.method, request.url.path, request.url.query,
                                   header_map(request.scope["headers"]), body)
        info = authenticator.signature_scope(incoming)
        return await run_in_threadpool(authenticator.authenticate, incoming, info, "json", container.clock.now(),
                                       "ssm")

    async def upload(request: Request) -> Response:
        body = await request.body()
        try:
            authed = await authenticated(request, body)
            command_id, instance_id, plugin, stream, offset = _piece_address(request)
            if authed.caller.instance_id != instance_id:
                raise AccessDenied("A node can upload only its own output.")
            if len(body) > command_output.MAX_PIECE:
                raise ValidationError(f"A piece can be at most {command_output.MAX_PIECE} bytes.")

            def store() -> int:
                with container.db.begin() as conn:
                    return command_output.append(conn, authed.caller.account_id, command_id, instance_id, plugin,
                                                 stream, offset, body)

            next_offset = await run_in_threadpool(store)
        except OutOfOrder as err:
            return _error(err, nextOffset=err.expected)
        except AwsError as err:
            return _error(err)
        return Response(json.dumps({"nextOffset": next_offset}), media_type="application/x-amz-json-1.1")

    async def read(request: Request) -> Response:
        try:
            authed = await authenticated(request, b"")
            command_id, instance_id, plugin, stream, offset = _piece_address(request)
            now = container.clock.now()
            client = request.client
            facts = CallFacts(authed.caller, authed.region, client.host if client else "",
                              request.url.scheme == "https", now, request.headers.get("user-agent", ""))
            container.authorizer.authorize(facts, "ssm:GetCommandInvocation", [AuthorizationTarget("*", {})], {})

            def load() -> command_output.OutputPiece:
                with container.db.read() as conn:
                    return command_output.read(conn, authed.caller.account_id, command_id, instance_id, plugin,
                                               stream, offset)

            piece = await run_in_threadpool(load)
        except AwsError as err:
            return _error(err)
        return Response(piece.data, media_type="application/octet-stream", headers={
            "x-openssm-next-offset": str(piece.next_offset), "x-openssm-status": piece.status})

    return [Route(PATH, upload, methods=["PUT"]), Route(PATH, read, methods=["GET"])]
