"""Configuration, secrets at rest, lab PKI and the store's engine set-up."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidTag

from openssm.config import ServerConfig
from openssm.pki import init_pki
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox, load_or_create_master_key
from openssm.types import AccountId


def test_config_rejects_an_account_id_that_is_not_twelve_digits(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        ServerConfig(data_dir=tmp_path, database_url="sqlite://", default_account=AccountId("1234"))


def test_config_requires_tls_cert_and_key_together(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="go together"):
        ServerConfig(data_dir=tmp_path, database_url="sqlite://", tls_cert=tmp_path / "c.pem")


def test_master_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    first = load_or_create_master_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_master_key(path) == first
    assert len(first) == 32


def test_sealed_secrets_open_only_with_the_same_key_and_row_binding() -> None:
    box = SecretBox(b"k" * 32)
    sealed = box.seal(b"wJalrXUtnFEMI", aad=b"AKIA1")
    assert b"wJalrXUtnFEMI" not in sealed
    assert box.open(sealed, aad=b"AKIA1") == b"wJalrXUtnFEMI"
    with pytest.raises(InvalidTag):
        box.open(sealed, aad=b"AKIA2")
    with pytest.raises(InvalidTag):
        SecretBox(b"x" * 32).open(sealed, aad=b"AKIA1")


def test_pki_init_issues_a_server_certificate_that_verifies_against_its_ca(tmp_path: Path) -> None:
    files = init_pki(tmp_path, ["openssm.lab"])
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "openssm.lab" in names.get_values_for_type(x509.DNSName)
    assert stat.S_IMODE(files.server_key.stat().st_mode) == 0o600
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)  # raises if the signature or issuer does not match
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files.server_cert, files.server_key)  # raises if key and cert differ


def test_pki_init_keeps_the_existing_ca(tmp_path: Path) -> None:
    first = init_pki(tmp_path, []).ca_cert.read_bytes()
    assert init_pki(tmp_path, ["other"]).ca_cert.read_bytes() == first


def test_open_database_applies_migrations_to_an_empty_sqlite_file(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.read() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"accounts", "alembic_version"} <= tables
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_migrations_create_exactly_the_tables_the_code_declares(tmp_path: Path) -> None:
    from alembic import command

    from openssm.store.migrations.runner import alembic_config

    db = open_database(f"sqlite:///{tmp_path / 'check.db'}")
    command.check(alembic_config(db.engine))  # raises if the models and the migrations disagree
