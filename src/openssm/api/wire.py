"""The two AWS wire protocols behind one interface: JSON 1.1 and query/XML.

The codecs themselves live in `openssm.protocol`; this module only picks one per request and maps
error codes that differ between the families (AccessDeniedException vs AccessDenied).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.model import OperationModel

from openssm.errors import AccessDenied, AwsError, ValidationError
from openssm.protocol import aws_json, aws_query, service_models


@dataclass(frozen=True)
class WireResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Wire(Protocol):
    family: str

    def parse(self, op: OperationModel, body: bytes, form: Mapping[str, str]) -> dict[str, Any]: ...

    def respond(self, op: OperationModel, result: dict[str, Any], request_id: str) -> WireResponse: ...

    def error(self, err: AwsError, request_id: str, service: str | None = None) -> WireResponse: ...


class JsonWire:
    family = "json"

    def parse(self, op: OperationModel, body: bytes, form: Mapping[str, str]) -> dict[str, Any]:
        return aws_json.parse_request(op, body)

    def respond(self, op: OperationModel, result: dict[str, Any], request_id: str) -> WireResponse:
        body = aws_json.serialize_response(op, result)
        return WireResponse(200, {"content-type": "application/x-amz-json-1.1", "x-amzn-requestid": request_id}, body)

    def error(self, err: AwsError, request_id: str, service: str | None = None) -> WireResponse:
        status, headers, body = aws_json.serialize_error(err.code, err.message, status=err.status)
        return WireResponse(status, {**headers, "x-amzn-requestid": request_id}, body)


class QueryWire:
    family = "query"

    def parse(self, op: OperationModel, body: bytes, form: Mapping[str, str]) -> dict[str, Any]:
        return aws_query.parse_request(op, form)

    def respond(self, op: OperationModel, result: dict[str, Any], request_id: str) -> WireResponse:
        body = aws_query.serialize_response(op, result, request_id)
        return WireResponse(200, {"content-type": "text/xml", "x-amzn-requestid": request_id}, body)

    def error(self, err: AwsError, request_id: str, service: str | None = None) -> WireResponse:
        # Query services (IAM, STS) spell two common codes differently from the JSON services.
        code = {AccessDenied.code: "AccessDenied", ValidationError.code: "ValidationError"}.get(err.code, err.code)
        # Each query service answers in its own namespace (STS's differs from IAM's); IAM's when unknown.
        namespace = (aws_query.namespace_of(service_models.service_model(service))
                     if service in service_models.served_services() else aws_query.IAM_NAMESPACE)
        body = aws_query.serialize_error(code, err.message, request_id, sender=err.sender_fault,
                                         namespace=namespace)
        return WireResponse(err.status, {"content-type": "text/xml", "x-amzn-requestid": request_id}, body)


JSON_WIRE = JsonWire()
QUERY_WIRE = QueryWire()
