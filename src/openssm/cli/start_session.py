"""`openssm start-session`: StartSession with the caller's AWS credentials, endpoint and region (as every
openssm client command), then the session itself in this process with the plugin's code, so neither the aws
CLI nor a separate session-manager-plugin is needed. Exits with the session's status."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from openssm.cli.run_command import Api, _api_options
from openssm.cli.session_client import SessionStart
from openssm.cli.session_plugin import run


def _split_top_level(text: str) -> list[str]:
    """Comma-separated pieces, keeping the commas inside [ ] (as the aws CLI's shorthand does)."""
    pieces, depth, current = [], 0, ""
    for char in text:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "," and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    return [*pieces, current]


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("[") and raw.endswith("]"):
        return [v.strip().strip("\"'") for v in _split_top_level(raw[1:-1]) if v.strip()]
    return [raw.strip("\"'")]


def parse_parameters(texts: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """StartSession's Parameters from JSON (`{"portNumber": ["80"]}`) or the aws CLI's shorthand
    (`portNumber=80,localPortNumber=8080`, `commands=[uptime,df -h]`); repeated options are merged."""
    parameters: dict[str, list[str]] = {}
    for text in texts:
        if text.lstrip().startswith("{"):
            value: Any = json.loads(text)
            if not isinstance(value, dict):
                raise click.BadParameter("must be a JSON object of name to list of values", param_hint="--parameters")
            for key, item in value.items():
                parameters[str(key)] = [str(v) for v in item] if isinstance(item, list) else [str(item)]
            continue
        key = None
        for piece in _split_top_level(text):
            if "=" in piece:
                key, _, raw = piece.partition("=")
                key = key.strip()
                parameters[key] = _values(raw)
            elif key is not None and piece.strip():  # `commands=uptime,df`: a value continuing the last key
                parameters[key] += _values(piece)
            elif piece.strip():
                raise click.BadParameter(f"{piece!r} is not name=value", param_hint="--parameters")
    return parameters


@click.command("start-session")
@click.option("--target", required=True, help="The managed node (mi-… or i-…).")
@click.option("--document-name", default=None, help="A Session document (default: a shell).")
@click.option("--parameters", "parameters", multiple=True,
              help='JSON ({"portNumber":["80"]}) or name=value,… as the aws CLI takes them; repeatable.')
@click.option("--reason", default=None, help="Why the session is started (kept with it).")
@_api_options
def start_session(target: str, document_name: str | None, parameters: tuple[str, ...], reason: str | None,
                  endpoint_url: str, region: str | None, profile: str | None) -> None:
    """Start a Session Manager session and run it here (shell, commands, SSH stream or port forwarding)."""
    api = Api(endpoint_url, region, profile)
    request: dict[str, Any] = {"Target": target}
    optional = {"DocumentName": document_name, "Parameters": parse_parameters(parameters) or None,
                "Reason": reason}
    request.update({k: v for k, v in optional.items() if v is not None})
    try:
        answer = api.ssm.start_session(**request)
    except ClientError as err:
        error = err.response.get("Error", {})
        raise click.ClickException(f"An error occurred ({error.get('Code')}) when calling the StartSession "
                                   f"operation: {error.get('Message')}") from err
    except BotoCoreError as err:
        raise click.ClickException(str(err)) from err
    start = SessionStart(answer["SessionId"], answer["TokenValue"], answer["StreamUrl"], target,
                         request.get("Parameters", {}), api.region, profile or "", api.endpoint)
    sys.exit(run(start))
