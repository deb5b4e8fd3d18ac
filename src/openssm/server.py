"""Starting the control plane: open the store, build the services, first-start bootstrap, serve.

With `--workers N` uvicorn forks N processes; each rebuilds its container from the configuration,
which travels to them in an environment variable (uvicorn can only hand workers an import string).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from openssm import local_agent
from openssm.api.app import create_app
from openssm.bootstrap import ensure_bootstrapped
from openssm.config import S3Settings, ServerConfig
from openssm.container import Container
from openssm.store.db import open_database
from openssm.store.secrets import SecretBox, load_or_create_master_key
from openssm.types import AccountId, Region

log = logging.getLogger(__name__)

_CONFIG_ENV = "OPENSSM_SERVER_CONFIG"


def build_container(config: ServerConfig) -> Container:
    db = open_database(config.database_url)
    box = SecretBox(load_or_create_master_key(config.master_key_path))
    return Container(config, db, box)


def _config_to_env(config: ServerConfig) -> str:
    return json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(config).items()})


def _config_from_env() -> ServerConfig:
    raw: dict[str, Any] = json.loads(os.environ[_CONFIG_ENV])
    for key in ("data_dir", "tls_cert", "tls_key", "master_key_file"):
        if raw.get(key) is not None:
            raw[key] = Path(raw[key])
    raw["default_account"] = AccountId(raw["default_account"])
    raw["default_region"] = Region(raw["default_region"])
    if raw.get("s3") is not None:
        raw["s3"] = S3Settings(**raw["s3"])
    return ServerConfig(**raw)


def worker_app() -> ASGIApp:
    """The app factory each uvicorn worker process calls."""
    return create_app(build_container(_config_from_env()))


def run_server(config: ServerConfig, *, log_level: str = "info") -> None:
    container = build_container(config)
    ensure_bootstrapped(container)
    if config.dev_mode:
        log.warning("dev mode: any unknown access key is accepted as the root of account 123456789012")
    if config.workers > 1 and not config.nats_url:
        log.warning("--workers %d without --nats-url: a session whose client and node reach different worker "
                    "processes cannot connect", config.workers)
    local = local_agent.start(container) if config.local_agent else None
    common: dict[str, Any] = dict(
        host=config.host,
        port=config.port,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        log_level=log_level,
        access_log=False,
        ws="websockets-sansio",
        # AWS's agents never negotiate permessage-deflate and agent messages are small; offering it cost every
        # connection zlib state (with 10,000 agents, about 150 MB of the server's memory).
        ws_per_message_deflate=False,
        # Idle keep-alive clients must not hold a stopping server open indefinitely.
        timeout_graceful_shutdown=5,
        http="httptools",
        loop="uvloop",
    )
    try:
        if config.workers > 1:
            container.db.dispose()
            os.environ[_CONFIG_ENV] = _config_to_env(config)
            uvicorn.run("openssm.server:worker_app", factory=True, workers=config.workers, **common)
        else:
            uvicorn.run(create_app(container), **common)
    finally:
        if local is not None:
            local.stop()
