"""How the agent reads a session task (its Session document, parameters and Run As) and whom it runs the
session as: `ssm-user`, created as AWS's agent creates it, a Run As user, or the agent itself."""

from __future__ import annotations

import datetime as dt
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.sessions.document import (
    InvalidSession,
    PortProperties,
    ShellProperties,
    session_config,
    substitute,
)
from openssm.agent.sessions.users import Identity, SessionUsers
from openssm.protocol.data_channel import SessionType
from openssm.protocol.session_tasks import SessionTask

SSM_USER = Identity("ssm-user", 1001, 1001, (1001,), "/home/ssm-user")


def task(document: Mapping[str, Any], parameters: Mapping[str, Any] | None = None, run_as: str = "") -> SessionTask:
    return SessionTask("s-1", "doc", document, parameters or {}, run_as)


def test_parameters_replace_references_with_defaults_for_those_not_given() -> None:
    document = {"sessionType": "Port",
                "parameters": {"portNumber": {"type": "String", "default": "80"},
                               "host": {"type": "String", "default": "db.internal"}},
                "properties": {"portNumber": "{{ portNumber }}", "host": "{{host}}", "type": "LocalPortForwarding"}}
    config = session_config(task(document, {"portNumber": ["5432"]}))
    assert config.session_type is SessionType.PORT
    assert config.port == PortProperties("5432", "db.internal", "LocalPortForwarding")
    assert config.handshake_properties() == {"portNumber": "5432", "host": "db.internal",
                                             "type": "LocalPortForwarding"}


def test_substitution_follows_awss_replace_parameters() -> None:
    values = {"list": ["a", "b"], "cost": "$$5"}
    assert substitute("{{ list }}", values) == ["a", "b"]
    assert substitute("x {{list}} y {{ cost }} {{ missing }}", values) == 'x ["a","b"] y $5 {{ missing }}'


def test_preferences_give_the_idle_timeout_maximum_duration_and_shell_profile() -> None:
    document = {"sessionType": "Standard_Stream",
                "inputs": {"idleSessionTimeout": "5", "maxSessionDuration": 90,
                           "shellProfile": {"linux": "cd /tmp", "windows": "cd C:\\"}}}
    config = session_config(task(document))
    assert (config.idle_timeout, config.max_duration, config.shell_profile) == (
        dt.timedelta(minutes=5), dt.timedelta(minutes=90), "cd /tmp")
    assert config.handshake_properties() == {}
    defaults = session_config(task({"sessionType": "Standard_Stream"}))
    assert (defaults.idle_timeout, defaults.max_duration) == (dt.timedelta(minutes=20), None)


def test_run_as_comes_from_the_task_before_the_documents_default() -> None:
    document = {"sessionType": "Standard_Stream", "inputs": {"runAsEnabled": "true", "runAsDefaultUser": "ops"}}
    assert session_config(task(document)).run_as_user == "ops"
    assert session_config(task(document, run_as="alice")).run_as_user == "alice"
    tagged = session_config(task({"sessionType": "Standard_Stream"}, run_as="alice"))
    assert (tagged.run_as_enabled, tagged.run_as_user) == (True, "alice")


def test_command_properties_and_unknown_session_types() -> None:
    shell = ShellProperties.of({"linux": {"commands": ["echo a", "echo b"], "runAsElevated": "true",
                                          "separateOutputStream": False}})
    assert shell == ShellProperties("echo a\necho b", True, False)
    with pytest.raises(InvalidSession):
        session_config(task({"sessionType": "Nonsense"}))
    with pytest.raises(InvalidSession, match="Port number is empty"):
        PortProperties.of(session_config(task({"sessionType": "Port", "properties": {}})).properties)


class FakeSystem:
    def __init__(self, users: dict[str, Identity]) -> None:
        self.users = users
        self.ran: list[list[str]] = []

    def find(self, name: str) -> Identity | None:
        return self.users.get(name)

    def run(self, argv: list[str]) -> None:
        self.ran.append(argv)
        self.users[argv[-1]] = SSM_USER


def test_a_root_agent_creates_ssm_user_once_with_awss_sudoers_drop_in(tmp_path: Path) -> None:
    system, sudoers = FakeSystem({}), tmp_path / "sudoers.d" / "ssm-agent-users"
    users = SessionUsers(sudoers=sudoers, find=system.find, run=system.run, is_root=lambda: True)
    config = session_config(task({"sessionType": "Standard_Stream"}))
    assert users.identity(config) == SSM_USER
    assert users.identity(config) == SSM_USER
    assert system.ran in ([["useradd", "-m", "ssm-user"]], [["adduser", "-D", "ssm-user"]])
    assert sudoers.read_text() == "# User rules for ssm-user\nssm-user ALL=(ALL) NOPASSWD:ALL\n"
    assert stat.S_IMODE(sudoers.stat().st_mode) == 0o440


def test_run_as_needs_an_existing_user_that_is_not_root_and_a_root_agent() -> None:
    document = {"sessionType": "Standard_Stream", "inputs": {"runAsEnabled": True}}
    system = FakeSystem({"ops": Identity("ops", 1002, 1002, (1002,), "/home/ops"),
                         "root": Identity("root", 0, 0, (0,), "/root")})
    users = SessionUsers(find=system.find, run=system.run, is_root=lambda: True)
    assert users.identity(session_config(task(document, run_as="ops"))) == system.users["ops"]
    with pytest.raises(InvalidSession, match="^failed to start pty since RunAs user bob does not exist$"):
        users.identity(session_config(task(document, run_as="bob")))
    with pytest.raises(InvalidSession, match="^please set the RunAs default user$"):
        users.identity(session_config(task(document)))
    with pytest.raises(InvalidSession, match="invalid uid and gid"):
        users.identity(session_config(task(document, run_as="root")))
    not_root = SessionUsers(find=system.find, run=system.run, is_root=lambda: False)
    with pytest.raises(InvalidSession, match="^the agent must run as root to use RunAs$"):
        not_root.identity(session_config(task(document, run_as="ops")))
    assert system.ran == []


def test_an_agent_that_is_not_root_runs_sessions_as_itself_and_elevated_ones_too() -> None:
    system = FakeSystem({})
    config = session_config(task({"sessionType": "Standard_Stream"}))
    assert SessionUsers(find=system.find, run=system.run, is_root=lambda: False).identity(config) is None
    assert SessionUsers(find=system.find, run=system.run, is_root=lambda: True).identity(config, elevated=True) \
        is None
    assert system.ran == []
