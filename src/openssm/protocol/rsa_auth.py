"""SSM's asymmetric-key request signatures: managed instances sign with the RSA key they registered (DESIGN §4).

Facts from AWS's agent (agent/managedInstances/auth, agent/ssm/rsaauth) and its captured traffic
(tests/golden/captures/amazon-ssm-agent.json): RSA-2048; RegisterManagedInstance's PublicKey is base64 DER
SubjectPublicKeyInfo with PublicKeyType "Rsa"; the agent stores its private key as base64 DER PKCS#1.
Signatures are RSA-PSS, SHA-256, MGF1-SHA-256, salt 32, in standard base64.
Hybrid nodes sign the ordinary SigV4 string to sign with the private key and put the base64 signature where the
hex HMAC would be, under `Credential=mi-…/date/region/ssm/aws4_request`. Default Host Management signs with
instance credentials as usual, then signs the whole Authorization header value and sends that signature as
`SSM-AsymmetricKeyAuthorization: Signature=<base64>`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openssm.protocol import sigv4

PUBLIC_KEY_TYPE = "Rsa"
KEY_BITS = 2048
SALT_LENGTH = 32
ASYMMETRIC_AUTH_HEADER = "SSM-AsymmetricKeyAuthorization"

_MANAGED_INSTANCE_ID = re.compile(r"mi-[0-9a-f]{17}")
_SIGN_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTH)
# AWS's agent verifies with Go's PSSSaltLengthAuto, accepting any salt length; so do we.
_VERIFY_PADDING = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def new_fingerprint() -> str:
    """The Fingerprint a hybrid node registers with: a random UUID (lower case, hyphenated) that it keeps.

    Not derived from the key: AWS's agent makes it once (uuid.NewV4) and stores it beside a hash of the
    hardware, making a new one only when the hardware changes past a similarity threshold. Default Host
    Management registers with the EC2 instance ID as its Fingerprint instead.
    """
    return str(uuid.uuid4())


def public_key_b64(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """RegisterManagedInstance's PublicKey: base64 of DER SubjectPublicKeyInfo."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def load_public_key(b64: str) -> rsa.RSAPublicKey:
    """Parse a registration's PublicKey; ValueError if it is not a base64 DER RSA key of at least 2048 bits."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError) as err:
        raise ValueError("PublicKey is not a base64-encoded DER SubjectPublicKeyInfo") from err
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < KEY_BITS:
        raise ValueError("PublicKey must be an RSA key of at least 2048 bits")
    return key


def private_key_b64(key: rsa.RSAPrivateKey) -> str:
    """The agent's stored form of its private key: base64 of DER PKCS#1 RSAPrivateKey."""
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return base64.b64encode(der).decode()


def load_private_key(b64: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_der_private_key(base64.b64decode(b64, validate=True), password=None)
    except (binascii.Error, ValueError, TypeError) as err:
        raise ValueError("not a base64-encoded DER RSA private key") from err
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def is_managed_instance_id(access_key_id: str) -> bool:
    """Whether a credential's key ID is a managed-instance ID, the mark of a hybrid node's RSA signature."""
    return _MANAGED_INSTANCE_ID.fullmatch(access_key_id) is not None


def sign(key: rsa.RSAPrivateKey, message: str) -> str:
    """Base64 RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) signature of `message`'s UTF-8 bytes."""
    return base64.b64encode(key.sign(message.encode(), _SIGN_PADDING, hashes.SHA256())).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), message.encode(), _VERIFY_PADDING,
                          hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


class _RsaSigV4(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 signer with the HMAC replaced by the instance's RSA signature."""

    def __init__(self, instance_id: str, key: rsa.RSAPrivateKey, region: str, service: str) -> None:
        super().__init__(Credentials(instance_id, "unused"), service, region)
        self._key = key

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        return sign(self._key, string_to_sign)


def sign_rsa(request: AWSRequest, instance_id: str, key: rsa.RSAPrivateKey, region: str, now: dt.datetime,
             service: str = "ssm") -> None:
    """Sign `request` as a hybrid node signs RequestManagedInstanceRoleToken: sets X-Amz-Date and Authorization."""
    signer: Any = _RsaSigV4(instance_id, key, region, service)
    # botocore's add_auth, step by step, with the time given instead of read from the system clock.
    request.context["timestamp"] = now.astimezone(dt.UTC).strftime(sigv4.STAMP_FORMAT)
    signer._modify_request_before_signing(request)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    signer._inject_signature_to_request(request, signer.signature(string_to_sign, request))


def verify_request(public_key: rsa.RSAPublicKey, info: sigv4.SignatureInfo, method: str, path: str,
                   query_string: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a request's Authorization signature is the node's RSA signature of its SigV4 string to sign."""
    to_sign = sigv4.string_to_sign(info, method, path, query_string, headers, body)
    return verify(public_key, to_sign, info.signature)


def verify_rsa(info: sigv4.SignatureInfo, method: str, path: str, query_string: str, headers: Mapping[str, str],
               body: bytes, public_key: rsa.RSAPublicKey, now: dt.datetime, *, family: str | None = None) -> None:
    """Raise AuthFailure unless a hybrid node's request is in time and RSA-signed with `public_key`'s key."""
    fam = family or sigv4.family_for(headers, info.service)
    sigv4.check_request_time(info, now, fam)
    if not verify_request(public_key, info, method, path, query_string, headers, body):
        raise sigv4.auth_error(sigv4.AuthErrorKind.BAD_SIGNATURE, fam)


def sign_asymmetric(request: AWSRequest, key: rsa.RSAPrivateKey) -> None:
    """Default Host Management: once SigV4-signed, add the RSA signature of the Authorization header."""
    request.headers[ASYMMETRIC_AUTH_HEADER] = f"Signature={sign(key, request.headers['Authorization'])}"


def verify_asymmetric(headers: Mapping[str, str], public_key: rsa.RSAPublicKey, *,
                      family: str | None = None) -> None:
    """Raise AuthFailure unless SSM-AsymmetricKeyAuthorization signs this request's Authorization header.

    The SigV4 signature under the instance credentials is `sigv4.verify_signature`'s to check.
    """
    fam = family or sigv4.family_for(headers, "ssm")
    name, eq, signature = (headers.get(ASYMMETRIC_AUTH_HEADER.lower()) or "").strip().partition("=")
    authorization = headers.get("authorization")
    if not eq or name != "Signature" or not authorization:
        raise sigv4.auth_error(sigv4.AuthErrorKind.INCOMPLETE, fam,
                               f"{ASYMMETRIC_AUTH_HEADER} header requires 'Signature' parameter.")
    if not verify(public_key, authorization, signature):
        raise sigv4.auth_error(sigv4.AuthErrorKind.BAD_SIGNATURE, fam)


__all__ = [
    "ASYMMETRIC_AUTH_HEADER", "KEY_BITS", "PUBLIC_KEY_TYPE", "SALT_LENGTH", "is_managed_instance_id",
    "load_private_key", "load_public_key", "new_fingerprint", "new_key", "private_key_b64", "public_key_b64",
    "sign", "sign_asymmetric", "sign_rsa", "verify", "verify_asymmetric", "verify_request", "verify_rsa",
]
