"""`POST /v1/instance-identity/credentials`: where an `openssm imds` obtains an instance's credentials with a
request signed by the instance's identity key (services/ec2_instances.py). Not an AWS API: on EC2 this
exchange is internal to AWS, so it has no SigV4 and no service model; the signature is the authentication."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openssm.container import Container
from openssm.errors import AwsError
from openssm.protocol.instance_identity import CredentialRequest, IdentityError
from openssm.services import ec2_instances

PATH = "/v1/instance-identity/credentials"


def _error(status: int, code: str, message: str) -> Response:
    return Response(json.dumps({"__type": code, "message": message}), status_code=status,
                    media_type="application/json")


def credentials_endpoint(container: Container) -> Callable[[Request], Awaitable[Response]]:
    def exchange(body: bytes) -> Response:
        try:
            request, signature = CredentialRequest.from_json(body)
            with container.db.begin() as conn:
                issued = ec2_instances.issue_credentials(conn, container.box, request, signature,
                                                         container.clock.now())
        except IdentityError as err:
            return _error(403, "AccessDenied", str(err))
        except AwsError as err:
            return _error(err.status, err.code, err.message)
        creds = issued.credentials
        return Response(json.dumps({
            "AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key,
            "Token": creds.session_token, "Expiration": creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "RoleName": issued.role_name}), media_type="application/json")

    async def endpoint(request: Request) -> Response:
        return await run_in_threadpool(exchange, await request.body())

    return endpoint
