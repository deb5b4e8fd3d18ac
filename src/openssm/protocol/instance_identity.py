"""EC2-style instance identity documents, their signatures, and the signed credential request an
`openssm imds` sends the control plane (pure: no I/O).

The document has the fields and field order of EC2's `dynamic/instance-identity/document`. Its `signature`
is RSA PKCS#1 v1.5 over SHA-256, base64, by the instance's identity key; the control plane trusts the public
key the operator declared for that instance. A credential request signs the document together with the
time it was made, so a copied request is worthless after five minutes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
REQUEST_MAX_AGE = dt.timedelta(minutes=5)


class IdentityError(ValueError):
    """A document, signature or request that does not prove what it claims."""


@dataclass(frozen=True)
class InstanceIdentity:
    account_id: str
    region: str
    instance_id: str
    availability_zone: str
    instance_type: str = "t3.micro"
    image_id: str = "ami-00000000000000000"
    private_ip: str = "127.0.0.1"
    architecture: str = "x86_64"
    pending_time: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def __post_init__(self) -> None:
        if not INSTANCE_ID.match(self.instance_id):
            raise IdentityError(f"not an EC2 instance id: {self.instance_id!r}")
        if not re.fullmatch(r"\d{12}", self.account_id):
            raise IdentityError(f"not an account id: {self.account_id!r}")

    def document(self) -> bytes:
        """The identity document as EC2 serves it (pretty-printed, AWS's field order)."""
        fields = {
            "accountId": self.account_id, "architecture": self.architecture,
            "availabilityZone": self.availability_zone, "billingProducts": None, "devpayProductCodes": None,
            "marketplaceProductCodes": None, "imageId": self.image_id, "instanceId": self.instance_id,
            "instanceType": self.instance_type, "kernelId": None,
            "pendingTime": self.pending_time.strftime("%Y-%m-%dT%H:%M:%SZ"), "privateIp": self.private_ip,
            "ramdiskId": None, "region": self.region, "version": "2017-09-30",
        }
        return json.dumps(fields, indent=2).encode()

    @classmethod
    def parse(cls, document: bytes) -> InstanceIdentity:
        try:
            fields = json.loads(document)
            return cls(str(fields["accountId"]), str(fields["region"]), str(fields["instanceId"]),
                       str(fields["availabilityZone"]), str(fields.get("instanceType") or ""),
                       str(fields.get("imageId") or ""), str(fields.get("privateIp") or ""),
                       str(fields.get("architecture") or ""),
                       dt.datetime.fromisoformat(str(fields["pendingTime"]).replace("Z", "+00:00")))
        except (ValueError, KeyError, TypeError) as err:
            raise IdentityError(f"not an instance identity document: {err}") from err


def sign(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key_pem: str, data: bytes, signature: str) -> bool:
    try:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            return False
        key.verify(base64.b64decode(signature, validate=True), data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


@dataclass(frozen=True)
class CredentialRequest:
    """What an IMDS asks the control plane for: the instance's identity credentials, or its instance
    profile's role credentials."""

    document: bytes
    kind: str  # "identity" | "instance-profile"
    signed_at: dt.datetime

    def payload(self) -> bytes:
        """The bytes the signature covers: kind, time and document, so none can be swapped."""
        return b"\n".join([self.kind.encode(), self.signed_at.strftime("%Y%m%dT%H%M%SZ").encode(), self.document])

    def to_json(self, key: rsa.RSAPrivateKey) -> bytes:
        return json.dumps({"Document": self.document.decode(), "Kind": self.kind,
                           "SignedAt": self.signed_at.strftime("%Y%m%dT%H%M%SZ"),
                           "Signature": sign(key, self.payload())}).encode()

    @classmethod
    def from_json(cls, body: bytes) -> tuple[CredentialRequest, str]:
        """The request and its signature; raises IdentityError on anything malformed."""
        try:
            fields = json.loads(body)
            when = dt.datetime.strptime(str(fields["SignedAt"]), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            kind = str(fields["Kind"])
            if kind not in ("identity", "instance-profile"):
                raise IdentityError(f"unknown credential kind {kind!r}")
            return cls(str(fields["Document"]).encode(), kind, when), str(fields["Signature"])
        except (ValueError, KeyError, TypeError) as err:
            raise IdentityError(f"malformed credential request: {err}") from err

    def check_fresh(self, now: dt.datetime) -> None:
        if abs(now - self.signed_at) > REQUEST_MAX_AGE:
            raise IdentityError("the credential request was signed more than five minutes from now")
