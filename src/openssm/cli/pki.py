"""`openssm pki`: lab certificates."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def pki() -> None:
    """Lab certificate authority for TLS."""


@pki.command("init")
@click.option("--dir", "directory", default=".openssm/pki", show_default=True, type=click.Path(path_type=Path))
@click.option("--hostname", "hostnames", multiple=True, help="Extra DNS name or IP for the server certificate.")
def init(directory: Path, hostnames: tuple[str, ...]) -> None:
    """Create a CA (kept if present) and a server certificate signed by it."""
    from openssm.pki import init_pki

    files = init_pki(directory, list(hostnames))
    click.echo(f"CA certificate:     {files.ca_cert}")
    click.echo(f"server certificate: {files.server_cert}")
    click.echo(f"server key:         {files.server_key}")
    click.echo(f"serve with: openssm server --tls-cert {files.server_cert} --tls-key {files.server_key}")
    click.echo(f"clients trust it with: export AWS_CA_BUNDLE={files.ca_cert}")
    click.echo(f"lab instance identity key: {files.identity_key} (declare instances with "
               f"`openssm imds declare --public-key {files.identity_key}.pub`, serve with "
               f"`openssm imds serve --key {files.identity_key}`)")
