"""Where the gatherers read the node: a file system root (so that tests point them at a fake /proc, /sys and
/etc), the commands of the package and service managers, and the environment AWS:File paths expand with."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)
COMMAND_TIMEOUT_SECONDS = 300.0


@dataclass(frozen=True)
class Sources:
    root: Path = Path("/")
    dpkg_query: tuple[str, ...] = ("dpkg-query",)
    rpm: tuple[str, ...] = ("rpm",)
    snap: tuple[str, ...] = ("snap",)
    systemctl: tuple[str, ...] = ("systemctl",)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    kernel_release: str = field(default_factory=lambda: os.uname().release)

    def path(self, absolute: str) -> Path:
        """An absolute path of the node, under the root."""
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str) -> str | None:
        """A text file of the node, or None when it cannot be read."""
        try:
            return self.path(absolute).read_text(errors="replace")
        except OSError:
            return None


def exists(argv: Sequence[str]) -> bool:
    """Whether the command is installed (AWS's agent: exec.LookPath)."""
    return shutil.which(argv[0]) is not None


def output(argv: Sequence[str]) -> str | None:
    """A command's stdout, or None (logged) when it cannot run or fails; bytes that are not UTF-8 kept as lone
    surrogates (model.go_string makes them what Go's JSON decoder makes them)."""
    try:
        done = subprocess.run(list(argv), capture_output=True, stdin=subprocess.DEVNULL,
                              timeout=COMMAND_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("inventory: %s failed: %s", argv[0], err)
        return None
    if done.returncode != 0:
        log.warning("inventory: %s exited %d: %s", argv[0], done.returncode,
                    done.stderr.decode(errors="replace").strip()[:500])
        return None
    return done.stdout.decode(errors="surrogateescape")
