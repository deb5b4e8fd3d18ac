"""aws:runShellScript: the commands as one script under /bin/sh, in its own process group so that a
timeout or a cancel ends the whole tree, with its output captured in full."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

EXECUTION_TIMED_OUT = 124  # the exit code AWS's agent reports for a command killed by executionTimeout
CANCELLED = 137  # killed by SIGKILL

# The scripts running now, by job id, so that a cancel can end one (and its whole process group).
_running: dict[str, subprocess.Popen[bytes]] = {}
_cancelled: set[str] = set()
_lock = threading.Lock()


def cancel(job_id: str) -> bool:
    """Kill the job's process group; False if it is not running here."""
    with _lock:
        proc = _running.get(job_id)
        if proc is None:
            return False
        _cancelled.add(job_id)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return True


@dataclass(frozen=True)
class ShellResult:
    status: str  # Success | Failed | TimedOut | Cancelled
    code: int
    stdout: str
    stderr: str
    start: dt.datetime
    end: dt.datetime


def run_script(lines: list[str], timeout: float, work_dir: Path, cwd: str | None = None,
               job_id: str = "") -> ShellResult:
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    start = dt.datetime.now(dt.UTC)
    with tempfile.NamedTemporaryFile("w", suffix=".sh", dir=work_dir, delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        proc = subprocess.Popen(["/bin/sh", script.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, cwd=cwd or None, start_new_session=True)
        with _lock:
            _running[job_id] = proc
        try:
            out, err = proc.communicate(timeout=timeout)
            status = "Success" if proc.returncode == 0 else "Failed"
            code = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            status, code = "TimedOut", EXECUTION_TIMED_OUT
        with _lock:
            _running.pop(job_id, None)
            if job_id in _cancelled:
                _cancelled.discard(job_id)
                status, code = "Cancelled", CANCELLED
    finally:
        os.unlink(script.name)
    return ShellResult(status, code, out.decode(errors="replace"), err.decode(errors="replace"), start,
                       dt.datetime.now(dt.UTC))
