"""SigV4 verification (Authorization header and presigned query strings), pure and synchronous.

The canonical request and string to sign come from botocore's own signer, fed with the request as
received and exactly the headers the client listed in SignedHeaders, so client and server canonicalise
identically; only the comparison and the clock rules are ours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from openssm.errors import AuthFailure

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=5)
MAX_PRESIGN_EXPIRES = 604800


class AuthErrorKind(StrEnum):
    MISSING = "missing"
    INCOMPLETE = "incomplete"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED_TOKEN = "expired_token"


_INVALID_TOKEN = "The security token included in the request is invalid."
_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
_EXPIRED_TOKEN = "The security token included in the request is expired"

# (code, HTTP status, default message) per protocol family, as AWS's JSON and query services answer.
_ERRORS: dict[str, dict[AuthErrorKind, tuple[str, int, str]]] = {
    "json": {
        AuthErrorKind.MISSING: ("MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        AuthErrorKind.INCOMPLETE: ("IncompleteSignatureException", 400, "Incomplete signature"),
        AuthErrorKind.UNKNOWN_KEY: ("UnrecognizedClientException", 400, _INVALID_TOKEN),
        AuthErrorKind.BAD_SIGNATURE: ("InvalidSignatureException", 400, _BAD_SIGNATURE),
        AuthErrorKind.EXPIRED_TOKEN: ("ExpiredTokenException", 400, _EXPIRED_TOKEN),
    },
    "query": {
        AuthErrorKind.MISSING: ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        AuthErrorKind.INCOMPLETE: ("IncompleteSignature", 400, "Incomplete signature"),
        AuthErrorKind.UNKNOWN_KEY: ("InvalidClientTokenId", 403, _INVALID_TOKEN),
        AuthErrorKind.BAD_SIGNATURE: ("SignatureDoesNotMatch", 403, _BAD_SIGNATURE),
        AuthErrorKind.EXPIRED_TOKEN: ("ExpiredToken", 403, _EXPIRED_TOKEN),
    },
}


def auth_error(kind: AuthErrorKind, family: str, message: str | None = None) -> AuthFailure:
    code, status, default = _ERRORS["query" if family == "query" else "json"][kind]
    return AuthFailure(message or default, code=code, status=status)


@dataclass(frozen=True)
class SignatureInfo:
    """What a request claims about its signature, before verification."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: dt.datetime
    amz_date_text: str
    security_token: str | None
    presigned: bool
    expires: int | None = None


class _Malformed(Exception):
    pass


