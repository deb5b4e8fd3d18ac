"""Golden wire cases (tests/golden/aws_json, tests/golden/aws_query) and botocore's client side, for the codec tests.

Values JSON cannot hold are tagged in the files: {"$timestamp": "2024-01-01T00:00:00Z"}, {"$blob": "<base64>"}.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from botocore import parsers, serialize
from botocore.model import OperationModel

GOLDEN = Path(__file__).parents[2] / "golden"


def revive(value: Any) -> Any:
    """Turn the tagged values of a golden file into datetimes and bytes."""
    if isinstance(value, dict):
        if value.keys() == {"$timestamp"}:
            return dt.datetime.fromisoformat(value["$timestamp"])
        if value.keys() == {"$blob"}:
            return base64.b64decode(value["$blob"])
        return {key: revive(item) for key, item in value.items()}
    if isinstance(value, list):
        return [revive(item) for item in value]
    return value


def cases(folder: str, name: str) -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((GOLDEN / folder / name).read_text(encoding="utf-8"))
    return loaded


def case_id(case: dict[str, Any]) -> str:
    return str(case["name"])


def client_json_body(op: OperationModel, params: dict[str, Any], check: bool = True) -> bytes:
    """The body botocore would send for `params` (`check`: refusing what its client-side validation refuses)."""
    body = serialize.create_serializer("json", include_validation=check).serialize_to_request(params, op)["body"]
    return body if isinstance(body, bytes) else body.encode()


def client_query_form(op: OperationModel, params: dict[str, Any], check: bool = True) -> dict[str, str]:
    """The form botocore would send for `params`, through the same URL encoding as on the wire."""
    body = serialize.create_serializer("query", include_validation=check).serialize_to_request(params, op)["body"]
    return dict(parse_qsl(urlencode(body), keep_blank_values=True))


def client_reads(protocol: str, op: OperationModel, body: bytes, status: int = 200,
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    """What botocore's response parser makes of a response."""
    response = {"body": body, "headers": headers or {}, "status_code": status}
    parsed: dict[str, Any] = parsers.create_parser(protocol).parse(response, op.output_shape)
    return parsed
