"""The agent's HTTP calls, shaped as AWS's agent sends them (golden: amazon-ssm-agent.json): JSON 1.1 to
`ssm` (a hybrid node registers unsigned and RSA-signs its role token; an EC2 instance signs both with its
instance identity credentials, the token also with its key; SigV4 with the role credentials otherwise) and to
`ec2messages`, and the control channel's creation. http.client sends them; sigv4.py signs."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from openssm.agent import sigv4
from openssm.agent.keys import Signer
from openssm.agent.version import USER_AGENT

JSON_11 = "application/x-amz-json-1.1"
SSM_TARGET = "AmazonSSM"
EC2MESSAGES_TARGET = "EC2WindowsMessageDeliveryService"
TIMEOUT_SECONDS = 30.0
# protocol/rsa_auth.ASYMMETRIC_AUTH_HEADER; not imported from there, which would load `cryptography` and botocore.
ASYMMETRIC_AUTH_HEADER = "SSM-AsymmetricKeyAuthorization"
# The answers that say the credentials themselves are no longer taken (revoked, expired, unknown).
REJECTED_CREDENTIALS = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException"})


SsmCall = Callable[[str, dict[str, Any]], dict[str, Any]]
"""A JSON 1.1 `ssm` call, (target, body) -> answer, signed with the node's current role credentials."""


