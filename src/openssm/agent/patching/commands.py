"""Running the package managers' commands: one small interface, so that tests can answer with recorded outputs
(golden files of nodes they do not have), and everything else runs the real commands."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 3600.0  # an install of many packages over a slow mirror


@dataclass(frozen=True)
class Completed:
    code: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Mapping[str, str]], Completed]


class CommandFailed(Exception):
    """A package manager command that could not run or failed; the message says which and why."""


def run(argv: Sequence[str], env: Mapping[str, str]) -> Completed:
    """The command's exit status and output, with `env` added to the agent's environment."""
    log.info("patching: %s", " ".join(argv))
    try:
        done = subprocess.run(list(argv), capture_output=True, stdin=subprocess.DEVNULL, timeout=TIMEOUT_SECONDS,
                              env={**os.environ, **env}, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CommandFailed(f"{argv[0]} could not run: {err}") from err
    return Completed(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))


def checked(runner: Runner, argv: Sequence[str], env: Mapping[str, str], ok: Sequence[int] = (0,)) -> Completed:
    done = runner(argv, env)
    if done.code not in ok:
        detail = (done.stderr.strip() or done.stdout.strip())[-2000:]
        raise CommandFailed(f"{' '.join(argv[:3])} exited {done.code}: {detail}")
    return done
