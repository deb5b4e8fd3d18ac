"""The credentials an IMDS serves, fetched from the control plane with requests signed by the instance's
identity key, and kept until five minutes before they expire."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.protocol.instance_identity import CredentialRequest, InstanceIdentity

PATH = "/v1/instance-identity/credentials"
REFRESH_BEFORE = dt.timedelta(minutes=5)


class CredentialsUnavailable(Exception):
    """The control plane would not (or could not) give these credentials."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    token: str
    expiration: dt.datetime
    role_name: str | None
    fetched: dt.datetime


class ControlPlaneCredentials:
    def __init__(self, endpoint: str, identity: InstanceIdentity, key: rsa.RSAPrivateKey,
                 ca_bundle: str | None = None) -> None:
        self._url = endpoint.rstrip("/") + PATH
        self._identity = identity
        self._key = key
        self._context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
        self._cache: dict[str, Credentials] = {}
        self._lock = threading.Lock()

    def get(self, kind: str) -> Credentials:
        """`identity` or `instance-profile` credentials, from the cache while they stay fresh."""
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            cached = self._cache.get(kind)
            if cached is None or cached.expiration - now < REFRESH_BEFORE:
                cached = self._cache[kind] = self._fetch(kind, now)
            return cached

    def _fetch(self, kind: str, now: dt.datetime) -> Credentials:
        body = CredentialRequest(self._identity.document(), kind, now).to_json(self._key)
        request = urllib.request.Request(self._url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10, context=self._context) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as err:
            detail = json.loads(err.read() or b"{}").get("message", err.reason)
            raise CredentialsUnavailable(str(detail), err.code) from err
        except (urllib.error.URLError, OSError) as err:
            raise CredentialsUnavailable(f"control plane unreachable: {err}", 503) from err
        expiration = dt.datetime.strptime(answer["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["Token"], expiration,
                           answer.get("RoleName"), now)
