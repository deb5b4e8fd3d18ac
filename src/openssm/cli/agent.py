"""`openssm agent`: register this node with a hybrid activation, run the agent (a hybrid node, or an EC2 instance
through its instance profile or Default Host Management), install it as a service."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import click

from openssm.agent.state import DEFAULT_STATE_DIR, StateDir

UNIT_NAME = "openssm-agent.service"


@click.group()
def agent() -> None:
    """The node agent: opens every connection itself, never listens."""


@agent.command("register")
@click.option("--code", required=True, help="Activation code (from CreateActivation).")
@click.option("--id", "activation_id", required=True, help="Activation ID.")
@click.option("--region", required=True)
@click.option("--endpoint", required=True, help="OpenSSM's URL, e.g. https://ssm.example.com:8443")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR, show_default=True)
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False), default=None,
              help="PEM file of the CA to trust for the endpoint (a lab CA from `openssm pki`).")
def register(code: str, activation_id: str, region: str, endpoint: str, state_dir: Path,
             ca_bundle: str | None) -> None:
    """Register with an activation (new RSA key; RegisterManagedInstance, RequestManagedInstanceRoleToken) and
    keep the identity in the state directory."""
    from openssm.agent.client import CallFailed
    from openssm.agent.identity import register as do_register

    state = StateDir(state_dir)
    if state.registration() is not None:
        raise click.ClickException(f"{state_dir} already holds a registration; remove it to register again")
    bundle = str(Path(ca_bundle).resolve()) if ca_bundle else None
    try:
        registration, _ = do_register(state, endpoint, region, activation_id, code, bundle)
    except CallFailed as err:
        raise click.ClickException(f"registration refused: {err}") from err
    click.echo(f"registered as {registration.instance_id}")


def _lean_command(state_dir: Path, **options: str | float | None) -> list[str]:
    """`python -m openssm.agent run` with the options given (`imds_url` becomes --imds-url, and so on)."""
    command = [sys.executable, "-m", "openssm.agent", "run", "--state-dir", str(state_dir)]
    for name, value in options.items():
        if value is not None:
            command += ["--" + name.replace("_", "-"), str(value)]
    return command


def _ec2_options(command: Callable[..., None]) -> Callable[..., None]:
    """The EC2 path's options (for an instance without a hybrid registration), passed on to the agent."""
    options = [
        click.option("--imds-url", default=None, help="Instance metadata URL (IMDSv2 only; env OPENSSM_IMDS_URL)."),
        click.option("--endpoint", default=None, help="OpenSSM's URL for an EC2 instance not yet registered "
                                                      "(env OPENSSM_ENDPOINT)."),
        click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False, resolve_path=True), default=None,
                     help="PEM file of the CA to trust for --endpoint."),
        click.option("--identity-retry-seconds", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="How often an EC2 instance asks again for credentials it was refused [300]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@agent.command("run")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR, show_default=True)
@click.option("--heartbeat-seconds", type=float, default=300.0, show_default=True)
@click.option("--package-root", type=click.Path(file_okay=False, resolve_path=True), default=None,
              help="The system root aws:runPatchBaseline patches [/] (env OPENSSM_PACKAGE_ROOT).")
@click.option("--reboot-command", default=None,
              help="How RebootIfNeeded reboots the node [shutdown -r now] (env OPENSSM_REBOOT_COMMAND).")
@_ec2_options
def run(state_dir: Path, heartbeat_seconds: float, **options: str | float | None) -> None:
    """Run in the foreground (the systemd unit runs this)."""
    # Become a fresh interpreter that loads only the agent: this process has loaded every `openssm` command.
    # exec keeps the process id, so systemd and supervisors see no difference.
    command = _lean_command(state_dir, heartbeat_seconds=heartbeat_seconds, **options)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


@agent.command("install-service")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE_DIR, show_default=True)
@click.option("--unit-dir", type=click.Path(path_type=Path), default=Path("/etc/systemd/system"), show_default=True)
@click.option("--enable/--no-enable", default=False, help="Also run systemctl daemon-reload and enable --now.")
@_ec2_options
def install_service(state_dir: Path, unit_dir: Path, enable: bool, **ec2: str | float | None) -> None:
    """Write the systemd unit for this installation (ExecStart names this Python and state directory)."""
    template = resources.files("openssm.agent").joinpath(UNIT_NAME).read_text()
    exec_start = " ".join(_lean_command(state_dir.resolve(), **ec2))
    lines = [f"ExecStart={exec_start}" if line.startswith("ExecStart=") else line for line in template.splitlines()]
    unit_dir.mkdir(parents=True, exist_ok=True)
    target = unit_dir / UNIT_NAME
    target.write_text("\n".join(lines) + "\n")
    click.echo(f"wrote {target}")
    if enable:
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        subprocess.run(["systemctl", "enable", "--now", UNIT_NAME], check=True)
    else:
        click.echo(f"start it with: systemctl daemon-reload && systemctl enable --now {UNIT_NAME}")
