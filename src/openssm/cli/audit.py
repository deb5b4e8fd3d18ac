"""`openssm audit verify`: check the audit trail's hash chain."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def audit() -> None:
    """Inspect the audit trail."""


@audit.command("verify")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path, exists=True))
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir).")
@click.option("--master-key-file", type=click.Path(path_type=Path, exists=True), default=None)
def verify(data_dir: Path, database_url: str | None, master_key_file: Path | None) -> None:
    """Detect any altered, removed or reordered audit record; exits 1 if the chain is broken."""
    from openssm.services.audit_chain import CHAIN_KEY_LABEL, verify_chain
    from openssm.services.audit_query import chain_rows
    from openssm.store.db import create_db_engine, sqlite_url
    from openssm.store.secrets import SecretBox

    key_path = master_key_file or data_dir / "master.key"
    if not key_path.exists():
        raise click.ClickException(f"no master key at {key_path}")
    key = SecretBox(key_path.read_bytes()).derive_key(CHAIN_KEY_LABEL)
    engine = create_db_engine(database_url or sqlite_url(data_dir.resolve()))
    with engine.connect() as conn:
        rows = chain_rows(conn)
    engine.dispose()
    report = verify_chain(key, rows)
    if not report.ok:
        click.echo(f"audit trail BROKEN at record {report.broken_at}: {report.reason} "
                   f"({report.count} records verified before it)")
        sys.exit(1)
    head = rows[-1].hash if rows else "-"
    click.echo(f"audit trail ok: {report.count} records, head {head}")
