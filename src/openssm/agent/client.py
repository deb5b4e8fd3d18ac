"""The agent's calls to the SSM endpoint: unsigned, RSA-signed (its own key) or SigV4-signed (its role
credentials), as AWS's agent sends them. botocore signs; urllib sends (lighter than a botocore client)."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.protocol import rsa_auth


class CallFailed(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires: dt.datetime


class SsmClient:
    def __init__(self, endpoint: str, region: str, ca_bundle: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.region = region
        self._context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None

    def request(self, target: str, body: dict[str, Any], path: str = "/") -> AWSRequest:
        return AWSRequest("POST", self.endpoint + path, data=json.dumps(body).encode(), headers={
            "X-Amz-Target": f"AmazonSSM.{target}", "Content-Type": "application/x-amz-json-1.1"})

    def send(self, request: AWSRequest) -> dict[str, Any]:
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=prepared.body, method=prepared.method,
                                     headers=dict(prepared.headers))
        try:
            with urllib.request.urlopen(req, timeout=30, context=self._context) as response:
                raw = response.read()
                return dict(json.loads(raw)) if raw.strip().startswith(b"{") else {"_body": raw.decode()}
        except urllib.error.HTTPError as err:
            detail = json.loads(err.read() or b"{}")
            raise CallFailed(err.code, str(detail.get("__type", "")).split("#")[-1],
                             str(detail.get("message", ""))) from err

    def register(self, activation_id: str, code: str, key: rsa.RSAPrivateKey, fingerprint: str) -> str:
        body = {"ActivationCode": code, "ActivationId": activation_id, "Fingerprint": fingerprint,
                "PublicKey": rsa_auth.public_key_b64(key), "PublicKeyType": rsa_auth.PUBLIC_KEY_TYPE}
        return str(self.send(self.request("RegisterManagedInstance", body))["InstanceId"])

    def role_token(self, instance_id: str, key: rsa.RSAPrivateKey, fingerprint: str) -> RoleCredentials:
        request = self.request("RequestManagedInstanceRoleToken", {"Fingerprint": fingerprint})
        rsa_auth.sign_rsa(request, instance_id, key, self.region, dt.datetime.now(dt.UTC))
        answer = self.send(request)
        return RoleCredentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"],
                               dt.datetime.fromtimestamp(float(answer["TokenExpirationDate"]), dt.UTC))

    def signed(self, request: AWSRequest, creds: RoleCredentials, service: str = "ssm") -> AWSRequest:
        SigV4Auth(Credentials(creds.access_key_id, creds.secret_access_key, creds.session_token), service,
                  self.region).add_auth(request)
        return request

    def call(self, target: str, body: dict[str, Any], creds: RoleCredentials) -> dict[str, Any]:
        return self.send(self.signed(self.request(target, body), creds))
