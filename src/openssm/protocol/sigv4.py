"""SigV4 verification (Authorization header and presigned query string), pure and synchronous.

The canonical request and the string to sign come from botocore's own signer, fed with the request as received
and exactly the headers the client listed in SignedHeaders, so client and server canonicalise alike. Parsing,
the clock rules, AWS's error codes and wording, and the comparison are ours.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest

from openssm.errors import AuthFailure

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = dt.timedelta(minutes=5)
MAX_PRESIGN_EXPIRES = 604800
QUERY_SERVICES = frozenset({"iam", "sts"})
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"

# Region names are namespaces here (DESIGN §3), so any sane label is valid, not only AWS's list.
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_STAMP = re.compile(r"\d{8}T\d{6}Z")


class Family(StrEnum):
    """The two error dialects: JSON services (ssm, kms, …) and query services (iam, sts)."""

    JSON = "json"
    QUERY = "query"


class AuthErrorKind(StrEnum):
    MISSING = "missing"
    INCOMPLETE = "incomplete"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    EXPIRED_TOKEN = "expired_token"


@dataclass(frozen=True)
class AuthErrorShape:
    code: str
    status: int
    message: str


_INVALID_TOKEN = "The security token included in the request is invalid."
_EXPIRED_TOKEN = "The security token included in the request is expired"
BAD_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

# What AWS answers, per dialect, with the statuses real endpoints use: JSON services answer 400 to every
# authentication failure; IAM and STS answer 403, except 400 for a malformed signature.
AUTH_ERRORS: Mapping[Family, Mapping[AuthErrorKind, AuthErrorShape]] = {
    Family.JSON: {
        AuthErrorKind.MISSING: AuthErrorShape(
            "MissingAuthenticationTokenException", 400, "Missing Authentication Token"),
        AuthErrorKind.INCOMPLETE: AuthErrorShape("IncompleteSignatureException", 400, "Incomplete signature"),
        AuthErrorKind.UNKNOWN_KEY: AuthErrorShape("UnrecognizedClientException", 400, _INVALID_TOKEN),
        AuthErrorKind.BAD_SIGNATURE: AuthErrorShape("InvalidSignatureException", 400, BAD_SIGNATURE_MESSAGE),
        AuthErrorKind.EXPIRED_TOKEN: AuthErrorShape("ExpiredTokenException", 400, _EXPIRED_TOKEN),
    },
    Family.QUERY: {
        AuthErrorKind.MISSING: AuthErrorShape(
            "MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
        AuthErrorKind.INCOMPLETE: AuthErrorShape("IncompleteSignature", 400, "Incomplete signature"),
        AuthErrorKind.UNKNOWN_KEY: AuthErrorShape("InvalidClientTokenId", 403, _INVALID_TOKEN),
        AuthErrorKind.BAD_SIGNATURE: AuthErrorShape("SignatureDoesNotMatch", 403, BAD_SIGNATURE_MESSAGE),
        AuthErrorKind.EXPIRED_TOKEN: AuthErrorShape("ExpiredToken", 403, _EXPIRED_TOKEN),
    },
}


def auth_error(kind: AuthErrorKind, family: str, message: str | None = None) -> AuthFailure:
    """The AuthFailure AWS would answer for `kind` in the given dialect ("json" or "query")."""
    shape = AUTH_ERRORS[Family.QUERY if family == Family.QUERY else Family.JSON][kind]
    return AuthFailure(message or shape.message, code=shape.code, status=shape.status)


def family_for(headers: Mapping[str, str], service: str | None = None) -> Family:
    """The dialect of a request: JSON when it names an X-Amz-Target, else by the signing service."""
    if headers.get("x-amz-target"):
        return Family.JSON
    if service is None or service in QUERY_SERVICES:
        return Family.QUERY
    return Family.JSON


@dataclass(frozen=True)
class SignatureInfo:
    """What a request claims about its signature, before verification.

    `date` is the credential scope's date, `timestamp` the request time as the string to sign spells it.
    """

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: dt.datetime
    timestamp: str
    security_token: str | None
    presigned: bool = False
    expires: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


class _Refusal(Exception):
    def __init__(self, kind: AuthErrorKind, message: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _incomplete(message: str) -> _Refusal:
    return _Refusal(AuthErrorKind.INCOMPLETE, message)


def _parse_stamp(text: str) -> dt.datetime:
    # fromisoformat reads the basic format at a tenth of strptime's cost (strptime was half of a verification);
    # the pattern keeps out the other ISO spellings it would accept.
    try:
        if not _STAMP.fullmatch(text):
            raise ValueError(text)
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise _incomplete(f"Date must be in ISO-8601 'basic format'. Got '{text}'. "
                          "See http://en.wikipedia.org/wiki/ISO_8601") from None


def _parse_http_date(text: str) -> tuple[dt.datetime, str]:
    # botocore itself sends an RFC 1123 `Date` (and no X-Amz-Date) when the request already had a Date header.
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return _parse_stamp(text), text
    when = when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return when, when.strftime(STAMP_FORMAT)


def _split_credential(credential: str) -> list[str]:
    parts = credential.split("/")
    if len(parts) != 5:
        raise _incomplete("Credential must have exactly 5 slash-delimited elements, "
                          f"e.g. keyid/date/region/service/term, got '{credential}'")
    return parts


def _check_scope(parts: list[str], stamp: str) -> None:
    _, date, region, _, terminator = parts
    problems = []
    if not _REGION.fullmatch(region):
        problems.append(f"Credential should be scoped to a valid region, not '{region}'.")
    if terminator != TERMINATOR:
        problems.append(f"Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'.")
    if date != stamp[:8]:
        problems.append("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                        f"'{date}' != '{stamp[:8]}', from '{stamp}'.")
    if problems:
        raise _Refusal(AuthErrorKind.BAD_SIGNATURE, " ".join(problems))


def _signed_headers(text: str) -> tuple[str, ...]:
    names = tuple(sorted(text.split(";")))
    if "host" not in names and ":authority" not in names:
        raise _Refusal(AuthErrorKind.BAD_SIGNATURE,
                       "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    return names


def _build(parts: list[str], signed: tuple[str, ...], signature: str, when: tuple[dt.datetime, str],
           token: str | None, expires: int | None = None, presigned: bool = False) -> SignatureInfo:
    return SignatureInfo(parts[0], parts[1], parts[2], parts[3], signed, signature, when[0], when[1], token,
                         presigned, expires)


def _from_header(auth: str, headers: Mapping[str, str]) -> SignatureInfo:
    text = auth.strip()
    algorithm, _, rest = text.partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"Unsupported AWS 'algorithm': '{algorithm}'.")
    fields: dict[str, str] = {}
    # AWS splits at spaces as well as commas: a stray space in a key ID is reported as a pair without '='.
    for pair in rest.replace(",", " ").split():
        key, eq, value = pair.partition("=")
        if not eq:
            raise _incomplete(f"'{pair}' not a valid key=value pair (missing equal-sign) in Authorization header: "
                              f"'{text}'.")
        fields[key] = value
    missing = [f"Authorization header requires '{name}' parameter."
               for name in ("Credential", "Signature", "SignedHeaders") if name not in fields]
    amz_date, http_date = headers.get("x-amz-date"), headers.get("date")
    if not amz_date and not http_date:
        missing.append("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
    if missing:
        raise _incomplete(" ".join(missing) + f" Authorization={text}")
    signed = _signed_headers(fields["SignedHeaders"])
    when = (_parse_stamp(amz_date), amz_date) if amz_date else _parse_http_date(http_date or "")
    parts = _split_credential(fields["Credential"])
    _check_scope(parts, when[1])
    return _build(parts, signed, fields["Signature"], when, headers.get("x-amz-security-token"))


@lru_cache(maxsize=64)
def _query_pairs(query_string: str) -> tuple[tuple[str, str], ...]:
    # Cached because a presigned request's query is decoded twice in a row (parse, then canonicalise), and
    # parse_qsl is the dearest step of a presigned verification.
    return tuple(parse_qsl(query_string, keep_blank_values=True))


def _first_values(query_string: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in _query_pairs(query_string):
        values.setdefault(key, value)
    return values


def _expires(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        seconds = int(text)
    except ValueError:
        raise _incomplete("X-Amz-Expires should be a number") from None
    if seconds < 0:
        raise _incomplete("X-Amz-Expires must be non-negative")
    if seconds > MAX_PRESIGN_EXPIRES:
        raise _incomplete(f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}")
    return seconds


def _from_query(query: Mapping[str, str]) -> SignatureInfo:
    names = ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date")
    missing = [f"AWS query-string parameters must include '{name}'." for name in names if name not in query]
    if missing:
        raise _incomplete(" ".join(missing) + " Re-examine the query-string parameters.")
    signed = _signed_headers(query["X-Amz-SignedHeaders"])
    when = _parse_stamp(query["X-Amz-Date"]), query["X-Amz-Date"]
    parts = _split_credential(query["X-Amz-Credential"])
    _check_scope(parts, query["X-Amz-Date"])
    return _build(parts, signed, query["X-Amz-Signature"], when, query.get("X-Amz-Security-Token"),
                  _expires(query.get("X-Amz-Expires")), presigned=True)


def _service_of(text: str) -> str | None:
    parts = text.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return parts[3] if len(parts) == 5 else None


def parse_signature(method: str, path: str, query_string: str, headers: Mapping[str, str],
                    family: str | None = None) -> SignatureInfo | None:
    """Read the signature a request claims, or None when it carries none (AWS: MissingAuthenticationToken).

    `headers` must be case-insensitive or keyed in lower case. Malformed signatures raise AuthFailure in the
    dialect `family` ("json"/"query"; by default guessed from X-Amz-Target and the credential's service).
    The checks that need neither clock nor key are made here, in AWS's order; `verify_signature` does the rest.
    """
    auth = headers.get("authorization")
    query = _first_values(query_string) if "X-Amz-Algorithm" in query_string else {}
    # Only AWS4-HMAC-SHA256 makes a presigned request; any other algorithm is as good as no signature.
    presigned = query.get("X-Amz-Algorithm") == ALGORITHM
    try:
        if auth and presigned:
            raise _Refusal(AuthErrorKind.BAD_SIGNATURE)
        if auth:
            return _from_header(auth, headers)
        if presigned:
            return _from_query(query)
    except _Refusal as refusal:
        service = _service_of(auth or query.get("X-Amz-Credential", ""))
        raise auth_error(refusal.kind, family or family_for(headers, service), refusal.message) from None
    return None


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime(STAMP_FORMAT)


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} sec"


def check_request_time(info: SignatureInfo, now: dt.datetime, family: str | None = None) -> None:
    """Refuse a request dated more than 5 minutes from `now`, or a presigned one past its X-Amz-Expires.

    AWS checks the time before it looks the key up, so callers may run this before the credential lookup;
    `verify_signature` runs it as well.
    """
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    fam = family or (Family.QUERY if info.service in QUERY_SERVICES else Family.JSON)
    if info.amz_date > now + MAX_SKEW:
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, fam,
                         f"Signature not yet current: {info.timestamp} is still later than "
                         f"{_stamp(now + MAX_SKEW)} ({_stamp(now)} + 5 min.)")
    # A presigned request lives for its X-Amz-Expires instead of 5 minutes (same wording, its own span).
    window = dt.timedelta(seconds=info.expires) if info.expires is not None else MAX_SKEW
    if info.amz_date < now - window:
        span = _duration(info.expires) if info.expires is not None else "5 min"
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, fam,
                         f"Signature expired: {info.timestamp} is now earlier than "
                         f"{_stamp(now - window)} ({_stamp(now)} - {span}.)")


class _SignedHeaders(dict[str, str]):
    """The headers botocore canonicalises: a dict with HTTPHeaders' `get_all`, far cheaper than an email Message."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _OnlySignedHeaders:
    """Hands botocore exactly the headers the client signed, as received."""

    signed: _SignedHeaders

    def headers_to_sign(self, request: AWSRequest) -> _SignedHeaders:
        return self.signed


class _HeaderCanonicaliser(_OnlySignedHeaders, SigV4Auth):  # type: ignore[misc]
    pass


class _QueryCanonicaliser(_OnlySignedHeaders, SigV4QueryAuth):  # type: ignore[misc]
    pass


@dataclass(frozen=True)
class Canonical:
    request: str
    string_to_sign: str


def canonicalise(info: SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
                 body: bytes, family: str | None = None) -> Canonical:
    """The canonical request and string to sign, by botocore's rules, of a request as received.

    `path` is the path as the client's URL had it (on the wire: still percent-encoded); botocore normalises it
    and encodes it once more, as AWS does for every service but S3. The query string is decoded and given to
    botocore as parameters, which it encodes and sorts, so every client's spelling of the same parameters
    canonicalises alike; a presigned request's X-Amz-Signature is left out. The payload hash is computed from
    `body`, never taken from X-Amz-Content-SHA256, so a claimed hash cannot stand in for the body.
    """
    signed = _SignedHeaders()
    for name in info.signed_headers:
        value = headers.get(name)
        if value is None:
            raise auth_error(AuthErrorKind.BAD_SIGNATURE, family or family_for(headers, info.service))
        signed[name] = value
    pairs = [(k, v) for k, v in _query_pairs(query_string) if k != "X-Amz-Signature" or not info.presigned]
    request = AWSRequest(method=method, url=f"https://openssm.invalid{path or '/'}",
                         headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()}, params=pairs)
    request.context["timestamp"] = info.timestamp
    signer: Any = (_QueryCanonicaliser if info.presigned else _HeaderCanonicaliser)(None, info.service, info.region)
    signer.signed = signed
    canonical = str(signer.canonical_request(request))
    return Canonical(canonical, str(signer.string_to_sign(request, canonical)))


