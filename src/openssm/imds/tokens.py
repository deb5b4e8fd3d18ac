"""IMDSv2 session tokens: `PUT /latest/api/token` hands one out for 1 to 21600 seconds; every GET must
carry a live one. Stateless: a token is its expiry and an HMAC under a secret that dies with the process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_TTL, MAX_TTL = 1, 21600


class TokenBook:
    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret or secrets.token_bytes(32)

    def issue(self, ttl_seconds: int, now: float) -> str:
        if not MIN_TTL <= ttl_seconds <= MAX_TTL:
            raise ValueError(f"token TTL must be {MIN_TTL} to {MAX_TTL} seconds")
        expiry = str(int(now) + ttl_seconds).encode()
        return base64.urlsafe_b64encode(expiry + b"." + self._mac(expiry)).decode()

    def valid(self, token: str | None, now: float) -> bool:
        if not token:
            return False
        try:
            expiry, _, mac = base64.urlsafe_b64decode(token.encode()).partition(b".")
            return hmac.compare_digest(mac, self._mac(expiry)) and int(expiry) > now
        except ValueError:
            return False

    def _mac(self, data: bytes) -> bytes:
        return hmac.new(self._secret, data, hashlib.sha256).digest()
