"""`python -m openssm.agent run`: the agent's long-running process, started without the `openssm` command's
other imports (the server's, click's) so that an idle agent stays within its memory budget (about 30 MB).
`openssm agent run` replaces itself with this process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from openssm.agent.client import CallFailed
from openssm.agent.state import DEFAULT_STATE_DIR, StateDir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openssm agent")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the agent in the foreground")
    run.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    run.add_argument("--heartbeat-seconds", type=float, default=300.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = StateDir(args.state_dir)
    if state.registration() is None:
        print(f"not registered: no registration in {args.state_dir}; run `openssm agent register` first "
              "(a deleted state directory loses the node's identity)", file=sys.stderr)
        return 2
    from openssm.agent.main import Agent

    try:
        asyncio.run(Agent(state, args.heartbeat_seconds).run())
    except CallFailed as err:
        print(f"the service refused this node: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
