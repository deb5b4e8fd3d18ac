"""Running a Run Command job (a SendCommandPayload) once: `{{ name }}` parameters substituted as AWS's
agent does, each step run by its plugin, and the outcome recorded before it is reported, so a job delivered
again is answered from the record instead of being run twice."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from openssm.agent.run_shell import run_script
from openssm.agent.state import StateDir
from openssm.protocol.mgs import JobReply, PluginResult

_PARAM = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")
# A reply must stay under 120,000 bytes (DESIGN §4); the server keeps what arrives and cuts for the API.
MAX_STDOUT_IN_REPLY, MAX_STDERR_IN_REPLY = 48_000, 16_000


def _substitute(value: Any, parameters: dict[str, Any]) -> Any:
    """A whole-string `{{ name }}` becomes the parameter's value (a list stays a list); inside text, its text."""
    if isinstance(value, str):
        whole = _PARAM.fullmatch(value.strip())
        if whole and whole.group(1) in parameters:
            return parameters[whole.group(1)]
        return _PARAM.sub(lambda m: _text(parameters.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [_substitute(v, parameters) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, parameters) for k, v in value.items()}
    return value


def _text(value: Any) -> str:
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value)


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def run_job(job_id: str, content: str, state: StateDir) -> JobReply:
    """The job's final reply, running it only if the record says it has not run."""
    recorded = state.job(job_id)
    if recorded is not None and "reply" in recorded:
        return _reply_from(recorded["reply"])
    if recorded is not None:
        # Started before a crash: AWS's agent does not run a half-run command again either.
        lost = PluginResult("aws:runShellScript", "Failed", 1, "", "The agent stopped while the command ran.")
        reply = JobReply(job_id, "Failed", (lost,))
    else:
        state.record_job(job_id, {"started": dt.datetime.now(dt.UTC).isoformat()})
        reply = _execute(job_id, json.loads(content), state.path / "work" / job_id)
    state.record_job(job_id, {"reply": _reply_to(reply)})
    return reply


def _execute(job_id: str, payload: dict[str, Any], work_dir: Path) -> JobReply:
    document = payload.get("DocumentContent") or {}
    parameters = payload.get("Parameters") or {}
    results = []
    for step in document.get("mainSteps") or ():
        action, inputs = step.get("action", ""), _substitute(step.get("inputs") or {}, parameters)
        if action != "aws:runShellScript":
            results.append(PluginResult(action, "Failed", 1, "", f"Plugin {action} is not supported on this "
                                        "platform (Linux): step execution failed."))
            continue
        commands = inputs.get("runCommand") or []
        lines = commands if isinstance(commands, list) else [str(commands)]
        timeout = float(inputs.get("timeoutSeconds") or 3600)
        result = run_script([str(x) for x in lines], timeout, work_dir, inputs.get("workingDirectory") or None,
                            job_id)
        results.append(PluginResult(action, result.status, result.code, result.stdout[:MAX_STDOUT_IN_REPLY],
                                    result.stderr[:MAX_STDERR_IN_REPLY], _stamp(result.start), _stamp(result.end)))
    statuses = {r.status for r in results}
    overall = "Success" if statuses <= {"Success"} else next(
        (s for s in ("Cancelled", "TimedOut") if s in statuses), "Failed")
    return JobReply(job_id, overall, tuple(results))


def _reply_to(reply: JobReply) -> dict[str, Any]:
    return {"job_id": reply.job_id, "status": reply.document_status,
            "plugins": [vars(p) for p in reply.plugins]}


def _reply_from(data: dict[str, Any]) -> JobReply:
    return JobReply(data["job_id"], data["status"], tuple(PluginResult(**p) for p in data["plugins"]))
