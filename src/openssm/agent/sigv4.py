"""SigV4 signing for the agent's own requests, on the standard library alone: botocore's signer would cost the
agent about 8 MB of its 30 MB memory budget. Checked against the signatures of AWS's agent's captured requests
(tests/unit/test_agent_sigv4.py), including the RSA variant hybrid nodes use for their role token (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
STAMP = "%Y%m%dT%H%M%SZ"
# Headers that proxies and HTTP stacks may change or drop; AWS's SDKs leave them out of the signature too.
_UNSIGNED = frozenset({"user-agent", "expect", "transfer-encoding", "accept-encoding", "x-amzn-trace-id",
                       "connection", "upgrade", "sec-websocket-key", "sec-websocket-version"})


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""


def host_of(url: str) -> str:
    """The Host header for a URL: the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def _canonical_query(query: str) -> str:
    pairs = []
    for item in filter(None, query.split("&")):
        key, _, value = item.partition("=")
        # The URL's query is already encoded; SigV4 encodes each name and value once, from their raw form.
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _scope(stamp: str, region: str, service: str) -> str:
    return f"{stamp[:8]}/{region}/{service}/aws4_request"


def string_to_sign(method: str, url: str, headers: Mapping[str, str], body: bytes, region: str,
                   service: str) -> tuple[str, str]:
    """SigV4's string to sign for a request whose headers already hold X-Amz-Date; also the SignedHeaders."""
    parts = urlsplit(url)
    lowered = {k.lower(): " ".join(v.strip().split()) for k, v in headers.items() if k.lower() not in _UNSIGNED}
    signed = ";".join(sorted(lowered))
    canonical = "\n".join([
        method.upper(), quote(parts.path or "/", safe="/~"), _canonical_query(parts.query),
        "".join(f"{k}:{lowered[k]}\n" for k in sorted(lowered)), signed, hashlib.sha256(body).hexdigest()])
    stamp = lowered["x-amz-date"]
    return "\n".join([ALGORITHM, stamp, _scope(stamp, region, service),
                      hashlib.sha256(canonical.encode()).hexdigest()]), signed


def _stamp_headers(url: str, headers: Mapping[str, str], now: dt.datetime, token: str) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date", "host")}
    out["Host"] = host_of(url)
    out["X-Amz-Date"] = now.astimezone(dt.UTC).strftime(STAMP)
    if token:
        out["X-Amz-Security-Token"] = token
    return out


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method: str, url: str, headers: Mapping[str, str], body: bytes, creds: Credentials, region: str,
         service: str, now: dt.datetime) -> dict[str, str]:
    """The request's headers with Host, X-Amz-Date, the session token and the Authorization header added."""
    out = _stamp_headers(url, headers, now, creds.session_token)
    to_sign, signed = string_to_sign(method, url, out, body, region, service)
    stamp = out["X-Amz-Date"]
    key = ("AWS4" + creds.secret_access_key).encode()
    for part in (stamp[:8], region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (f"{ALGORITHM} Credential={creds.access_key_id}/{_scope(stamp, region, service)}, "
                            f"SignedHeaders={signed}, Signature={signature}")
    return out


def sign_rsa(method: str, url: str, headers: Mapping[str, str], body: bytes, instance_id: str,
             signer: Callable[[str], str], region: str, service: str, now: dt.datetime) -> dict[str, str]:
    """A hybrid node's signature: the ordinary string to sign, signed with its RSA key (`signer` answers the
    base64 RSA-PSS signature), under `Credential=mi-…/<date>/<region>/<service>/aws4_request`."""
    out = _stamp_headers(url, headers, now, "")
    to_sign, signed = string_to_sign(method, url, out, body, region, service)
    stamp = out["X-Amz-Date"]
    out["Authorization"] = (f"{ALGORITHM} Credential={instance_id}/{_scope(stamp, region, service)}, "
                            f"SignedHeaders={signed}, Signature={signer(to_sign)}")
    return out