def string_to_sign(info: SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
                   body: bytes, family: str | None = None) -> str:
    """The SigV4 string to sign (also what SSM's RSA-signed requests sign)."""
    return canonicalise(info, method, path, query_string, headers, body, family).string_to_sign


@lru_cache(maxsize=512)
def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """kSigning of the SigV4 key derivation; cached, as a client derives the same one for a whole day."""
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def mismatch_message(canonical: Canonical) -> str:
    # AWS appends what it computed, which lets a client's author find the difference.
    return (f"{BAD_SIGNATURE_MESSAGE}\n\nThe Canonical String for this request should have been\n"
            f"'{canonical.request}'\n\nThe String-to-Sign should have been\n'{canonical.string_to_sign}'\n")


def verify_signature(info: SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
                     body: bytes, secret_key: str, now: dt.datetime, *, family: str | None = None,
                     service: str | None = None) -> None:
    """Raise AuthFailure unless the request was signed with `secret_key`, in time, and for `service` if given."""
    fam = family or family_for(headers, info.service)
    check_request_time(info, now, fam)
    if service is not None and info.service != service:
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, fam,
                         f"Credential should be scoped to correct service: '{service}'.")
    canonical = canonicalise(info, method, path, query_string, headers, body, fam)
    key = signing_key(secret_key, info.date, info.region, info.service)
    expected = hmac.new(key, canonical.string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), info.signature.encode()):
        raise auth_error(AuthErrorKind.BAD_SIGNATURE, fam, mismatch_message(canonical))


__all__ = [
    "ALGORITHM", "AUTH_ERRORS", "AuthErrorKind", "AuthErrorShape", "BAD_SIGNATURE_MESSAGE", "Canonical", "Family",
    "MAX_PRESIGN_EXPIRES", "MAX_SKEW", "QUERY_SERVICES", "STAMP_FORMAT", "SignatureInfo", "auth_error",
    "canonicalise", "check_request_time", "family_for", "mismatch_message", "parse_signature", "signing_key",
    "string_to_sign", "verify_signature",
]