def _parse_amz_date(text: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError as err:
        raise _Malformed(f"Date must be in ISO-8601 'basic format'. Got '{text}'.") from err


def _credential(value: str) -> tuple[str, str, str, str]:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise _Malformed(f"Credential should be scoped to a valid region. Got '{value}'.")
    return parts[0], parts[1], parts[2], parts[3]


def _from_header(auth: str, headers: Mapping[str, str]) -> SignatureInfo:
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _Malformed(f"Unsupported signing algorithm '{algorithm}'.")
    fields = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
    missing = [f"Authorization header requires '{k}' parameter." for k in ("Credential", "SignedHeaders", "Signature")
               if k not in fields]
    date_text = headers.get("x-amz-date") or ""
    if not date_text:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise _Malformed(" ".join(missing) + f" Authorization={auth}")
    key, scope_date, region, service = _credential(fields["Credential"])
    return SignatureInfo(key, scope_date, region, service, tuple(fields["SignedHeaders"].split(";")),
                         fields["Signature"], _parse_amz_date(date_text), date_text,
                         headers.get("x-amz-security-token"), presigned=False)


def _from_query(query: Mapping[str, str]) -> SignatureInfo:
    needed = ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
    missing = [k for k in needed if k not in query]
    if missing or query.get("X-Amz-Algorithm") != ALGORITHM:
        raise _Malformed("AWS query-string parameters must include " + ", ".join(missing or ["X-Amz-Algorithm"]))
    key, scope_date, region, service = _credential(query["X-Amz-Credential"])
    try:
        expires = int(query.get("X-Amz-Expires", "900"))
    except ValueError as err:
        raise _Malformed("X-Amz-Expires must be a number") from err
    if not 1 <= expires <= MAX_PRESIGN_EXPIRES:
        raise _Malformed("X-Amz-Expires must be between 1 and 604800 seconds")
    return SignatureInfo(key, scope_date, region, service, tuple(query["X-Amz-SignedHeaders"].split(";")),
                         query["X-Amz-Signature"], _parse_amz_date(query["X-Amz-Date"]), query["X-Amz-Date"],
                         query.get("X-Amz-Security-Token"), presigned=True, expires=expires)


def parse_signature(method: str, path: str, query_string: str, headers: Mapping[str, str],
                    family: str = "json") -> SignatureInfo | None:
    """Read the claimed signature; None when the request carries none at all."""
    auth = headers.get("authorization")
    try:
        if auth:
            return _from_header(auth, headers)
        if "X-Amz-Signature=" in query_string or "X-Amz-Credential=" in query_string:
            return _from_query(dict(parse_qsl(query_string, keep_blank_values=True)))
    except _Malformed as err:
        raise auth_error(AuthErrorKind.INCOMPLETE, family, str(err)) from err
    return None


@lru_cache(maxsize=4096)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class _Canonical(SigV4Auth):  # type: ignore[misc]
    """botocore's canonicalisation over exactly the headers the client signed."""

    def __init__(self, info: SignatureInfo, signed: HTTPHeaders) -> None:
        super().__init__(Credentials("unused", "unused"), info.service, info.region)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> HTTPHeaders:
        return self._signed


class _PresignedCanonical(_Canonical, SigV4QueryAuth):  # type: ignore[misc]
    def __init__(self, info: SignatureInfo, signed: HTTPHeaders) -> None:
        _Canonical.__init__(self, info, signed)


def _string_to_sign(info: SignatureInfo, method: str, path: str, query_string: str,
                    headers: Mapping[str, str], body: bytes) -> str:
    signed = HTTPHeaders()
    for name in info.signed_headers:
        value = headers.get(name)
        if value is None:
            raise auth_error(AuthErrorKind.BAD_SIGNATURE, "json")
        signed[name] = value
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if info.presigned:
        pairs = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
    url = f"http://{headers.get('host', 'localhost')}{path}" + (f"?{urlencode(pairs)}" if pairs else "")
    request = AWSRequest(method=method, url=url, data=body)
    request.context["timestamp"] = info.amz_date_text
    canonical = (_PresignedCanonical if info.presigned else _Canonical)(info, signed)
    return str(canonical.string_to_sign(request, canonical.canonical_request(request)))


def _check_clock(info: SignatureInfo, now: dt.datetime, family: str) -> None:
    stamp = info.amz_date_text
    if info.presigned:
        assert info.expires is not None
        if now > info.amz_date + dt.timedelta(seconds=info.expires) or info.amz_date - now > MAX_SKEW:
            raise auth_error(AuthErrorKind.BAD_SIGNATURE, family, "Signature expired: the presigned request "
                             f"dated {stamp} was valid for {info.expires} seconds")
        return
    now_text = now.strftime("%Y%m%dT%H%M%SZ")
    if info.amz_date < now - MAX_SKEW:
        limit = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family,
                         f"Signature expired: {stamp} is now earlier than {limit} ({now_text} - 5 min.)")
    if info.amz_date > now + MAX_SKEW:
        limit = (now + MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family,
                         f"Signature not yet current: {stamp} is still later than {limit} ({now_text} + 5 min.)")


def verify_signature(info: SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
                     body: bytes, secret_key: str, now: dt.datetime, *, family: str = "json") -> None:
    """Raise AuthFailure unless the request was signed with `secret_key` within the allowed time."""
    _check_clock(info, now, family)
    if info.scope_date != info.amz_date_text[:8]:
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family,
                         f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                         f"'{info.scope_date}' != '{info.amz_date_text[:8]}', from '{info.amz_date_text}'.")
    claimed_hash = headers.get("x-amz-content-sha256")
    if claimed_hash and not info.presigned and claimed_hash != hashlib.sha256(body).hexdigest():
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family)
    try:
        to_sign = _string_to_sign(info, method, path, query_string, headers, body)
    except AuthFailure as err:
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family) from err
    key = _signing_key(secret_key, info.scope_date, info.region, info.service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, info.signature):
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, family)


def string_to_sign(info: SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
                   body: bytes) -> str:
    """The SigV4 string to sign (also what SSM's RSA-signed requests sign)."""
    return _string_to_sign(info, method, path, query_string, headers, body)
