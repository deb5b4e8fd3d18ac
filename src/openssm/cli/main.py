"""The `openssm` command."""

from __future__ import annotations

import click

from openssm.cli.agent import agent
from openssm.cli.audit import audit
from openssm.cli.imds import imds
from openssm.cli.pki import pki
from openssm.cli.run_command import command, send_command
from openssm.cli.server import server
from openssm.cli.session import session
from openssm.cli.start_session import start_session


@click.group()
@click.version_option(package_name="openssm")
def cli() -> None:
    """OpenSSM: self-hosted fleet management that speaks AWS Systems Manager's protocols."""


cli.add_command(server)
cli.add_command(pki)
cli.add_command(audit)
cli.add_command(agent)
cli.add_command(imds)
cli.add_command(send_command)
cli.add_command(command)
cli.add_command(start_session)
cli.add_command(session)


def main() -> None:
    cli()