class CallFailed(Exception):
    """An AWS error answer (status, `__type` code, message), or a connection that failed (status 0)."""

    def __init__(self, status: int, code: str, message: str, detail: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.status, self.code, self.message = status, code, message
        self.detail = detail or {}  # the error answer's other members

    @property
    def credentials_rejected(self) -> bool:
        return self.status in (400, 401, 403) and self.code in REJECTED_CREDENTIALS


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires: dt.datetime
    update_key_pair: bool = False

    def signing(self) -> sigv4.Credentials:
        return sigv4.Credentials(self.access_key_id, self.secret_access_key, self.session_token)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


def _as_request(request: Any) -> Request:
    """Our Request, or anything shaped like botocore's AWSRequest (benchmarks build those)."""
    if isinstance(request, Request):
        return request
    data = request.data if isinstance(request.data, bytes) else str(request.data or "").encode()
    return Request(request.method, request.url, dict(request.headers), data)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SsmClient:
    """`on_credentials_rejected` is called when an answer says the credentials a request was signed with are no
    longer taken, so that their source fetches new ones."""

    def __init__(self, endpoint: str, region: str, ca_bundle: str | None = None, *,
                 on_credentials_rejected: Callable[[], None] | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self.ca_bundle = ca_bundle
        self.on_credentials_rejected = on_credentials_rejected
        self._ssl: ssl.SSLContext | None = None

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context(cafile=self.ca_bundle)
        return self._ssl

    def request(self, target: str, body: dict[str, Any], prefix: str = SSM_TARGET) -> Request:
        return Request("POST", self.endpoint + "/", {"Content-Type": JSON_11, "X-Amz-Target": f"{prefix}.{target}"},
                       json.dumps(body, separators=(",", ":")).encode())

    def signed(self, request: Any, creds: RoleCredentials, service: str = "ssm") -> Request:
        req = _as_request(request)
        # AWS's SDK signs Content-Length on JSON 1.1 calls; its MGS client does not (golden capture).
        json_call = "X-Amz-Target" in req.headers
        headers = {**req.headers, "Content-Length": str(len(req.body))} if json_call else req.headers
        return replace(req, headers=sigv4.sign(req.method, req.url, headers, req.body, creds.signing(),
                                               self.region, service, _now()))

    def send(self, request: Any) -> dict[str, Any]:
        """The JSON answer (or `{"_body": text}` for another body); CallFailed for an error answer."""
        req = _as_request(request)
        parts = urlsplit(req.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.netloc, timeout=TIMEOUT_SECONDS, context=self.ssl_context())
        else:
            conn = http.client.HTTPConnection(parts.netloc, timeout=TIMEOUT_SECONDS)
        try:
            conn.request(req.method, path, body=req.body, headers={"User-Agent": USER_AGENT, **req.headers})
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (OSError, http.client.HTTPException) as err:
            raise CallFailed(0, "", f"{req.url}: {err}") from err
        finally:
            conn.close()
        try:
            return _answer(status, raw)
        except CallFailed as err:
            if err.credentials_rejected and self.on_credentials_rejected is not None:
                self.on_credentials_rejected()
            raise

    def call(self, target: str, body: dict[str, Any], creds: RoleCredentials, *, prefix: str = SSM_TARGET,
             service: str = "ssm") -> dict[str, Any]:
        return self.send(self.signed(self.request(target, body, prefix), creds, service))

    def register(self, activation_id: str, code: str, public_key: Any, fingerprint: str) -> str:
        """RegisterManagedInstance, unsigned as AWS's agent sends it; the new managed-instance id."""
        if not isinstance(public_key, str):  # an RSA key object (benchmarks pass one)
            from openssm.protocol import rsa_auth

            public_key = rsa_auth.public_key_b64(public_key)
        body = {"ActivationCode": code, "ActivationId": activation_id, **_public_key(public_key, fingerprint)}
        return str(self.send(self.request("RegisterManagedInstance", body))["InstanceId"])

    def register_ec2(self, instance_id: str, public_key: str, identity: RoleCredentials) -> None:
        """Default Host Management's RegisterManagedInstance: no activation, the instance id as Fingerprint,
        SigV4-signed with the instance identity credentials (AWS's agent: agent/ssm/authregister)."""
        self.call("RegisterManagedInstance", _public_key(public_key, instance_id), identity)

    def rsa_signed(self, request: Request, instance_id: str, signer: Signer) -> Request:
        # AWS's agent sends this body chunked, so Content-Length is not among the signed headers.
        return replace(request, headers=sigv4.sign_rsa(request.method, request.url, request.headers, request.body,
                                                       instance_id, signer, self.region, "ssm", _now()))

    def role_token(self, instance_id: str, signer: Any, fingerprint: str) -> RoleCredentials:
        """RequestManagedInstanceRoleToken, signed with the node's key (a Signer, or an RSA key object)."""
        if not callable(signer):
            from openssm.protocol import rsa_auth

            key = signer
            signer = lambda message: rsa_auth.sign(key, message)  # noqa: E731
        answer = self.send(self.rsa_signed(self.request("RequestManagedInstanceRoleToken",
                                                        {"Fingerprint": fingerprint}), instance_id, signer))
        return _role_credentials(answer)

    def ec2_role_token(self, fingerprint: str, identity: RoleCredentials, signer: Signer) -> RoleCredentials:
        """Default Host Management's RequestManagedInstanceRoleToken: SigV4 with the instance identity
        credentials, then the node key's signature of that Authorization header in SSM-AsymmetricKeyAuthorization
        (AWS's agent: agent/ssm/rsaauth/ssm_rsaV4.go MakeSignRsaHandler)."""
        request = self.request("RequestManagedInstanceRoleToken", {"Fingerprint": fingerprint})
        # As with the hybrid token, AWS's agent leaves Content-Length out of the signed headers here.
        headers = sigv4.sign(request.method, request.url, request.headers, request.body, identity.signing(),
                             self.region, "ssm", _now())
        headers[ASYMMETRIC_AUTH_HEADER] = f"Signature={signer(headers['Authorization'])}"
        return _role_credentials(self.send(replace(request, headers=headers)))

    def update_public_key(self, instance_id: str, signer: Signer, public_key: str) -> None:
        """UpdateManagedInstancePublicKey, signed with the current key, as AWS's agent rotates its key."""
        request = self.request("UpdateManagedInstancePublicKey", {"NewPublicKey": public_key,
                                                                  "NewPublicKeyType": "Rsa"})
        self.send(self.rsa_signed(request, instance_id, signer))


def node_call(client: SsmClient, credentials: Callable[[], RoleCredentials]) -> SsmCall:
    """SsmClient.call bound to the node's credentials, fetched for each call (they refresh themselves)."""
    return lambda target, body: client.call(target, body, credentials())


def _public_key(public_key: str, fingerprint: str) -> dict[str, str]:
    return {"Fingerprint": fingerprint, "PublicKey": public_key, "PublicKeyType": "Rsa"}


def _role_credentials(answer: dict[str, Any]) -> RoleCredentials:
    return RoleCredentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"],
                           dt.datetime.fromtimestamp(float(answer["TokenExpirationDate"]), dt.UTC),
                           bool(answer.get("UpdateKeyPair")))


def _answer(status: int, raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8", "replace")
    parsed: Any = None
    if text.lstrip().startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
    if status >= 400:
        detail = parsed if isinstance(parsed, dict) else {}
        code = str(detail.get("__type") or "").split("#")[-1]
        message = str(detail.get("message") or detail.get("Message") or text[:200])
        raise CallFailed(status, code, message, detail)
    return dict(parsed) if isinstance(parsed, dict) else {"_body": text}
