"""Running one document step with its plugin and reporting it as AWS's agent does: the reply carries the first
24,000 characters of stdout and 8,000 of stderr, cut ones ending in `--output truncated--` (DESIGN §4); the
full output stays in the job's work directory."""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from openssm.agent.plugins.run_shell import ProcessHandle, ShellResult, run_script
from openssm.protocol.command_payload import Step, precondition_holds
from openssm.protocol.mgs import PluginResult

STDOUT_LIMIT, STDERR_LIMIT = 24_000, 8_000
TRUNCATED = "--output truncated--"
SHELL = ["/bin/sh"]
POWERSHELL = "aws:runPowerShellScript"
SHELL_SCRIPT = "aws:runShellScript"
PLATFORM_TYPE = {"Darwin": "MacOS", "Windows": "Windows"}.get(platform.system(), "Linux")


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def failed(step: Step, message: str) -> PluginResult:
    now = stamp(dt.datetime.now(dt.UTC))
    return PluginResult(step.name or step.action, "Failed", 1, "", message, now, now, step.action)


def _resolve_cwd(step: Step, work_dir: Path) -> Path | None:
    """An absolute workingDirectory as given; a relative one under the job's directory; else the job's own."""
    if not step.working_directory:
        return None
    path = Path(step.working_directory)
    return path if path.is_absolute() else work_dir / path


def _report(step: Step, result: ShellResult) -> PluginResult:
    return PluginResult(step.name or step.action, result.status, result.code,
                        cut(result.stdout(STDOUT_LIMIT + 1), STDOUT_LIMIT), cut(result.stderr(STDERR_LIMIT + 1),
                                                                               STDERR_LIMIT),
                        stamp(result.start), stamp(result.end), step.action)


def step_dir(step: Step, work_dir: Path) -> Path:
    """Where a step's script and its full output live."""
    return work_dir / (re.sub(r"[^A-Za-z0-9_-]", "_", step.name) or "step")


def skipped(step: Step) -> PluginResult:
    now = stamp(dt.datetime.now(dt.UTC))
    return PluginResult(step.name or step.action, "Skipped", 0,
                        f"Step execution skipped due to unsatisfied preconditions: '{json.dumps(step.precondition)}'. "
                        f"Run step: {step.name}", "", now, now, step.action)


def run_step(step: Step, work_dir: Path, handle: ProcessHandle, env: Mapping[str, str] | None = None) -> PluginResult:
    """Run a step and answer its result; a plugin this node cannot run fails as AWS's agent fails it. The
    script sees the agent's environment and `env` (the job's variables)."""
    if not precondition_holds(step, PLATFORM_TYPE):
        return skipped(step)
    if step.action == SHELL_SCRIPT:
        argv = SHELL
    elif step.action == POWERSHELL and shutil.which("pwsh"):
        argv = ["pwsh", "-f"]  # AWS's agent runs PowerShell on Linux when PowerShell Core is installed
    elif step.action == POWERSHELL:
        return failed(step, f"Plugin with name {step.action} is not supported in current platform. "
                            f"Step name: {step.name}")
    else:
        return failed(step, f"Plugin with name {step.action} is not supported by this version of ssm agent, "
                            f"please update to latest version. Step name: {step.name}")
    cwd = _resolve_cwd(step, work_dir)
    if cwd is not None and not cwd.is_dir():
        return failed(step, f"Working directory {step.working_directory} does not exist.")
    try:
        result = run_script(argv, "\n".join(step.commands) + "\n", step.timeout_seconds, step_dir(step, work_dir),
                            cwd, handle, env)
    except OSError as err:
        return failed(step, f"failed to run commands: {err}")
    return _report(step, result)
