"""Parameter labels over JSON 1.1: LabelParameterVersion and UnlabelParameterVersion."""

from __future__ import annotations

from typing import Any

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import named_parameters, scope
from openssm.api.operations import Operation, Params


def label_parameter_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        version, invalid = ctx.container.parameters.label(conn, scope(ctx), p["Name"], p.get("ParameterVersion"),
                                                          p["Labels"])
    return {"InvalidLabels": invalid, "ParameterVersion": version}


def unlabel_parameter_version(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        removed, invalid = ctx.container.parameters.unlabel(conn, scope(ctx), p["Name"], p["ParameterVersion"],
                                                            p["Labels"])
    return {"RemovedLabels": removed, "InvalidLabels": invalid}


OPERATIONS = [
    Operation("ssm", "LabelParameterVersion", label_parameter_version, resources=named_parameters("Name")),
    Operation("ssm", "UnlabelParameterVersion", unlabel_parameter_version, resources=named_parameters("Name")),
]
