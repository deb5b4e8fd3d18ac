"""The table of operations: for each AWS action, its handler and what authorizing it means.

Handler modules under `openssm.api.handlers` each export `OPERATIONS`; `registry()` gathers them into
one lookup keyed by (service, operation name), e.g. ("ssm", "GetParameter").
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openssm.api.context import RequestContext

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[RequestContext, Params], Result]


@dataclass(frozen=True)
class ResourceRef:
    """A resource an action is authorized against; `tags` feed aws:ResourceTag/* conditions.

    `policy` is the resource's own resource-based policy (a KMS key policy); when `policy_required`, that
    policy must allow the call itself (directly, or by delegating to the account), as KMS demands.
    """

    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)
    policy: str | None = None
    policy_required: bool = False


def any_resource(_ctx: RequestContext, _params: Params) -> Sequence[ResourceRef]:
    return (ResourceRef("*"),)


def no_condition_keys(_ctx: RequestContext, _params: Params) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class Operation:
    """One AWS action.

    `resources` names the ARNs the call touches (each must be allowed); `condition_keys` adds the
    service-specific keys (ssm:Overwrite, aws:RequestTag/…); `secret_params` are request members the
    audit trail must never see; `authenticated=False` marks the few calls AWS accepts unsigned.
    `on_event_loop` marks a hot read of bounded cost that takes no lock (on the embedded store): it is
    answered on the server's event loop, skipping the thread hop (api/app.py says why).
    """

    service: str
    name: str
    handler: Handler
    resources: Callable[[RequestContext, Params], Sequence[ResourceRef]] = any_resource
    condition_keys: Callable[[RequestContext, Params], Mapping[str, Any]] = no_condition_keys
    action: str | None = None
    secret_params: frozenset[str] = frozenset()
    read_only: bool = False
    authenticated: bool = True
    authorized: bool = True
    on_event_loop: bool = False

    def iam_action(self, action_prefix: str) -> str:
        return self.action or f"{action_prefix}:{self.name}"


@cache
def registry() -> Mapping[tuple[str, str], Operation]:
    """Every operation of every handler module, imported once."""
    from openssm.api import handlers

    table: dict[tuple[str, str], Operation] = {}
    for info in pkgutil.iter_modules(handlers.__path__):
        module = importlib.import_module(f"{handlers.__name__}.{info.name}")
        for op in getattr(module, "OPERATIONS", ()):
            key = (op.service, op.name)
            if key in table:
                raise RuntimeError(f"operation {key} registered twice")
            table[key] = op
    return table
