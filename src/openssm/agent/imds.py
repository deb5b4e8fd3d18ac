"""The EC2 instance metadata service, spoken as IMDSv2 only: a session token from `PUT /latest/api/token`, sent
with every GET. Never IMDSv1: an instance that will not issue a token has no EC2 identity for this agent (AWS's
agent disables the fallback too: ec2_identity.go NewEC2Identity, WithEC2MetadataEnableFallback(false)).
On http.client alone, as the rest of the agent, to keep its memory footprint small."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from openssm.agent.client import RoleCredentials

DEFAULT_IMDS_URL = "http://169.254.169.254"
TOKEN_TTL_SECONDS = 21600
TOKEN_MARGIN_SECONDS = 60.0  # a token this close to its end is renewed before use
TIMEOUT_SECONDS = 2.0  # the service is link-local: a slow answer means it is not there
EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
INSTANCE_ID = "meta-data/instance-id"
REGION = "meta-data/placement/region"
IDENTITY_CREDENTIALS = "meta-data/identity-credentials/ec2/security-credentials/ec2-instance"
PROFILE_CREDENTIALS = "meta-data/iam/security-credentials/"


class ImdsError(Exception):
    """Instance metadata could not be read."""


class NoInstanceMetadata(ImdsError):
    """No IMDSv2 session token: this is not an EC2 instance, or its metadata service is off or IMDSv1-only."""


class Imds:
    """Thread-safe enough for the agent: at worst two threads each fetch a token."""

    def __init__(self, url: str = DEFAULT_IMDS_URL, *, timeout: float = TIMEOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.netloc:
            raise ValueError(f"instance metadata URL must be http://host[:port], not {url!r}")
        self.url = url
        self._netloc, self._prefix = parts.netloc, parts.path.rstrip("/")
        self._timeout = timeout
        self._clock = clock
        self._token: tuple[str, float] | None = None  # the token and when it must be renewed

    def _exchange(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        conn = http.client.HTTPConnection(self._netloc, timeout=self._timeout)
        try:
            conn.request(method, f"{self._prefix}/latest/{path}", headers=headers)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def _session_token(self, renew: bool = False) -> str:
        if self._token is not None and not renew and self._clock() < self._token[1]:
            return self._token[0]
        started = self._clock()
        try:
            status, text = self._exchange("PUT", "api/token",
                                          {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_SECONDS)})
        except (OSError, http.client.HTTPException) as err:
            raise NoInstanceMetadata(f"no IMDSv2 session token: {err}") from err
        if status != 200 or not text:
            raise NoInstanceMetadata(f"no IMDSv2 session token: HTTP {status}")
        self._token = (text, started + TOKEN_TTL_SECONDS - TOKEN_MARGIN_SECONDS)
        return text

    def get(self, path: str, *, missing_ok: bool = False) -> str | None:
        """The text at `latest/<path>`; None for a path that is not there, when `missing_ok`."""
        token = self._session_token()
        try:
            status, text = self._exchange("GET", path, {"X-aws-ec2-metadata-token": token})
            if status == 401:  # the token expired or the service restarted: one more try with a new one
                status, text = self._exchange("GET", path, {"X-aws-ec2-metadata-token": self._session_token(True)})
        except (OSError, http.client.HTTPException) as err:
            raise ImdsError(f"instance metadata {path}: {err}") from err
        if status == 404 and missing_ok:
            return None
        if status != 200:
            raise ImdsError(f"instance metadata {path}: HTTP {status}")
        return text

    def _required(self, path: str) -> str:
        text = (self.get(path) or "").strip()
        if not text:
            raise ImdsError(f"instance metadata {path} is empty")
        return text

    def instance_id(self) -> str:
        return self._required(INSTANCE_ID)

    def region(self) -> str:
        return self._required(REGION)

    def identity_credentials(self) -> RoleCredentials:
        """The instance identity role's credentials (IIR), which prove to Systems Manager which instance asks."""
        return parse_credentials(self._required(IDENTITY_CREDENTIALS), "instance identity credentials")

    def profile_role(self) -> str | None:
        """The instance profile role's name, or None for an instance without a profile."""
        listing = self.get(PROFILE_CREDENTIALS, missing_ok=True)
        names = (listing or "").split()
        return names[0] if names else None

    def profile_credentials(self, role: str) -> RoleCredentials:
        return parse_credentials(self._required(PROFILE_CREDENTIALS + role), f"instance profile role {role}")


def parse_credentials(text: str, what: str) -> RoleCredentials:
    """IMDS's credentials document; ImdsError unless its Code is Success."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        if document.get("Code") != "Success":
            raise ImdsError(f"{what}: {document.get('Code')}: {document.get('Message', '')}".rstrip(": "))
        expires = dt.datetime.strptime(document["Expiration"], EXPIRATION_FORMAT).replace(tzinfo=dt.UTC)
        return RoleCredentials(document["AccessKeyId"], document["SecretAccessKey"], document["Token"], expires)
    except (ValueError, KeyError, TypeError) as err:
        raise ImdsError(f"{what}: not a credentials document: {err}") from err
