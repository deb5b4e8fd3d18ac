"""The IMDSv2 HTTP surface: the paths AWS's agent and SDKs read, answered as EC2 answers them.

IMDSv1 (a GET without a token) is refused with 401, as on an instance that requires IMDSv2; a token PUT
that carries X-Forwarded-For is refused with 403, as EC2 does to keep tokens off proxies.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from openssm.imds.credentials import ControlPlaneCredentials, Credentials, CredentialsUnavailable
from openssm.imds.tokens import TokenBook
from openssm.protocol.instance_identity import InstanceIdentity, sign

TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
IDENTITY_ROLE = "ec2-instance"

Signer = Callable[[bytes], str]


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def _credentials_json(creds: Credentials) -> str:
    return json.dumps({"Code": "Success", "LastUpdated": creds.fetched.strftime("%Y-%m-%dT%H:%M:%SZ"),
                       "Type": "AWS-HMAC", "AccessKeyId": creds.access_key_id,
                       "SecretAccessKey": creds.secret_access_key, "Token": creds.token,
                       "Expiration": creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}, indent=2)


class MetadataService:
    def __init__(self, identity: InstanceIdentity, signer: Signer, credentials: ControlPlaneCredentials,
                 tokens: TokenBook | None = None) -> None:
        self._identity = identity
        self._signer = signer
        self._credentials = credentials
        self._tokens = tokens or TokenBook()

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/latest/api/token", self.token, methods=["PUT"]),
            Route("/latest/{path:path}", self.read, methods=["GET"]),
        ])

    async def token(self, request: Request) -> Response:
        if "x-forwarded-for" in request.headers:
            return PlainTextResponse("Forbidden", status_code=403)
        try:
            ttl = int(request.headers.get(TTL_HEADER, ""))
            token = self._tokens.issue(ttl, time.time())
        except ValueError:
            return PlainTextResponse("Bad Request", status_code=400)
        return PlainTextResponse(token, headers={TTL_HEADER: str(ttl)})

    async def read(self, request: Request) -> Response:
        if not self._tokens.valid(request.headers.get(TOKEN_HEADER), time.time()):
            return PlainTextResponse("Unauthorized", status_code=401)
        path = request.path_params["path"].rstrip("/")
        static = self._static().get(path)
        if static is not None:
            return PlainTextResponse(static)
        try:
            return self._credentials_path(path)
        except CredentialsUnavailable as err:
            return _not_found() if err.status in (403, 404) else PlainTextResponse(str(err), status_code=503)

    def _static(self) -> dict[str, str]:
        ident = self._identity
        document = ident.document()
        return {
            "meta-data": "ami-id\nhostname\nidentity-credentials/\niam/\ninstance-id\ninstance-type\nlocal-ipv4\n"
                         "placement/",
            "meta-data/ami-id": ident.image_id,
            "meta-data/hostname": f"ip-{ident.private_ip.replace('.', '-')}.{ident.region}.compute.internal",
            "meta-data/instance-id": ident.instance_id,
            "meta-data/instance-type": ident.instance_type,
            "meta-data/local-ipv4": ident.private_ip,
            "meta-data/placement": "availability-zone\nregion",
            "meta-data/placement/availability-zone": ident.availability_zone,
            "meta-data/placement/region": ident.region,
            "meta-data/identity-credentials/ec2/security-credentials": IDENTITY_ROLE,
            "meta-data/identity-credentials/ec2/info": json.dumps(
                {"Code": "Success", "LastUpdated": _now(), "AccountId": ident.account_id}, indent=2),
            "dynamic/instance-identity": "document\nsignature",
            "dynamic/instance-identity/document": document.decode(),
            "dynamic/instance-identity/signature": self._signer(document),
        }

    def _credentials_path(self, path: str) -> Response:
        if path == f"meta-data/identity-credentials/ec2/security-credentials/{IDENTITY_ROLE}":
            return PlainTextResponse(_credentials_json(self._credentials.get("identity")))
        if path in ("meta-data/iam", "meta-data/iam/security-credentials"):
            role = self._credentials.get("instance-profile").role_name
            return PlainTextResponse("security-credentials/" if path == "meta-data/iam" else str(role))
        if path.startswith("meta-data/iam/security-credentials/"):
            creds = self._credentials.get("instance-profile")
            if path.rsplit("/", 1)[1] != creds.role_name:
                return _not_found()
            return PlainTextResponse(_credentials_json(creds))
        return _not_found()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def document_signer(key: Any) -> Signer:
    return lambda document: sign(key, document)
