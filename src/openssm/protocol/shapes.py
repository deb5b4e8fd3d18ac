"""Scalar conversions shared by both codecs: timestamps and blobs in and out of the wire."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from openssm.errors import SerializationError


def parse_timestamp(value: object) -> dt.datetime:
    if isinstance(value, bool):
        raise SerializationError("Timestamp must be a number or an ISO-8601 string")
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    if isinstance(value, str):
        try:
            if value.replace(".", "", 1).isdigit():
                return dt.datetime.fromtimestamp(float(value), dt.UTC)
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise SerializationError(f"Unable to parse timestamp '{value}'") from err
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    raise SerializationError("Timestamp must be a number or an ISO-8601 string")


def parse_blob(value: object) -> bytes:
    if not isinstance(value, str):
        raise SerializationError("Blob must be a base64-encoded string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise SerializationError("Base64 encoded blob is not valid") from err


def epoch_seconds(value: dt.datetime) -> float:
    return value.timestamp()


def iso8601(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")
