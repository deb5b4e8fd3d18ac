"""`openssm audit verify`: check the audit trail's hash chain, on SQLite or PostgreSQL, even while serving."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from openssm.services.audit_chain import CHAIN_KEY_LABEL, Anchor, verify_chain


@click.group()
def audit() -> None:
    """Inspect the audit trail."""


@audit.command("verify")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path, exists=True))
@click.option("--database-url", default=None, help="SQLAlchemy URL (default: SQLite in the data dir).")
@click.option("--master-key-file", type=click.Path(path_type=Path, exists=True), default=None,
              help="The server's master key (default: <data-dir>/master.key); the chain is keyed from it.")
@click.option("--anchor", "anchors", multiple=True, metavar="SEQ:HASH",
              help="A record an earlier verify reported (its count and last hash), which must still be there.")
def verify(data_dir: Path, database_url: str | None, master_key_file: Path | None, anchors: tuple[str, ...]) -> None:
    """Detect any altered, removed or reordered audit record; exits 1 naming the first broken record."""
    from sqlalchemy import inspect

    from openssm.services.audit_query import iter_chain, read_head
    from openssm.store.db import Database, create_db_engine, sqlite_url
    from openssm.store.secrets import SecretBox

    expected = [_anchor(text) for text in anchors]
    key_path = master_key_file or data_dir / "master.key"
    if not key_path.exists():
        raise click.ClickException(f"no master key at {key_path}")
    key = SecretBox(key_path.read_bytes()).derive_key(CHAIN_KEY_LABEL)
    db = Database(create_db_engine(database_url or sqlite_url(data_dir.resolve())))
    try:
        if not inspect(db.engine).has_table("audit_head"):
            raise click.ClickException("the database predates the audit head; start `openssm server` once to "
                                       "migrate it, then verify")
        # The head first, then the records: anything a live server appends meanwhile is checked by its links.
        with db.read() as conn:
            head = read_head(conn)
            report = verify_chain(key, iter_chain(conn), head, expected)
    finally:
        db.dispose()
    if not report.ok:
        click.echo(f"audit trail BROKEN at record {report.broken_at}: {report.reason} "
                   f"({report.count} records verified before it)")
        sys.exit(1)
    # Kept elsewhere and given back as --anchor, it catches a trail cut back together with its head row.
    click.echo(f"audit trail ok: {report.count} records; anchor {report.count}:{report.last_hash}")


def _anchor(text: str) -> Anchor:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise click.BadParameter(f"{text!r} is not SEQ:HASH", param_hint="--anchor")
    return Anchor(int(seq), digest.lower(), f"the anchor {seq}:{digest[:12]}…")
