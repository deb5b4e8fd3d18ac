"""SSM's RSA request signing, checked on the request AWS's agent really sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openssm.protocol import rsa_auth, sigv4

CAPTURE = json.loads((Path(__file__).parents[2] / "golden" / "captures" / "amazon-ssm-agent.json").read_text())


def captured(target: str) -> dict[str, Any]:
    return next(e for e in CAPTURE["events"] if e.get("headers", {}).get("X-Amz-Target") == f"AmazonSSM.{target}")


def role_token_request(body: bytes | None = None) -> tuple[sigv4.SignatureInfo, dict[str, str], bytes]:
    event = captured("RequestManagedInstanceRoleToken")
    headers = {k.lower(): v for k, v in event["headers"].items()}
    info = sigv4.parse_signature("POST", "/", "", headers)
    assert info is not None
    return info, headers, body if body is not None else event["body"].encode()


def public_key() -> Any:
    return rsa_auth.load_public_key(json.loads(captured("RegisterManagedInstance")["body"])["PublicKey"])


def test_the_agents_registration_carries_a_2048_bit_rsa_key_and_a_uuid_fingerprint() -> None:
    body = json.loads(captured("RegisterManagedInstance")["body"])
    assert body["PublicKeyType"] == "Rsa"
    assert public_key().key_size == 2048
    assert len(body["Fingerprint"]) == 36 and body["Fingerprint"].count("-") == 4


def test_the_captured_role_token_request_verifies_with_the_registered_key() -> None:
    info, headers, body = role_token_request()
    assert info.access_key_id == "mi-0123456789abcdef0" and info.service == "ssm"
    assert rsa_auth.verify_request(public_key(), info, "POST", "/", "", headers, body)


def test_a_changed_body_or_header_does_not_verify() -> None:
    info, headers, _ = role_token_request()
    assert not rsa_auth.verify_request(public_key(), info, "POST", "/", "", headers, b'{"Fingerprint":"other"}')
    changed = {**headers, "x-amz-target": "AmazonSSM.DeregisterManagedInstance"}
    info, _, body = role_token_request()
    assert not rsa_auth.verify_request(public_key(), info, "POST", "/", "", changed, body)


def test_our_signatures_verify_and_another_key_does_not() -> None:
    key, other = rsa_auth.new_key(), rsa_auth.new_key()
    signature = rsa_auth.sign(key, "AWS4-HMAC-SHA256\n20261122T105526Z\nscope\nhash")
    own = rsa_auth.load_public_key(rsa_auth.public_key_b64(key))
    assert rsa_auth.verify(own, "AWS4-HMAC-SHA256\n20261122T105526Z\nscope\nhash", signature)
    assert not rsa_auth.verify(rsa_auth.load_public_key(rsa_auth.public_key_b64(other)),
                               "AWS4-HMAC-SHA256\n20261122T105526Z\nscope\nhash", signature)


@pytest.mark.parametrize("bad", ["not base64!", "aGVsbG8=", ""])
def test_malformed_public_keys_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        rsa_auth.load_public_key(bad)
