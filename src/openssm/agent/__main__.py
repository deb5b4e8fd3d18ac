"""`python -m openssm.agent run`: the agent's long-running process, started without the `openssm` command's
other imports (the server's, click's) so that an idle agent stays within its memory budget (about 30 MB).
`openssm agent run` replaces itself with this process.

Exit status: 0 stopped; 1 the service refused this hybrid node; 2 no identity (neither a registration nor
instance metadata, or an EC2 instance without an endpoint); 3 this EC2 instance's registration was lost and it
has no usable instance profile."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from openssm.agent.client import CallFailed
from openssm.agent.ec2_credentials import DEFAULT_RETRY_SECONDS
from openssm.agent.ec2_identity import RegistrationLost
from openssm.agent.imds import DEFAULT_IMDS_URL
from openssm.agent.node_identity import Ec2Settings, NoIdentity, node_identity
from openssm.agent.state import DEFAULT_STATE_DIR, StateDir

EXIT_REFUSED, EXIT_NO_IDENTITY, EXIT_REGISTRATION_LOST = 1, 2, 3


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _existing_file(text: str) -> str:
    path = Path(text).resolve()
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return str(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openssm agent")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent in the foreground")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    run.add_argument("--heartbeat-seconds", type=float, default=300.0)
    patching = run.add_argument_group("patching (aws:runPatchBaseline)")
    # Unset options fall back to PatchSettings.from_environment (OPENSSM_PACKAGE_ROOT, OPENSSM_REBOOT_COMMAND).
    patching.add_argument("--package-root", type=Path, default=None,
                          help="the system root whose packages are patched (default /); env OPENSSM_PACKAGE_ROOT")
    patching.add_argument("--reboot-command", default=None,
                          help="how RebootIfNeeded reboots the node (default shutdown -r now); env "
                               "OPENSSM_REBOOT_COMMAND")
    ec2 = run.add_argument_group("EC2 instances without a hybrid registration")
    ec2.add_argument("--imds-url", default=os.environ.get("OPENSSM_IMDS_URL") or DEFAULT_IMDS_URL,
                     help="instance metadata service (IMDSv2 only); env OPENSSM_IMDS_URL")
    ec2.add_argument("--endpoint", default=os.environ.get("OPENSSM_ENDPOINT"),
                     help="OpenSSM's URL, until the instance is registered; env OPENSSM_ENDPOINT")
    ec2.add_argument("--ca-bundle", type=_existing_file, default=None,
                     help="PEM file of the CA to trust for --endpoint")
    ec2.add_argument("--identity-retry-seconds", type=_positive, default=DEFAULT_RETRY_SECONDS,
                     help="how often to try again for credentials the service does not issue yet")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = StateDir(args.state_dir)
    settings = Ec2Settings(args.imds_url, args.endpoint, args.ca_bundle, args.identity_retry_seconds)
    try:
        identity = node_identity(state, settings)
    except NoIdentity as err:
        print(err, file=sys.stderr)
        return EXIT_NO_IDENTITY
    from openssm.agent.main import Agent
    from openssm.agent.plugins.patch_baseline import PatchSettings

    patching = PatchSettings.from_environment()
    if args.package_root is not None:
        patching = replace(patching, package_root=args.package_root)
    if args.reboot_command is not None:
        patching = replace(patching, reboot_command=tuple(shlex.split(args.reboot_command)))
    try:
        asyncio.run(Agent(state, args.heartbeat_seconds, identity=identity, patching=patching).run())
    except RegistrationLost as err:
        print(f"Default Host Management is unusable: {err.message}", file=sys.stderr)
        return EXIT_REGISTRATION_LOST
    except CallFailed as err:
        print(f"the service refused this node: {err}", file=sys.stderr)
        return EXIT_REFUSED
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
