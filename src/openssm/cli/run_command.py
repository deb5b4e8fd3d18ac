"""`openssm send-command … --wait` (a live progress line per node) and `openssm command output <CommandId>
<InstanceId> --follow` (a step's full output as it is written). Both talk to the server like any AWS client:
botocore's credentials chain, region and SigV4; the CLI never imports server code."""

from __future__ import annotations

import codecs
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

import click
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.session import Session
from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

FINAL = {"Success", "Failed", "TimedOut", "Cancelled", "Undeliverable", "Terminated", "DeliveryTimedOut",
         "ExecutionTimedOut"}
_POLL_SECONDS = 0.5


class Api:
    """The server, reached with the caller's AWS credentials."""

    def __init__(self, endpoint: str, region: str | None, profile: str | None) -> None:
        self.session = Session(profile=profile)
        self.endpoint = endpoint.rstrip("/")
        self.region = region or self.session.get_config_variable("region") or "us-east-1"
        self.ssm: Any = self.session.create_client("ssm", endpoint_url=self.endpoint, region_name=self.region)

    def output(self, command_id: str, instance_id: str, plugin: str, stream: str, offset: int) -> tuple[bytes, int,
                                                                                                        str]:
        """A piece of a step's full output: (bytes, next offset, the invocation's status)."""
        query = urlencode({"offset": str(offset), "plugin": plugin, "stream": stream}, quote_via=quote)
        url = f"{self.endpoint}/openssm/v1/output/{quote(command_id)}/{quote(instance_id)}?{query}"
        request = AWSRequest("GET", url)
        credentials = self.session.get_credentials()
        if credentials is None:
            raise click.ClickException("no AWS credentials found (environment, profile or instance role)")
        SigV4Auth(credentials.get_frozen_credentials(), "ssm", self.region).add_auth(request)
        prepared = request.prepare()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=dict(prepared.headers))) as answer:
                return answer.read(), int(answer.headers["x-openssm-next-offset"]), answer.headers["x-openssm-status"]
        except urllib.error.HTTPError as err:
            detail = json.loads(err.read() or b"{}")
            raise click.ClickException(f"{detail.get('__type', err.code)}: {detail.get('message', err.reason)}") \
                from err


def _api_options(f: Any) -> Any:
    for option in (
        click.option("--endpoint-url", envvar="AWS_ENDPOINT_URL", required=True, help="The OpenSSM server."),
        click.option("--region", envvar="AWS_DEFAULT_REGION", default=None),
        click.option("--profile", envvar="AWS_PROFILE", default=None),
    ):
        f = option(f)
    return f


def _plugin_names(api: Api, command_id: str, instance_id: str) -> list[str]:
    found = api.ssm.list_command_invocations(CommandId=command_id, InstanceId=instance_id, Details=True)
    invocations = found["CommandInvocations"]
    if not invocations:
        raise click.ClickException(f"command {command_id} has no invocation on {instance_id}")
    return [p["Name"] for p in invocations[0]["CommandPlugins"]]


@click.group()
def command() -> None:
    """Run Command beyond AWS's API: full output, followed live."""


@command.command("output")
@click.argument("command_id")
@click.argument("instance_id")
@click.option("--plugin", default=None, help="The step (default: every step in turn).")
@click.option("--stream", type=click.Choice(["stdout", "stderr"]), default="stdout", show_default=True)
@click.option("--follow", is_flag=True, help="Keep printing as the node writes, until the invocation ends.")
@_api_options
def output(command_id: str, instance_id: str, plugin: str | None, stream: str, follow: bool, endpoint_url: str,
           region: str | None, profile: str | None) -> None:
    """Print a command's full, uncut output on one node."""
    api = Api(endpoint_url, region, profile)
    out = sys.stdout.buffer
    for name in [plugin] if plugin else _plugin_names(api, command_id, instance_id):
        decoder, offset = codecs.getincrementaldecoder("utf-8")("replace"), 0
        while True:
            data, offset, status = api.output(command_id, instance_id, name, stream, offset)
            out.write(decoder.decode(data).encode())
            out.flush()
            if data or not follow:
                if not follow:
                    break
                continue
            if status in FINAL:
                # Its last piece is uploaded before the final reply, so one more read ends it.
                data, offset, _ = api.output(command_id, instance_id, name, stream, offset)
                out.write(decoder.decode(data, final=True).encode())
                break
            time.sleep(_POLL_SECONDS)


