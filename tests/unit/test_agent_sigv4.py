"""The agent's standard-library SigV4 signer reproduces, byte for byte, the signatures AWS's agent sent in its
captured traffic (tests/golden/captures/amazon-ssm-agent.json), and its RSA variant verifies as the service
checks it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest

from openssm.agent import sigv4
from openssm.agent.keys import local_signer, new_key_pair
from openssm.errors import AuthFailure
from openssm.protocol import rsa_auth
from openssm.protocol import sigv4 as server_sigv4

CAPTURE = Path(__file__).parents[1] / "golden" / "captures" / "amazon-ssm-agent.json"
EVENTS: list[dict[str, Any]] = json.loads(CAPTURE.read_text())["events"]
ROLE = sigv4.Credentials("ASIACAPTURECAPTURE01", "capture/secret/key/0123456789abcdef", "capture-session-token")
SIGNED_BY_ROLE = [i for i, e in enumerate(EVENTS) if "ASIACAPTURE" in e.get("headers", {}).get("Authorization", "")]


def _when(headers: dict[str, str]) -> dt.datetime:
    return dt.datetime.strptime(headers["X-Amz-Date"], sigv4.STAMP).replace(tzinfo=dt.UTC)


def _resign(event: dict[str, Any]) -> str:
    """Sign the captured request again from what the agent would start with (signed headers, minus the ones
    the signer adds) and answer the Authorization header."""
    headers = event["headers"]
    signed = re.search(r"SignedHeaders=([^,]+)", headers["Authorization"]).group(1).split(";")  # type: ignore[union-attr]
    service = headers["Authorization"].split("/")[3]
    base = {k: v for k, v in headers.items()
            if k.lower() in signed and k.lower() not in ("host", "x-amz-date", "x-amz-security-token")}
    signed_headers = sigv4.sign(event.get("method", "GET"), "https://127.0.0.1" + event["path"], base,
                                (event.get("body") or "").encode(), ROLE, "us-east-1", service, _when(headers))
    return signed_headers["Authorization"]


def test_the_capture_holds_role_signed_requests_of_every_kind() -> None:
    services = {EVENTS[i]["headers"]["Authorization"].split("/")[3] for i in SIGNED_BY_ROLE}
    assert services == {"ssm", "ssmmessages", "ec2messages"}
    assert any(EVENTS[i]["kind"] == "ws-open" for i in SIGNED_BY_ROLE)


@pytest.mark.parametrize("index", SIGNED_BY_ROLE)
def test_signatures_match_awss_agent_byte_for_byte(index: int) -> None:
    assert _resign(EVENTS[index]) == EVENTS[index]["headers"]["Authorization"]


def test_the_rsa_signed_role_token_request_signs_the_same_string_as_awss_agent() -> None:
    registered, token = EVENTS[0], EVENTS[1]
    public = rsa_auth.load_public_key(json.loads(registered["body"])["PublicKey"])
    headers = token["headers"]
    base = {k: headers[k] for k in ("Content-Type", "X-Amz-Target")}
    seen: list[str] = []

    def keep(message: str) -> str:
        seen.append(message)
        return "sig"

    signed = sigv4.sign_rsa("POST", "https://127.0.0.1/", base, token["body"].encode(), "mi-0123456789abcdef0",
                            keep, "us-east-1", "ssm", _when(headers))
    assert signed["Authorization"].split("Signature=")[0] == headers["Authorization"].split("Signature=")[0]
    assert rsa_auth.verify(public, seen[0], headers["Authorization"].split("Signature=")[1])


def test_an_rsa_signature_from_the_agent_verifies_with_the_registered_public_key() -> None:
    private, public = new_key_pair()
    body = b'{"Fingerprint":"f"}'
    headers = sigv4.sign_rsa("POST", "http://localhost:8080/", {"Content-Type": "application/x-amz-json-1.1",
                             "X-Amz-Target": "AmazonSSM.RequestManagedInstanceRoleToken"}, body,
                             "mi-0123456789abcdef0", local_signer(private), "eu-west-1", "ssm",
                             dt.datetime.now(dt.UTC))
    lowered = {k.lower(): v for k, v in headers.items()}
    info = server_sigv4.parse_signature("POST", "/", "", lowered)
    assert info is not None and info.access_key_id == "mi-0123456789abcdef0"
    assert rsa_auth.verify_request(rsa_auth.load_public_key(public), info, "POST", "/", "", lowered, body)
    assert not rsa_auth.verify_request(rsa_auth.load_public_key(public), info, "POST", "/", "", lowered, body + b" ")


def test_a_port_and_a_query_are_signed_as_the_service_canonicalises_them() -> None:
    now = dt.datetime.now(dt.UTC)
    headers = sigv4.sign("GET", "ws://localhost:8443/v1/control-channel/mi-1?stream=input&role=subscribe", {}, b"",
                         ROLE, "us-east-1", "ssmmessages", now)
    assert headers["Host"] == "localhost:8443"
    lowered = {k.lower(): v for k, v in headers.items()}
    path, query = "/v1/control-channel/mi-1", "stream=input&role=subscribe"
    info = server_sigv4.parse_signature("GET", path, query, lowered)
    assert info is not None
    server_sigv4.verify_signature(info, "GET", path, query, lowered, b"", ROLE.secret_access_key, now,
                                  service="ssmmessages")
    with pytest.raises(AuthFailure):
        server_sigv4.verify_signature(info, "GET", path, query, lowered, b"", "wrong", now)
