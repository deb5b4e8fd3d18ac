"""SSM's RSA request signing for managed instances (DESIGN §4).

A registered node signs the ordinary SigV4 string-to-sign with RSA-PSS (SHA-256, MGF1-SHA-256, salt 32)
and puts the base64 signature where SigV4's hex HMAC would be, with its managed-instance id as the access
key. The public key travels at registration as base64 DER SubjectPublicKeyInfo; the fingerprint the agent
sends is an opaque UUID string of its own choosing (verified on AWS's agent: tests/golden/captures).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from openssm.protocol import sigv4

SALT_LENGTH = 32
KEY_BITS = 2048
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=SALT_LENGTH)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def new_fingerprint() -> str:
    return str(uuid.uuid4())


def public_key_b64(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
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


def sign(key: rsa.RSAPrivateKey, string_to_sign: str) -> str:
    return base64.b64encode(key.sign(string_to_sign.encode(), _PSS, hashes.SHA256())).decode()


def verify(public_key: rsa.RSAPublicKey, string_to_sign: str, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64), string_to_sign.encode(), _PSS, hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def verify_request(public_key: rsa.RSAPublicKey, info: sigv4.SignatureInfo, method: str, path: str,
                   query_string: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a request's Authorization signature is the node's RSA signature of its SigV4 string-to-sign."""
    to_sign = sigv4.string_to_sign(info, method, path, query_string, headers, body)
    return verify(public_key, to_sign, info.signature)
