"""`openssm agent`: register this node with a hybrid activation, then run it."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from openssm.agent.state import DEFAULT_STATE_DIR, StateDir


@click.group()
def agent() -> None:
    """The node agent: opens every connection itself, never listens."""


@agent.command("register")
@click.option("--code", required=True, help="Activation code (from CreateActivation).")
@click.option("--id", "activation_id", required=True, help="Activation ID.")
@click.option("--region", required=True)
@click.option("--endpoint", required=True, help="OpenSSM's URL, e.g. https://ssm.example.com:8443")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR, show_default=True)
@click.option("--ca-bundle", type=click.Path(exists=True), default=None, help="CA to trust for the endpoint.")
def register(code: str, activation_id: str, region: str, endpoint: str, state_dir: Path,
             ca_bundle: str | None) -> None:
    """Register with an activation (RSA key; RegisterManagedInstance) and keep the identity in the state dir."""
    from openssm.agent.client import CallFailed
    from openssm.agent.identity import register as do_register

    try:
        registration = do_register(StateDir(state_dir), endpoint, region, activation_id, code, ca_bundle)
    except CallFailed as err:
        raise click.ClickException(f"registration refused: {err}") from err
    click.echo(f"registered as {registration.instance_id}")


@agent.command("run")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR, show_default=True)
@click.option("--heartbeat-seconds", type=float, default=300.0, show_default=True)
def run(state_dir: Path, heartbeat_seconds: float) -> None:
    """Run in the foreground (a systemd unit runs this)."""
    from openssm.agent.main import Agent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = StateDir(state_dir)
    registration = state.registration()
    if registration is None:
        click.echo(f"not registered: no registration in {state_dir}; run `openssm agent register` first "
                   "(a deleted state directory loses the node's identity)", err=True)
        sys.exit(2)
    asyncio.run(Agent(registration, state, heartbeat_seconds).run())
