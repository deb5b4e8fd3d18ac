"""The facts of one API call that the audit trail keeps."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from openssm.iam.principals import Caller


@dataclass(frozen=True)
class ApiCallRecord:
    """One call, allowed or not. `secret_parameters` name request members to redact before storing."""

    event_time: dt.datetime
    request_id: str
    service: str
    event_name: str
    region: str
    source_ip: str
    user_agent: str
    caller: Caller | None
    access_key_id: str
    request_parameters: dict[str, Any] | None
    secret_parameters: frozenset[str]
    error_code: str | None
    error_message: str | None
    read_only: bool


class AuditSink(Protocol):
    def record(self, call: ApiCallRecord) -> None: ...
