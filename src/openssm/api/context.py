"""What a handler knows about the request it serves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openssm.iam.principals import Caller
from openssm.types import AccountId, Region, RequestId

if TYPE_CHECKING:
    from openssm.container import Container


@dataclass(frozen=True)
class RequestContext:
    """One authenticated API call: who, where from, in which account and region, when."""

    request_id: RequestId
    service: str
    operation: str
    region: Region
    caller: Caller
    source_ip: str
    user_agent: str
    secure_transport: bool
    now: dt.datetime
    container: Container
    # What a handler resolves while its resources are authorized, kept for the handler itself (SendCommand's
    # targets: ten thousand nodes and their tags are read once, not twice).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    host: str = ""  # the Host the client reached the server by (StartSession's StreamUrl points back to it)

    @property
    def account_id(self) -> AccountId:
        return self.caller.account_id
