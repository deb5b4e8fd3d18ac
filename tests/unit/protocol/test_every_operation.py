"""Every operation of every served service, both ways, against botocore's own serializers and parsers.

Sample values fill every member of a shape (two list items, two map entries, recursion cut at one level), so
each wire rule the models use — names, nesting, flattening, scalar encodings — is crossed at least once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from openssm.protocol import aws_json, aws_query
from openssm.protocol.service_models import service_model
from tests.unit.protocol.goldens import client_json_body, client_query_form, client_reads

WHEN = dt.datetime(2026, 11, 22, 12, 0, 0, tzinfo=dt.UTC)
_SKIP = object()


def sample(shape: Shape, seen: tuple[str, ...] = ()) -> Any:
    """A value for every member of `shape`; a shape met again inside itself is left out."""
    if shape.name in seen:
        return _SKIP
    seen = (*seen, shape.name)
    if isinstance(shape, StructureShape):
        values = {name: sample(member, seen) for name, member in shape.members.items()}
        kept = {name: value for name, value in values.items() if value is not _SKIP}
        # A union holds exactly one of its members.
        return dict(list(kept.items())[:1]) if shape.metadata.get("union") else kept
    if isinstance(shape, ListShape):
        item = sample(shape.member, seen)
        return _SKIP if item is _SKIP else [item, item]
    if isinstance(shape, MapShape):
        item = sample(shape.value, seen)
        return _SKIP if item is _SKIP else {"k1": item, "k2": item}
    enum = shape.metadata.get("enum")
    return {"string": enum[0] if enum else "text & <more>", "integer": 7, "long": 7, "float": 1.5, "double": 1.5,
            "boolean": True, "timestamp": WHEN, "blob": b"\x00\x01bytes"}[shape.type_name]


def operations(*services: str) -> list[Any]:
    return [pytest.param(service_model(s).operation_model(name), id=f"{s}.{name}")
            for s in services for name in service_model(s).operation_names]


def samples(op: OperationModel, output: bool) -> dict[str, Any]:
    shape = op.output_shape if output else op.input_shape
    params: dict[str, Any] = sample(shape) if shape is not None else {}
    return params


@pytest.mark.parametrize("op", operations("ssm", "kms", "organizations", "cloudtrail"))
def test_every_json_operation_round_trips(op: OperationModel) -> None:
    params = samples(op, output=False)
    assert aws_json.decode_request(op, client_json_body(op, params, check=False)) == params
    result = samples(op, output=True)
    parsed = client_reads("json", op, aws_json.serialize_response(op, result, strict=True))
    parsed.pop("ResponseMetadata")
    assert parsed == result


@pytest.mark.parametrize("op", operations("iam", "sts"))
def test_every_query_operation_round_trips(op: OperationModel) -> None:
    params = samples(op, output=False)
    assert aws_query.decode_request(op, client_query_form(op, params, check=False)) == params
    result = samples(op, output=True)
    parsed = client_reads("query", op, aws_query.serialize_response(op, result, "rid", strict=True))
    assert parsed.pop("ResponseMetadata")["RequestId"] == "rid"
    assert parsed == result
