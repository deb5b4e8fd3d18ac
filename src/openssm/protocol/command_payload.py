"""Reading a Run Command job's SendCommandPayload into the steps to run, as AWS's agent does
(agent/framework/docparser): the document's parameter defaults filled in, then `{{ name }}` replaced in every
step input. The agent runs the steps; the service reads their timeouts for the command's ExpiresAfter.
Pure: no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT = 3600, 5, 172800
_PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9]+$")


class BadPayload(ValueError):
    """A job whose content is not a SendCommandPayload."""


@dataclass(frozen=True)
class Step:
    action: str
    name: str
    commands: tuple[str, ...]
    working_directory: str
    timeout_seconds: int
    precondition: Mapping[str, Any] | None = None  # schema 2.2: {"StringEquals": ["platformType", "Linux"]}


@dataclass(frozen=True)
class Job:
    command_id: str
    document_name: str
    steps: tuple[Step, ...]


def _as_text(value: Any) -> str:
    # AWS embeds a non-string value as its JSON, and un-escapes "$$" in values.
    return (value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))).replace("$$", "$")


def substitute(value: Any, parameters: Mapping[str, Any]) -> Any:
    """`{{ name }}` alone in a string becomes the value itself (a list stays a list); inside text, its text.
    One pass over the original text, so a value holding `{{ other }}` is not expanded again."""
    if isinstance(value, str):
        for name, replacement in parameters.items():
            if re.fullmatch(r"\{\{\s*" + re.escape(name) + r"\s*\}\}", value):
                return replacement
        if not parameters:
            return value
        names = "|".join(re.escape(n) for n in parameters)
        return re.sub(r"\{\{\s*(" + names + r")\s*\}\}", lambda m: _as_text(parameters[m.group(1)]), value)
    if isinstance(value, list):
        return [substitute(v, parameters) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, parameters) for k, v in value.items()}
    return value


def _parameters(payload: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    declared = document.get("parameters") or {}
    values = {k: v["default"] for k, v in declared.items() if isinstance(v, dict) and "default" in v}
    values.update(payload.get("Parameters") or {})
    return {k: v for k, v in values.items() if _PARAMETER_NAME.match(k)}


def _timeout(raw: Any) -> int:
    """AWS's agent: a number or numeric string from 5 to 172800 seconds, otherwise the default hour."""
    try:
        seconds = int(float(str(raw).strip())) if raw not in (None, "") else DEFAULT_TIMEOUT
    except ValueError:
        seconds = DEFAULT_TIMEOUT
    return seconds if MIN_TIMEOUT <= seconds <= MAX_TIMEOUT else DEFAULT_TIMEOUT


def _commands(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, list):
        return tuple(line for item in raw for line in _commands(item))
    return (raw,) if isinstance(raw, str) else ((_as_text(raw),) if raw is not None else ())


def _steps(document: Mapping[str, Any], parameters: Mapping[str, Any]) -> tuple[Step, ...]:
    steps = []
    if "mainSteps" in document:  # schema 2.x
        raw = [(s.get("action", ""), s.get("name", ""), s.get("inputs") or {}, s.get("precondition"))
               for s in document["mainSteps"]]
    else:  # schema 1.2: runtimeConfig {action: {properties: [inputs, ...]}}
        raw = [(action, action, inputs, None) for action, config in
               (document.get("runtimeConfig") or {}).items() for inputs in (config.get("properties") or [{}])]
    for action, name, inputs, precondition in raw:
        inputs = substitute(inputs, parameters)
        steps.append(Step(str(action), str(name), _commands(inputs.get("runCommand")),
                          str(inputs.get("workingDirectory") or ""), _timeout(inputs.get("timeoutSeconds")),
                          substitute(precondition, parameters) if isinstance(precondition, dict) else None))
    return tuple(steps)


def parse(content: str) -> Job:
    """The steps a SendCommandPayload asks for."""
    try:
        payload = json.loads(content)
        document = payload.get("DocumentContent") or {}
        if isinstance(document, str):
            document = json.loads(document)
        return Job(str(payload.get("CommandId") or ""), str(payload.get("DocumentName") or ""),
                   _steps(document, _parameters(payload, document)))
    except (ValueError, AttributeError, TypeError) as err:
        raise BadPayload(f"not a SendCommandPayload: {err}") from err


def execution_budget(job: Job) -> int:
    """How long the steps may run one after the other, each to its own timeout (an empty job: the default)."""
    return sum(step.timeout_seconds for step in job.steps) or DEFAULT_TIMEOUT


def precondition_holds(step: Step, platform_type: str) -> bool:
    """AWS's one precondition operator: StringEquals between two operands, `platformType` standing for this
    node's platform (Linux, MacOS, Windows)."""
    if not step.precondition:
        return True
    operands = step.precondition.get("StringEquals")
    if not isinstance(operands, list) or len(operands) != 2:
        return False
    left, right = (platform_type if v == "platformType" else str(v) for v in operands)
    return left == right
