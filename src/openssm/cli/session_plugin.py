"""`session-manager-plugin`: the client end of a Session Manager data channel, with the argv contract of
AWS's plugin so that `aws ssm start-session` runs it (DESIGN §4):

    session-manager-plugin <StartSession response JSON | AWS_SSM_START_SESSION_RESPONSE> <region>
                           StartSession <profile> <StartSession request JSON> <ssm endpoint url>

The profile ("" for the default credentials), region and endpoint are what ResumeSession is called with when
the WebSocket drops. The session kinds live in cli/session_client/, the protocol rules in
protocol/data_channel_endpoint.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import MutableMapping
from typing import Any

from openssm.cli.session_client import VERSION, PluginSession, SessionStart, SsmResumer

ENV_RESPONSE = "AWS_SSM_START_SESSION_RESPONSE"

__all__ = ["ENV_RESPONSE", "VERSION", "SessionStart", "main", "parse_argv", "run"]


def parse_argv(argv: list[str], environ: MutableMapping[str, str]) -> SessionStart:
    """The StartSession response (inline JSON, or the name of the variable holding it, which AWS's plugin then
    removes from its environment), the request, and where to resume."""
    if len(argv) < 5 or argv[2] != "StartSession":
        raise SystemExit("usage: session-manager-plugin <response> <region> StartSession <profile> <request> [url]")
    if argv[0].startswith(ENV_RESPONSE):
        raw = environ.pop(argv[0], "")
    else:
        raw = argv[0]
    response: dict[str, Any] = json.loads(raw)
    request: dict[str, Any] = json.loads(argv[4])
    if "Target" not in request:
        raise SystemExit("the StartSession request must hold a Target")
    return SessionStart(response["SessionId"], response["TokenValue"], response["StreamUrl"], request["Target"],
                        request.get("Parameters") or {}, argv[1], argv[3], argv[5] if len(argv) > 5 else None)


def run(start: SessionStart) -> int:
    """Run a session in this process on the real terminal; the plugin's exit status."""
    resumer = SsmResumer(start.region, start.profile, start.endpoint_url)

    async def session() -> int:
        return await PluginSession(start, resumer=resumer).run()

    try:
        return asyncio.run(session())
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n")
        return
    if args[0] in ("--version", "version"):
        print(VERSION)
        return
    sys.exit(run(parse_argv(args, os.environ)))
