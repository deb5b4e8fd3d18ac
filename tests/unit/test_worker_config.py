"""The configuration `openssm server --workers N` hands each worker process (as JSON in the environment)
comes back whole, nested settings included."""

from __future__ import annotations

from pathlib import Path

import pytest

from openssm import server
from openssm.config import S3Settings, ServerConfig


def test_every_setting_reaches_the_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ServerConfig(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db", workers=3, tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem",
                          s3=S3Settings("http://127.0.0.1:9000", "eu-west-1", "AKID", "secret"),
                          node_key_rotation_days=7.5)
    monkeypatch.setenv(server._CONFIG_ENV, server._config_to_env(config))
    again = server._config_from_env()
    assert again == config
    assert isinstance(again.s3, S3Settings) and again.s3.endpoint == "http://127.0.0.1:9000"
