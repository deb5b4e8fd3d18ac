"""Running one document step with its plugin and reporting it as AWS's agent does: the reply carries the first
24,000 characters of stdout and 8,000 of stderr, cut ones ending in `--output truncated--` (DESIGN §4); the
full output stays in the job's work directory. The shell plugins are built in; the agent passes the others
(aws:softwareInventory, aws:refreshAssociation), which need the node's identity, to run_step."""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def outcome(step: Step, start: dt.datetime, stdout: str, stderr: str, code: int = 0) -> PluginResult:
    """A plugin's result from its output and exit code (0 Success, else Failed), cut as replies are cut."""
    return PluginResult(step.name or step.action, "Success" if code == 0 else "Failed", code,
                        cut(stdout, STDOUT_LIMIT), cut(stderr, STDERR_LIMIT), stamp(start),
                        stamp(dt.datetime.now(dt.UTC)), step.action)


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


@dataclass(frozen=True)
class StepRun:
    """A step as its plugin gets it: its inputs with the document's parameters in them, where it runs, and who
    runs the document (a State Manager association, or Run Command when `association_id` is empty)."""

    step: Step
    work_dir: Path
    handle: ProcessHandle
    env: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, Any] = field(default_factory=dict)
    association_id: str = ""
    # The node's associations whose documents use this step's plugin (AWS's agent: CurrentAssociations).
    current_associations: tuple[str, ...] = ()


StepPlugin = Callable[[StepRun], PluginResult]


def run_commands(run: StepRun) -> PluginResult:
    """aws:runShellScript and aws:runPowerShellScript: the step's commands as one script."""
    step = run.step
    if step.action == POWERSHELL and not shutil.which("pwsh"):
        return failed(step, f"Plugin with name {step.action} is not supported in current platform. "
                            f"Step name: {step.name}")
    argv = ["pwsh", "-f"] if step.action == POWERSHELL else SHELL  # PowerShell Core runs on Linux too
    cwd = _resolve_cwd(step, run.work_dir)
    if cwd is not None and not cwd.is_dir():
        return failed(step, f"Working directory {step.working_directory} does not exist.")
    try:
        result = run_script(argv, "\n".join(step.commands) + "\n", step.timeout_seconds,
                            step_dir(step, run.work_dir), cwd, run.handle, run.env)
    except OSError as err:
        return failed(step, f"failed to run commands: {err}")
    return _report(step, result)


BUILT_IN: Mapping[str, StepPlugin] = {SHELL_SCRIPT: run_commands, POWERSHELL: run_commands}


def run_step(run: StepRun, plugins: Mapping[str, StepPlugin] | None = None) -> PluginResult:
    """Run a step with its plugin (`plugins` first, then the built-in ones) and answer its result; a plugin this
    node does not have fails as AWS's agent fails it."""
    if not precondition_holds(run.step, PLATFORM_TYPE):
        return skipped(run.step)
    plugin = (plugins or {}).get(run.step.action) or BUILT_IN.get(run.step.action)
    if plugin is None:
        return failed(run.step, f"Plugin with name {run.step.action} is not supported by this version of ssm "
                                f"agent, please update to latest version. Step name: {run.step.name}")
    return plugin(run)
