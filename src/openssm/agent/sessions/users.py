"""Whom a session's processes run as, decided as AWS's agent decides it (agent/session/shell/shell_unix.go,
agent/session/utility/utility_unix.go): Run As names an existing user (never root) and needs a root agent;
otherwise a root agent uses `ssm-user`, created on first use with a home directory and the sudoers drop-in
AWS writes, and an agent that is not root runs sessions as itself."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openssm.agent.sessions.document import InvalidSession, SessionConfig

DEFAULT_USER = "ssm-user"
SUDOERS_FILE = Path("/etc/sudoers.d/ssm-agent-users")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str

    def environment(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name}


def lookup(name: str) -> Identity | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Identity(entry.pw_name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(entry.pw_name, entry.pw_gid)),
                    entry.pw_dir)


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=60)


class SessionUsers:
    """Answers the Identity a session runs as; None means the agent's own."""

    def __init__(self, *, default_user: str = DEFAULT_USER, sudoers: Path = SUDOERS_FILE,
                 find: Callable[[str], Identity | None] = lookup, run: Callable[[list[str]], None] = _run,
                 is_root: Callable[[], bool] = lambda: os.geteuid() == 0) -> None:
        self._default_user = default_user
        self._sudoers = sudoers
        self._find = find
        self._run = run
        self._is_root = is_root

    def identity(self, config: SessionConfig, elevated: bool = False) -> Identity | None:
        """Raises InvalidSession with AWS's messages when Run As cannot be honoured."""
        if elevated:
            return None
        if config.run_as_enabled:
            user = config.run_as_user
            if not user:
                raise InvalidSession("please set the RunAs default user")
            if not self._is_root():
                raise InvalidSession("the agent must run as root to use RunAs")
            found = self._find(user)
            if found is None:
                raise InvalidSession(f"failed to start pty since RunAs user {user} does not exist")
            return _not_root(found)
        if not self._is_root():
            log.warning("the agent is not root: sessions run as the agent's own user")
            return None
        return _not_root(self.default_user())

    def default_user(self) -> Identity:
        """`ssm-user`, created (`useradd -m`, and the sudoers drop-in) if it does not exist yet."""
        found = self._find(self._default_user)
        if found is not None:
            return found
        try:
            if shutil.which("useradd") or not shutil.which("adduser"):
                self._run(["useradd", "-m", self._default_user])
            else:  # BusyBox systems
                self._run(["adduser", "-D", self._default_user])
        except (OSError, subprocess.SubprocessError) as err:
            raise InvalidSession(f"failed to create {self._default_user}: {err}") from err
        log.info("created %s", self._default_user)
        self._write_sudoers()
        found = self._find(self._default_user)
        if found is None:
            raise InvalidSession(f"failed to create {self._default_user}")
        return found

    def _write_sudoers(self) -> None:
        """AWS's drop-in: written 0640, then made read-only (0440); an existing file is only made read-only."""
        try:
            if not self._sudoers.exists():
                self._sudoers.parent.mkdir(parents=True, exist_ok=True)
                descriptor = os.open(self._sudoers, os.O_WRONLY | os.O_CREAT, 0o640)
                with os.fdopen(descriptor, "w") as file:
                    file.write(f"# User rules for {self._default_user}\n"
                               f"{self._default_user} ALL=(ALL) NOPASSWD:ALL\n")
            os.chmod(self._sudoers, 0o440)
        except OSError as err:
            log.error("failed to add %s to %s: %s", self._default_user, self._sudoers, err)


def _not_root(identity: Identity) -> Identity:
    if identity.uid <= 0 or identity.gid <= 0:  # as AWS's getUserCredentials
        raise InvalidSession("invalid uid and gid")
    return identity
