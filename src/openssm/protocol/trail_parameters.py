"""CloudTrail's rendering of a request's parameters, driven by the service model.

CloudTrail writes `requestParameters` with the model's member names, first letter lowered
(`{"name": "/app/db", "withDecryption": true}`), and hides every value whose shape the model marks
`sensitive` — PutParameter's value of any type, CreateAccount's email, SendCommand's parameters — as
HIDDEN_DUE_TO_SECURITY_REASONS. Map keys are the caller's own data and keep their spelling.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any

from botocore.model import Shape

from openssm.protocol import service_models

REDACTED = "HIDDEN_DUE_TO_SECURITY_REASONS"

# Members hidden wherever they appear, whatever the model says: a model that forgets a `sensitive` trait
# (or an operation that forgets its `secret_params`) must still not put a secret into the trail.
ALWAYS_SECRET = frozenset({
    "SecretAccessKey", "SessionToken", "Password", "NewPassword", "OldPassword", "Plaintext", "PrivateKey",
    "SecretString", "SecretBinary", "TokenValue", "TokenCode", "SAMLAssertion", "WebIdentityToken",
})


def trail_parameters(service: str, operation: str, params: Mapping[str, Any] | None,
                     secret: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """`params` (a validated request, by the model's member names) as CloudTrail records it.

    `secret` names further members to hide (the operation's own `secret_params`).
    """
    if params is None:
        return None
    hidden = secret | ALWAYS_SECRET
    return _structure(_input_shape(service, operation), params, hidden)


@cache
def _input_shape(service: str, operation: str) -> Shape | None:
    try:
        return service_models.service_model(service).operation_model(operation).input_shape
    except Exception:  # an unknown service or operation: render without a model, keys as given
        return None


def _structure(shape: Shape | None, value: Mapping[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    if shape is None or shape.type_name != "structure":
        return {k: REDACTED if k in hidden else _value(None, v, hidden) for k, v in value.items()}
    members = shape.members
    return {_camel(k): REDACTED if k in hidden else _value(members.get(k), v, hidden) for k, v in value.items()}


def _value(shape: Shape | None, value: Any, hidden: frozenset[str]) -> Any:
    if shape is not None and shape.metadata.get("sensitive"):
        return REDACTED
    if isinstance(value, Mapping):
        if shape is not None and shape.type_name == "map":
            return {k: REDACTED if k in hidden else _value(shape.value, v, hidden)
                    for k, v in value.items()}
        return _structure(shape, value, hidden)
    if isinstance(value, list | tuple):
        member = shape.member if shape is not None and shape.type_name == "list" else None
        return [_value(member, v, hidden) for v in value]
    if isinstance(value, bytes | bytearray):
        return REDACTED  # blobs are ciphertexts, key material or payloads: never worth keeping
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


@cache
def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]
