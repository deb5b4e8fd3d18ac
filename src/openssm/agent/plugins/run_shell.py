"""Running a step's commands as one script (AWS's agent: `sh -c _script.sh`, or `pwsh -f _script.ps1`), in its
own process group so that executionTimeout or a cancel ends the whole tree, with stdout and stderr written in
full to files in the job's work directory (only their beginnings travel in a reply)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# AWS's agent reports a command it killed, on timeout or cancel, with 128 + SIGKILL
# (appconfig.CommandStoppedPreemptivelyExitCode), and tells the two apart by its cancel flag.
STOPPED_EXIT_CODE = 137


class ProcessHandle:
    """A running script that another thread may cancel, before or after it starts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self.cancelled = False

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._proc = proc
            if self.cancelled:
                _kill_group(proc)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._proc is not None:
                _kill_group(self._proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


@dataclass(frozen=True)
class ShellResult:
    status: str  # Success | Failed | TimedOut | Cancelled
    code: int
    stdout_path: Path
    stderr_path: Path
    start: dt.datetime
    end: dt.datetime

    def stdout(self, chars: int) -> str:
        return read_head(self.stdout_path, chars)

    def stderr(self, chars: int) -> str:
        return read_head(self.stderr_path, chars)


def read_head(path: Path, chars: int) -> str:
    """The first `chars` characters of an output file (invalid UTF-8 replaced)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read(chars)


def run_script(argv: list[str], script: str, timeout: float, work_dir: Path, cwd: Path | None = None,
               handle: ProcessHandle | None = None, env: Mapping[str, str] | None = None) -> ShellResult:
    """Write `script` to the work directory and run `argv + [script path]` there (or in `cwd`), with the
    agent's environment plus `env`."""
    handle = handle or ProcessHandle()
    work_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    script_path = work_dir / ("_script.ps1" if "pwsh" in argv[0] else "_script.sh")
    script_path.write_text(script)
    out_path, err_path = work_dir / "stdout", work_dir / "stderr"
    start = dt.datetime.now(dt.UTC)
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        if handle.cancelled:
            return ShellResult("Cancelled", STOPPED_EXIT_CODE, out_path, err_path, start, start)
        proc = subprocess.Popen([*argv, str(script_path)], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                cwd=cwd or work_dir, start_new_session=True, env={**os.environ, **(env or {})})
        handle.attach(proc)
        try:
            code = proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            code, timed_out = proc.wait(), True
    end = dt.datetime.now(dt.UTC)
    if handle.cancelled:
        return ShellResult("Cancelled", STOPPED_EXIT_CODE, out_path, err_path, start, end)
    if timed_out:
        return ShellResult("TimedOut", STOPPED_EXIT_CODE, out_path, err_path, start, end)
    # A shell killed by a signal exits with -N here; the shell convention AWS's agent reports is 128 + N.
    code = 128 - code if code < 0 else code
    return ShellResult("Success" if code == 0 else "Failed", code, out_path, err_path, start, end)
