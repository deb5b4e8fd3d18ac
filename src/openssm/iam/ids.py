"""IAM's identifier formats: unique ids (AIDA…, AROA…), access key ids and secrets."""

from __future__ import annotations

import secrets
import string
from enum import StrEnum

_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class IdPrefix(StrEnum):
    USER = "AIDA"
    GROUP = "AGPA"
    ROLE = "AROA"
    INSTANCE_PROFILE = "AIPA"
    POLICY = "ANPA"
    ACCESS_KEY = "AKIA"
    SESSION_KEY = "ASIA"


def unique_id(prefix: IdPrefix, length: int = 21) -> str:
    """A 21-character id as IAM issues them (4-letter prefix + 17)."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))


def access_key_id(prefix: IdPrefix = IdPrefix.ACCESS_KEY) -> str:
    return unique_id(prefix, 20)


def secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