def _parameters(raw: str | None, commands: tuple[str, ...]) -> dict[str, list[str]]:
    parameters: dict[str, Any] = json.loads(raw) if raw else {}
    if not isinstance(parameters, dict):
        raise click.BadParameter("must be a JSON object of name to list of values", param_hint="--parameters")
    if commands:
        parameters["commands"] = list(commands)
    return {k: v if isinstance(v, list) else [str(v)] for k, v in parameters.items()}


@click.command("send-command")
@click.option("--document-name", default="AWS-RunShellScript", show_default=True)
@click.option("--document-version", default=None)
@click.option("--instance-ids", "instance_ids", multiple=True, help="Repeat, or separate with commas.")
@click.option("--targets", default=None, help='JSON, as for aws ssm send-command: [{"Key":…,"Values":[…]}]')
@click.option("--parameters", default=None, help='JSON: {"name": ["value", …]}')
@click.option("--command", "commands", multiple=True, help="A shell command (the commands parameter); repeatable.")
@click.option("--comment", default=None)
@click.option("--max-concurrency", default=None)
@click.option("--max-errors", default=None)
@click.option("--timeout-seconds", type=int, default=None)
@click.option("--wait", is_flag=True, help="Show each node's progress until all have finished.")
@_api_options
def send_command(document_name: str, document_version: str | None, instance_ids: tuple[str, ...],
                 targets: str | None, parameters: str | None, commands: tuple[str, ...], comment: str | None,
                 max_concurrency: str | None, max_errors: str | None, timeout_seconds: int | None, wait: bool,
                 endpoint_url: str, region: str | None, profile: str | None) -> None:
    """SendCommand; with --wait, a live line per node and an exit status of 1 if any failed."""
    api = Api(endpoint_url, region, profile)
    request: dict[str, Any] = {"DocumentName": document_name, "Parameters": _parameters(parameters, commands)}
    ids = [i for raw in instance_ids for i in raw.split(",") if i]
    optional = {"DocumentVersion": document_version, "Comment": comment, "MaxConcurrency": max_concurrency,
                "MaxErrors": max_errors, "TimeoutSeconds": timeout_seconds, "InstanceIds": ids or None,
                "Targets": json.loads(targets) if targets else None}
    request.update({k: v for k, v in optional.items() if v is not None})
    sent = api.ssm.send_command(**request)["Command"]
    command_id = sent["CommandId"]
    if not wait:
        click.echo(json.dumps({"Command": sent}, indent=2, default=str))
        return
    click.echo(f"CommandId {command_id} on {sent['TargetCount']} node(s)", err=True)
    sys.exit(0 if _watch(api, command_id) else 1)


def _watch(api: Api, command_id: str) -> bool:
    """A bar per node until every invocation is final; True when all succeeded."""
    progress = Progress(TextColumn("{task.fields[node]}"), BarColumn(), TextColumn("{task.fields[status]}"),
                        TimeElapsedColumn(), console=Console(stderr=True))
    tasks: dict[str, TaskID] = {}
    with Live(progress, console=progress.console, refresh_per_second=8):
        while True:
            found = api.ssm.list_command_invocations(CommandId=command_id)["CommandInvocations"]
            for invocation in found:
                node, status = invocation["InstanceId"], invocation["StatusDetails"] or invocation["Status"]
                if node not in tasks:  # no total: a pulsing bar while the node works
                    tasks[node] = progress.add_task("", total=None, node=node, status=status)
                if invocation["Status"] in FINAL:
                    progress.update(tasks[node], status=status, total=1, completed=1)
                    progress.stop_task(tasks[node])
                else:
                    progress.update(tasks[node], status=status)
            command = api.ssm.list_commands(CommandId=command_id)["Commands"][0]
            if command["Status"] in FINAL and all(i["Status"] in FINAL for i in found):
                return all(i["Status"] == "Success" for i in found)
            time.sleep(_POLL_SECONDS)
