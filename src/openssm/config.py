"""Server configuration, validated once at start-up."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from openssm.types import DEFAULT_ACCOUNT, DEFAULT_REGION, AccountId, Region


@dataclass(frozen=True)
class S3Settings:
    """An S3-compatible store for Run Command's OutputS3BucketName (credentials never logged)."""

    endpoint: str
    region: str = "us-east-1"
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    dev_mode: bool = False
    default_account: AccountId = DEFAULT_ACCOUNT
    default_region: Region = DEFAULT_REGION
    master_key_file: Path | None = None
    workers: int = 1
    local_agent: bool = False
    s3: S3Settings | None = None
    # Hybrid nodes whose key is this old are asked to rotate it (UpdateKeyPair). A number, not a timedelta, so
    # the configuration still travels to --workers processes as JSON (server.py).
    node_key_rotation_days: float = 30.0
    # NATS (nats://host:port) joins a session's two ends when they reach different server processes or replicas.
    nats_url: str | None = None
    # Agents older than this cannot enrol by Default Host Management (AWS: 3.2.582.0).
    min_agent_version: str = "3.2.582.0"

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d{12}", self.default_account):
            raise ValueError(f"account id must be 12 digits, not {self.default_account!r}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port out of range: {self.port}")
        if not 0 <= self.node_key_rotation_days <= 36500:  # also refuses NaN
            raise ValueError(f"the node key rotation age must be 0 to 36500 days, not {self.node_key_rotation_days}")
        if not re.fullmatch(r"\d+(\.\d+){0,3}", self.min_agent_version):
            raise ValueError(f"the minimum agent version must look like 3.2.582.0, not {self.min_agent_version!r}")

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def node_key_rotation_age(self) -> dt.timedelta:
        return dt.timedelta(days=self.node_key_rotation_days)

    @property
    def master_key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def endpoint_url(self) -> str:
        host = "localhost" if self.host in ("0.0.0.0", "127.0.0.1", "::") else self.host
        return f"{self.scheme}://{host}:{self.port}"
