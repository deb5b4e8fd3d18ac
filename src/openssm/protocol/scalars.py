"""Scalar conversions both codecs share: timestamps and blobs to and from their wire text.

Parsers raise `ValueError` with a reason in AWS's words; each codec wraps it in its own protocol error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import math
import re

_BASE64_BAD_CHAR = re.compile(r"[^A-Za-z0-9+/=]|=[^=]")


def aware(value: dt.datetime) -> dt.datetime:
    """`value` with a time zone; a naive datetime is taken to be UTC, as every clock in OpenSSM is."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def from_epoch(seconds: float) -> dt.datetime:
    if not math.isfinite(seconds):
        raise ValueError(f"{seconds} is not a point in time")
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError) as err:
        raise ValueError(f"{seconds} is out of range for a timestamp") from err


def parse_timestamp_text(text: str) -> dt.datetime:
    """An ISO-8601 timestamp (the query protocol's form) or epoch seconds written as a number."""
    try:
        return from_epoch(float(text))
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise ValueError(f"'{text}' is not an ISO-8601 timestamp") from err
    return aware(parsed)


def epoch_seconds(value: dt.datetime) -> float:
    return aware(value).timestamp()


def iso8601(value: dt.datetime) -> str:
    """UTC with a `Z`, milliseconds only when there are any: `2024-05-01T12:00:00Z`, `…:00.250Z`."""
    utc = aware(value).astimezone(dt.UTC)
    text = utc.isoformat(timespec="milliseconds" if utc.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z"


def b64encode(value: bytes | bytearray | memoryview) -> str:
    return base64.b64encode(value).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict base64, with the reasons AWS's deserializer gives for what it refuses."""
    if len(text) % 4:
        raise ValueError(f"Base64 encoded length is expected a multiple of 4 bytes but found: {len(text)}")
    bad = _BASE64_BAD_CHAR.search(text)
    if bad is not None:
        raise ValueError(f"Invalid Base64 character: '{bad.group()[0]}'")
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("Invalid Base64 encoding") from err
    # Unused low bits in the last character make a second spelling of the same bytes; Java refuses it.
    if base64.b64encode(decoded).decode("ascii") != text:
        raise ValueError("Invalid last non-pad Base64 character dectected")
    return decoded
