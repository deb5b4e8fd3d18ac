"""What a session task asks of the node, read from its Session document as AWS's agent reads it
(agent/framework/docparser): `{{ name }}` in `inputs` and `properties` replaced by the StartSession parameters,
or by the document's defaults; Run As chosen from the task (the IAM principal's tag) over
`inputs.runAsDefaultUser`; the shell profile; and the idle and maximum durations."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openssm.protocol.data_channel import SessionType
from openssm.protocol.session_tasks import SessionTask

DEFAULT_IDLE_TIMEOUT = dt.timedelta(minutes=20)
_NAME = re.compile(r"^[a-zA-Z0-9]+$")
_REFERENCE = re.compile(r"{{\s*([a-zA-Z0-9]+)\s*}}")
# AWS's agent: a stdout/stderr prefix of separate output streams must match this (shell.go).
_PREFIX = re.compile(r"^[0-9a-zA-Z\r\n_:-]{0,30}$")


class InvalidSession(ValueError):
    """A session task the agent cannot run; the message is the session's output."""


def _plain(value: Any) -> Any:
    """A StartSession parameter value: the API gives lists of strings; one string stands for itself."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def substitute(value: Any, parameters: Mapping[str, Any]) -> Any:
    """`{{ name }}` replaced as AWS's ReplaceParameters does: a string that is one reference becomes the
    value itself; references inside text become the value's text (JSON for a list)."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole and whole.group(1) in parameters:
            return parameters[whole.group(1)]
        return _REFERENCE.sub(lambda m: _text(parameters[m.group(1)]).replace("$$", "$")
                              if m.group(1) in parameters else m.group(0), value)
    if isinstance(value, list):
        return [substitute(v, parameters) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, parameters) for k, v in value.items()}
    return value


def resolved_parameters(document: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The task's parameters with valid names, plus the document's defaults for those not given."""
    values = {k: _plain(v) for k, v in given.items() if _NAME.match(k)}
    declared = document.get("parameters")
    if isinstance(declared, dict):
        for name, spec in declared.items():
            if name not in values and isinstance(spec, dict) and "default" in spec:
                values[name] = _plain(spec["default"])
    return values


def as_bool(value: Any) -> bool:
    """AWS's ConvertToBool: booleans, "true"/"false" in any case, empty or absent as false."""
    if isinstance(value, bool):
        return value
    if value in (None, ""):
        return False
    text = str(value).strip().lower()
    if text in ("true", "1", "t"):
        return True
    if text in ("false", "0", "f"):
        return False
    raise InvalidSession(f"invalid input {value!r}: not true or false")


def _minutes(value: Any, default: dt.timedelta | None) -> dt.timedelta | None:
    if value in (None, ""):
        return default
    try:
        minutes = int(str(value))
    except ValueError as err:
        raise InvalidSession(f"invalid number of minutes {value!r}") from err
    return dt.timedelta(minutes=minutes) if minutes > 0 else default


@dataclass(frozen=True)
class ShellProperties:
    """The `linux` part of a command session's properties (AWS's ShellConfig)."""

    commands: str = ""
    run_as_elevated: bool = False
    separate_output: bool = False
    stdout_prefix: str = ""
    stderr_prefix: str = ""

    @classmethod
    def of(cls, properties: Mapping[str, Any]) -> ShellProperties:
        linux = properties.get("linux") or {}
        if not isinstance(linux, dict):
            raise InvalidSession(f"Invalid format in session properties {dict(properties)}")
        commands = linux.get("commands") or ""
        if isinstance(commands, list):
            commands = "\n".join(str(c) for c in commands)
        return cls(str(commands), as_bool(linux.get("runAsElevated")), as_bool(linux.get("separateOutputStream")),
                   str(linux.get("stdOutSeparatorPrefix") or ""), str(linux.get("stdErrSeparatorPrefix") or ""))

    def check_prefixes(self) -> None:
        for prefix, what in ((self.stdout_prefix, "stdoutSeparatorPrefix"), (self.stderr_prefix,
                                                                              "stderrSeparatorPrefix")):
            if not _PREFIX.match(prefix):
                raise InvalidSession(f"invalid {what} {prefix}")


@dataclass(frozen=True)
class PortProperties:
    port_number: str
    host: str = ""
    type: str = ""  # "" (a byte stream, AWS-StartSSHSession) or "LocalPortForwarding" (smux)

    @classmethod
    def of(cls, properties: Mapping[str, Any]) -> PortProperties:
        port = str(properties.get("portNumber") or "")
        if not port:
            raise InvalidSession(f"Port number is empty in session properties. {dict(properties)}")
        return cls(port, str(properties.get("host") or ""), str(properties.get("type") or ""))


@dataclass(frozen=True)
class SessionConfig:
    session_id: str
    session_type: SessionType
    properties: Mapping[str, Any]
    shell_profile: str = ""
    idle_timeout: dt.timedelta = DEFAULT_IDLE_TIMEOUT
    max_duration: dt.timedelta | None = None
    run_as_enabled: bool = False
    run_as_user: str = ""
    session_owner: str = ""

    @property
    def shell(self) -> ShellProperties:
        return ShellProperties.of(self.properties)

    @property
    def port(self) -> PortProperties:
        return PortProperties.of(self.properties)

    def handshake_properties(self) -> Mapping[str, Any]:
        """What the HandshakeRequest carries: a Port session's properties, nothing for the others (AWS's
        GetPluginParameters)."""
        return dict(self.properties) if self.session_type is SessionType.PORT else {}


def session_config(task: SessionTask) -> SessionConfig:
    """Read the task's document; InvalidSession when the node cannot run it."""
    document = task.document_content
    try:
        kind = SessionType(str(document.get("sessionType")))
    except ValueError as err:
        raise InvalidSession(f"{document.get('sessionType')!r} is not a session type this agent runs") from err
    values = resolved_parameters(document, task.parameters)
    inputs = substitute(document.get("inputs") or {}, values)
    properties = substitute(document.get("properties") or {}, values)
    if not isinstance(inputs, dict) or not isinstance(properties, dict):
        raise InvalidSession("the session document's inputs and properties must be objects")
    profile = inputs.get("shellProfile") or {}
    run_as_user = task.run_as_user.strip() or str(inputs.get("runAsDefaultUser") or "").strip()
    return SessionConfig(
        task.session_id, kind, properties,
        shell_profile=str(profile.get("linux") or "") if isinstance(profile, dict) else "",
        idle_timeout=_minutes(inputs.get("idleSessionTimeout"), DEFAULT_IDLE_TIMEOUT) or DEFAULT_IDLE_TIMEOUT,
        max_duration=_minutes(inputs.get("maxSessionDuration"), None),
        run_as_enabled=as_bool(inputs.get("runAsEnabled")) or bool(task.run_as_user.strip()),
        run_as_user=run_as_user, session_owner=task.session_owner)
