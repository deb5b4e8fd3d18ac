"""aws:runShellScript: the commands as one script under /bin/sh, in its own process group so that a
timeout or a cancel ends the whole tree, with its output captured in full."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

EXECUTION_TIMED_OUT = 124  # the exit code AWS's agent reports for a command killed by executionTimeout


@dataclass(frozen=True)
class ShellResult:
    status: str  # Success | Failed | TimedOut
    code: int
    stdout: str
    stderr: str
    start: dt.datetime
    end: dt.datetime


def run_script(lines: list[str], timeout: float, work_dir: Path, cwd: str | None = None) -> ShellResult:
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    start = dt.datetime.now(dt.UTC)
    with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=work_dir, delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        proc = subprocess.Popen(["/bin/sh", script.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd or None, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            status = "Success" if proc.returncode == 0 else "Failed"
            code = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            status, code = "TimedOut", EXECUTION_TIMED_OUT
    finally:
        os.unlink(script.name)
    return ShellResult(status, code, out.decode(errors="replace"), err.decode(errors="replace"), start,
                       dt.datetime.now(dt.UTC))
