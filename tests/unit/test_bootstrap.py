"""First start of a data directory: the default account, its administrator and key, written and shown
once; later starts leave them alone."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from openssm.bootstrap import ensure_bootstrapped
from openssm.clock import FakeClock
from openssm.config import ServerConfig
from openssm.container import Container
from openssm.iam import access_keys, bindings, entities
from openssm.iam.accounts import get_account
from openssm.iam.entities import EntityKind
from openssm.iam.ports import AuthorizationTarget, CallFacts
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox
from openssm.types import AccountId


@pytest.fixture
def container(tmp_path: Path) -> Iterator[Container]:
    config = ServerConfig(data_dir=tmp_path, database_url="sqlite://", port=9443,
                          default_account=AccountId("444455556666"))
    built = Container(config, open_database("sqlite://"), SecretBox(b"m" * 32), FakeClock())
    yield built
    built.close()


def test_first_start_creates_the_account_and_an_administrator_with_one_key(container: Container) -> None:
    ensure_bootstrapped(container)
    with container.db.read() as conn:
        assert get_account(conn, "444455556666") is not None
        admin = entities.get(conn, "444455556666", EntityKind.USER, "admin")
        keys = access_keys.keys_of(conn, admin)
        attached = bindings.attached(conn, admin)
    assert attached == ["arn:aws:iam::aws:policy/AdministratorAccess"]
    assert len(keys) == 1 and keys[0].active


def test_the_credentials_file_is_private_and_holds_a_ready_profile(container: Container,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ensure_bootstrapped(container)
    path = container.config.data_dir / "admin-credentials"
    text = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = re.search(r"^\[openssm-admin\]\naws_access_key_id = (AKIA[A-Z0-9]{16})\n"
                    r"aws_secret_access_key = (\S{40})$", text, re.M)
    assert key is not None
    assert "[profile openssm-admin]" in text and "region = us-east-1" in text
    assert "endpoint_url = http://localhost:9443" in text
    shown = capsys.readouterr().out
    assert "Administrator credentials (shown once" in shown and key.group(2) in shown


def test_the_administrator_key_works_and_may_do_anything(container: Container) -> None:
    ensure_bootstrapped(container)
    text = (container.config.data_dir / "admin-credentials").read_text()
    key_id = re.search(r"aws_access_key_id = (\S+)", text).group(1)  # type: ignore[union-attr]
    secret = re.search(r"aws_secret_access_key = (\S+)", text).group(1)  # type: ignore[union-attr]
    resolved = container.credentials.resolve(key_id)
    assert resolved is not None and resolved.secret_access_key == secret
    facts = CallFacts(resolved.caller, "us-east-1", "127.0.0.1", False, container.clock.now())
    container.authorizer.authorize(facts, "iam:CreateUser",
                                   [AuthorizationTarget("arn:aws:iam::444455556666:user/x", {})], {})


def test_a_later_start_neither_rewrites_nor_prints_the_credentials(container: Container,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ensure_bootstrapped(container)
    path = container.config.data_dir / "admin-credentials"
    first = path.read_text()
    capsys.readouterr()
    path.chmod(0o400)  # a rewrite would fail loudly, and an operator may well have done this
    ensure_bootstrapped(container)
    assert path.read_text() == first
    assert capsys.readouterr().out == ""
    with container.db.read() as conn:
        admin = entities.get(conn, "444455556666", EntityKind.USER, "admin")
        assert len(access_keys.keys_of(conn, admin)) == 1
