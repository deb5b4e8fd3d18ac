"""`openssm server`: the control plane."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from openssm.config import S3Settings, ServerConfig
from openssm.types import DEFAULT_ACCOUNT, DEFAULT_REGION, AccountId, Region


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8443, show_default=True, type=int, help="Port for HTTP(S) and WebSockets.")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path),
              help="Where the database, master key and credentials live.")
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir).")
@click.option("--tls-cert", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--tls-key", type=click.Path(path_type=Path, exists=True), default=None)
@click.option("--dev", "dev_mode", is_flag=True,
              help="Accept any access key as the root of account 123456789012 (local development only).")
@click.option("--account-id", default=DEFAULT_ACCOUNT, show_default=True,
              help="Id of the default account created on first start.")
@click.option("--region", default=DEFAULT_REGION, show_default=True, help="Default region.")
@click.option("--master-key-file", type=click.Path(path_type=Path), default=None,
              help="32-byte key encrypting secrets at rest (default: <data-dir>/master.key).")
@click.option("--workers", default=1, show_default=True, type=int,
              help="Server processes sharing the port (each with its own connection pool).")
@click.option("--log-level", default="info", show_default=True)
@click.option("--local-agent", is_flag=True, help="Also enrol this machine as a managed node and run its agent "
              "(state in <data-dir>/agent).")
@click.option("--s3-endpoint", default=None, help="An S3-compatible store for Run Command's OutputS3BucketName.")
@click.option("--s3-region", default="us-east-1", show_default=True)
@click.option("--s3-access-key-id", envvar="OPENSSM_S3_ACCESS_KEY_ID", default=None,
              help="(env OPENSSM_S3_ACCESS_KEY_ID; default: botocore's credential chain)")
@click.option("--s3-secret-access-key", envvar="OPENSSM_S3_SECRET_ACCESS_KEY", default=None,
              help="(env OPENSSM_S3_SECRET_ACCESS_KEY)")
@click.option("--nats-url", envvar="OPENSSM_NATS_URL", default=None,
              help="NATS server relaying sessions between replicas or --workers processes (env OPENSSM_NATS_URL).")
@click.option("--node-key-rotation-days", default=30.0, show_default=True, type=float,
              help="Ask hybrid nodes whose RSA key is this old to rotate it (0: at every credential refresh).")
@click.option("--min-agent-version", default="3.2.582.0", show_default=True,
              help="Refuse Default Host Management to agents older than this (AWS's minimum: 3.2.582.0).")
def server(host: str, port: int, data_dir: Path, database_url: str | None, tls_cert: Path | None,
           tls_key: Path | None, dev_mode: bool, account_id: str, region: str, master_key_file: Path | None,
           workers: int, log_level: str, local_agent: bool, s3_endpoint: str | None, s3_region: str,
           s3_access_key_id: str | None, s3_secret_access_key: str | None, nats_url: str | None,
           node_key_rotation_days: float, min_agent_version: str) -> None:
    """Run the control plane."""
    from openssm.server import run_server

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data_dir = data_dir.resolve()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    from openssm.store.db import sqlite_url

    try:
        config = ServerConfig(
            data_dir=data_dir, database_url=database_url or sqlite_url(data_dir), host=host, port=port,
            tls_cert=tls_cert, tls_key=tls_key, dev_mode=dev_mode, default_account=AccountId(account_id),
            default_region=Region(region), master_key_file=master_key_file, workers=workers,
            local_agent=local_agent,
            s3=S3Settings(s3_endpoint, s3_region, s3_access_key_id, s3_secret_access_key) if s3_endpoint else None,
            node_key_rotation_days=node_key_rotation_days, nats_url=nats_url,
            min_agent_version=min_agent_version,
        )
    except ValueError as err:
        raise click.BadParameter(str(err)) from err
    run_server(config, log_level=log_level)
