"""SSM's RSA request signing, checked on what AWS's agent really sent and on our own signer."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openssm.errors import AuthFailure
from openssm.protocol import rsa_auth, sigv4

CAPTURE = json.loads((Path(__file__).parents[2] / "golden" / "captures" / "amazon-ssm-agent.json").read_text())
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CAPTURED_AT = dt.datetime(2026, 11, 22, 10, 55, 26, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)

Received = tuple[sigv4.SignatureInfo, dict[str, str], bytes]


def captured(target: str) -> dict[str, Any]:
    return next(e for e in CAPTURE["events"] if e.get("headers", {}).get("X-Amz-Target") == f"AmazonSSM.{target}")


def registration() -> dict[str, str]:
    body: dict[str, str] = json.loads(captured("RegisterManagedInstance")["body"])
    return body


def agent_key() -> rsa.RSAPublicKey:
    return rsa_auth.load_public_key(registration()["PublicKey"])


def role_token_request(**header_changes: str) -> Received:
    event = captured("RequestManagedInstanceRoleToken")
    headers = {k.lower(): v for k, v in event["headers"].items()} | header_changes
    info = sigv4.parse_signature("POST", "/", "", headers)
    assert info is not None
    return info, headers, event["body"].encode()


def verify_captured(received: Received, body: bytes | None = None, *, key: rsa.RSAPublicKey | None = None,
                    now: dt.datetime = CAPTURED_AT) -> None:
    info, headers, original = received
    rsa_auth.verify_rsa(info, "POST", "/", "", headers, original if body is None else body, key or agent_key(), now)


def test_the_agent_registers_an_rsa_2048_spki_der_key_an_unsigned_request_and_a_uuid_fingerprint() -> None:
    event, body = captured("RegisterManagedInstance"), registration()
    assert "Authorization" not in event["headers"]
    assert body["PublicKeyType"] == rsa_auth.PUBLIC_KEY_TYPE == "Rsa"
    assert agent_key().key_size == 2048
    # Standard base64 of DER SubjectPublicKeyInfo: re-encoding the parsed key gives back the same bytes.
    assert rsa_auth.public_key_b64(agent_key()) == body["PublicKey"]
    assert UUID4.fullmatch(body["Fingerprint"])
    # The fingerprint is no function of the key; the role-token request sends the same one back.
    assert json.loads(captured("RequestManagedInstanceRoleToken")["body"]) == {"Fingerprint": body["Fingerprint"]}


def test_the_captured_role_token_request_verifies_with_the_registered_key() -> None:
    received = role_token_request()
    info = received[0]
    assert (info.access_key_id, info.region, info.service) == ("mi-0123456789abcdef0", "us-east-1", "ssm")
    assert rsa_auth.is_managed_instance_id(info.access_key_id)
    assert info.signed_headers == ("content-type", "host", "x-amz-date", "x-amz-target")
    assert len(base64.b64decode(info.signature)) == 256
    verify_captured(received)
    assert rsa_auth.verify_request(agent_key(), info, "POST", "/", "", received[1], received[2])


def test_the_captured_signature_covers_the_ordinary_sigv4_string_to_sign() -> None:
    info, headers, body = role_token_request()
    assert sigv4.string_to_sign(info, "POST", "/", "", headers, body) == (
        "AWS4-HMAC-SHA256\n20261122T105526Z\n20261122/us-east-1/ssm/aws4_request\n"
        "b2cec405c93aee61be0e6d9cd055671062ec71103a848f5e9325315cd3caf647")
    # The agent sends X-Amz-Content-Sha256 (the body's hash) without signing it, and the body chunked.
    assert headers["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest()
    assert "x-amz-content-sha256" not in info.signed_headers and headers["transfer-encoding"] == "chunked"


@pytest.mark.parametrize("change", ["body", "target", "date", "key"])
def test_a_changed_role_token_request_or_another_key_is_refused(change: str) -> None:
    received = role_token_request()
    with pytest.raises(AuthFailure) as err:
        if change == "body":
            verify_captured(received, b'{"Fingerprint":"00000000-0000-4000-8000-000000000000"}')
        elif change == "target":
            verify_captured(role_token_request(**{"x-amz-target": "AmazonSSM.DeregisterManagedInstance"}))
        elif change == "date":
            verify_captured(role_token_request(**{"x-amz-date": "20261122T105527Z"}))
        else:
            verify_captured(received, key=rsa_auth.new_key().public_key())
    assert (err.value.code, err.value.status) == ("InvalidSignatureException", 400)


def test_the_captured_request_is_refused_once_more_than_five_minutes_old() -> None:
    with pytest.raises(AuthFailure, match="Signature expired: 20261122T105526Z is now earlier than"):
        verify_captured(role_token_request(), now=CAPTURED_AT + dt.timedelta(minutes=5, seconds=1))


def agent_request() -> AWSRequest:
    return AWSRequest("POST", "https://ssm.us-east-1.amazonaws.com/", data=b'{"Fingerprint":"f"}', headers={
        "X-Amz-Target": "AmazonSSM.RequestManagedInstanceRoleToken", "Content-Type": "application/x-amz-json-1.1"})


def received_from(request: AWSRequest) -> tuple[str, str, str, dict[str, str], bytes]:
    url = urlsplit(request.url)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers.setdefault("host", url.netloc)
    return request.method, url.path or "/", url.query, headers, request.body or b""


def test_our_agent_signs_role_token_requests_the_way_aws_s_agent_does() -> None:
    key = rsa_auth.new_key()
    request = agent_request()
    rsa_auth.sign_rsa(request, "mi-0123456789abcdef0", key, "us-east-1", NOW)
    method, path, query, headers, body = received_from(request)
    assert headers["x-amz-date"] == "20261122T120000Z"
    assert headers["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=mi-0123456789abcdef0/20261122/us-east-1/ssm/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=")
    info = sigv4.parse_signature(method, path, query, headers)
    assert info is not None
    public = rsa_auth.load_public_key(rsa_auth.public_key_b64(key))
    rsa_auth.verify_rsa(info, method, path, query, headers, body, public, NOW + dt.timedelta(minutes=1))
    # Salt exactly 32, as AWS's agent signs (verify_rsa itself accepts any salt length, as the agent does).
    to_sign = sigv4.string_to_sign(info, method, path, query, headers, body)
    strict = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    public.verify(base64.b64decode(info.signature), to_sign.encode(), strict, hashes.SHA256())
    with pytest.raises(AuthFailure):
        rsa_auth.verify_rsa(info, method, path, query, headers, body + b" ", public, NOW)


def test_default_host_management_adds_an_rsa_signature_of_the_authorization_header() -> None:
    key = rsa_auth.new_key()
    public = key.public_key()
    request = agent_request()
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(Credentials("ASIAINSTANCEROLEKEY1", "instance-secret", "token"), "ssm", "us-east-1").add_auth(request)
    rsa_auth.sign_asymmetric(request, key)
    method, path, query, headers, body = received_from(request)
    assert headers["ssm-asymmetrickeyauthorization"].startswith("Signature=")
    info = sigv4.parse_signature(method, path, query, headers)
    assert info is not None
    sigv4.verify_signature(info, method, path, query, headers, body, "instance-secret", NOW)
    rsa_auth.verify_asymmetric(headers, public)
    with pytest.raises(AuthFailure) as err:
        rsa_auth.verify_asymmetric(headers | {"authorization": headers["authorization"] + " "}, public)
    assert err.value.code == "InvalidSignatureException"
    with pytest.raises(AuthFailure) as err:
        rsa_auth.verify_asymmetric({k: v for k, v in headers.items() if not k.startswith("ssm-")}, public)
    assert (err.value.code, err.value.message) == (
        "IncompleteSignatureException", "SSM-AsymmetricKeyAuthorization header requires 'Signature' parameter.")


def test_keys_round_trip_in_the_agents_encodings() -> None:
    key = rsa_auth.new_key()
    stored = rsa_auth.private_key_b64(key)
    der = base64.b64decode(stored)
    # PKCS#1 RSAPrivateKey: SEQUENCE { version 0, modulus INTEGER, … }; PKCS#8 would have an AlgorithmIdentifier.
    assert der[:2] == b"\x30\x82" and der[4:7] == b"\x02\x01\x00" and der[7] == 0x02
    loaded = rsa_auth.load_private_key(stored)
    assert loaded.private_numbers() == key.private_numbers()
    message = "AWS4-HMAC-SHA256\n20261122T120000Z\nscope\nhash"
    assert rsa_auth.verify(rsa_auth.load_public_key(rsa_auth.public_key_b64(key)), message, rsa_auth.sign(loaded, message))
    assert not rsa_auth.verify(rsa_auth.new_key().public_key(), message, rsa_auth.sign(key, message))
    assert not rsa_auth.verify(key.public_key(), message, "not base64!")


@pytest.mark.parametrize("bad", ["not base64!", "aGVsbG8=", "", "small"])
def test_malformed_or_small_public_keys_are_refused(bad: str) -> None:
    if bad == "small":
        bad = rsa_auth.public_key_b64(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(ValueError):
        rsa_auth.load_public_key(bad)


def test_fingerprints_are_fresh_uuid4s_and_instance_ids_are_recognised() -> None:
    first, second = rsa_auth.new_fingerprint(), rsa_auth.new_fingerprint()
    assert UUID4.fullmatch(first) and UUID4.fullmatch(second) and first != second
    assert rsa_auth.is_managed_instance_id("mi-0123456789abcdef0")
    assert not rsa_auth.is_managed_instance_id("i-0123456789abcdef0")
    assert not rsa_auth.is_managed_instance_id("AKIAIOSFODNN7EXAMPLE")
