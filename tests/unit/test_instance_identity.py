"""Instance identity documents, their signatures, signed credential requests and IMDSv2 tokens."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from openssm.imds.tokens import MAX_TTL, TokenBook
from openssm.protocol.instance_identity import CredentialRequest, IdentityError, InstanceIdentity, sign, verify

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
IDENTITY = InstanceIdentity("111122223333", "eu-west-1", "i-0123456789abcdef0", "eu-west-1b")
NOW = dt.datetime(2026, 11, 22, 15, 0, tzinfo=dt.UTC)


def test_the_document_has_ec2s_fields_and_parses_back() -> None:
    fields = json.loads(IDENTITY.document())
    assert list(fields)[:3] == ["accountId", "architecture", "availabilityZone"]
    assert fields["instanceId"] == "i-0123456789abcdef0" and fields["version"] == "2017-09-30"
    assert InstanceIdentity.parse(IDENTITY.document()) == IDENTITY


@pytest.mark.parametrize("instance_id", ["i-xyz", "mi-0123456789abcdef0", "i-0123456789abcdef", ""])
def test_only_ec2_instance_ids_make_an_identity(instance_id: str) -> None:
    with pytest.raises(IdentityError):
        InstanceIdentity("111122223333", "eu-west-1", instance_id, "eu-west-1a")


def test_a_signature_verifies_with_the_public_key_only_for_the_same_bytes() -> None:
    signature = sign(KEY, IDENTITY.document())
    assert verify(PUBLIC, IDENTITY.document(), signature)
    assert not verify(PUBLIC, IDENTITY.document().replace(b"eu-west-1b", b"eu-west-1c"), signature)
    assert not verify(PUBLIC, IDENTITY.document(), sign(OTHER, IDENTITY.document()))
    assert not verify(PUBLIC, IDENTITY.document(), "not base64!")


def test_a_credential_request_binds_kind_time_and_document() -> None:
    request = CredentialRequest(IDENTITY.document(), "identity", NOW)
    parsed, signature = CredentialRequest.from_json(request.to_json(KEY))
    assert parsed == request and verify(PUBLIC, parsed.payload(), signature)
    swapped = CredentialRequest(IDENTITY.document(), "instance-profile", NOW)
    assert not verify(PUBLIC, swapped.payload(), signature)


def test_a_request_older_or_newer_than_five_minutes_is_refused() -> None:
    request = CredentialRequest(IDENTITY.document(), "identity", NOW)
    request.check_fresh(NOW + dt.timedelta(minutes=4))
    for skew in (dt.timedelta(minutes=6), -dt.timedelta(minutes=6)):
        with pytest.raises(IdentityError):
            request.check_fresh(NOW + skew)


@pytest.mark.parametrize("body", [b"{}", b"not json", json.dumps(
    {"Document": "{}", "Kind": "root", "SignedAt": "20261122T150000Z", "Signature": "x"}).encode()])
def test_malformed_requests_are_refused(body: bytes) -> None:
    with pytest.raises(IdentityError):
        CredentialRequest.from_json(body)


def test_tokens_live_for_their_ttl_and_cannot_be_forged() -> None:
    book = TokenBook()
    token = book.issue(60, now=1000.0)
    assert book.valid(token, 1059.0) and not book.valid(token, 1060.0)
    assert not TokenBook().valid(token, 1001.0)  # another process's secret
    assert not book.valid(token[:-4] + "AAAA", 1001.0) and not book.valid(None, 0) and not book.valid("@@", 0)
    for ttl in (0, MAX_TTL + 1):
        with pytest.raises(ValueError):
            book.issue(ttl, 0)
