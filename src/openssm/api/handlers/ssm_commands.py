"""Run Command over JSON 1.1: SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation,
CancelCommand."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import (
    check_ssm_service_role,
    document_ref,
    facts,
    key_access,
    scope,
    without_nones,
)
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import ValidationError
from openssm.iam.ports import AuthorizationTarget
from openssm.services import command_delivery, command_documents, commands, instances, output_export
from openssm.services.command_output import Stream
from openssm.services.commands import (
    Command,
    InvalidNotificationConfig,
    InvalidPluginName,
    InvalidRole,
    Invocation,
    InvocationDoesNotExist,
    NewCommand,
)
from openssm.services.instances import InvalidInstanceId, ManagedInstance
from openssm.services.parameter_names import canonical, parameter_arn

TRUNCATED = "--output truncated--"
STDOUT_LIMIT, STDERR_LIMIT, LIST_OUTPUT_LIMIT = 24_000, 8_000, 2_500
MAX_INSTANCE_IDS = 50


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z" if value else ""


def _targets(ctx: RequestContext, p: Params) -> list[tuple[ManagedInstance, Mapping[str, str]]]:
    """The targets, resolved once per request (authorization needs them before the handler does)."""
    if "targets" not in ctx.memo:
        ctx.memo["targets"] = _resolve_targets(ctx, p)
    return cast(list[tuple[ManagedInstance, Mapping[str, str]]], ctx.memo["targets"])


def _resolve_targets(ctx: RequestContext, p: Params) -> list[tuple[ManagedInstance, Mapping[str, str]]]:
    """The managed instances a SendCommand names (InstanceIds, or Targets by ids, tag:<key> or tag-key), each
    with its tags (which authorization needs too)."""
    ids, targets = p.get("InstanceIds") or [], p.get("Targets") or []
    if bool(ids) == bool(targets):
        raise ValidationError("Specify either InstanceIds or Targets, not both and not neither.")
    if len(ids) > MAX_INSTANCE_IDS:
        raise ValidationError(f"You can specify at most {MAX_INSTANCE_IDS} instance IDs; use Targets for more.")
    with ctx.container.db.read() as conn:
        fleet = instances.describe(conn, ctx.account_id, ctx.region, ctx.now)
        every = ctx.container.parameters.tags.of_kind(conn, ctx.account_id, ctx.region, "ManagedInstance")
    tagged = {i.instance_id: every.get(i.instance_id, {}) for i in fleet}
    by_id = {i.instance_id: i for i in fleet}
    if ids:
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise InvalidInstanceId(f"Instances [{missing}] not in a valid state for account {ctx.account_id}")
        return [(by_id[i], tagged[i]) for i in dict.fromkeys(ids)]
    chosen = list(fleet)
    for target in targets:
        key, values = target["Key"], set(target.get("Values") or ())
        if key == "InstanceIds":
            chosen = [i for i in chosen if i.instance_id in values]
        elif key == "tag-key":
            chosen = [i for i in chosen if values & set(tagged[i.instance_id])]
        elif key.startswith("tag:"):
            chosen = [i for i in chosen if tagged[i.instance_id].get(key[4:]) in values]
        else:
            raise ValidationError(f"Target key {key} is not supported; use InstanceIds, tag:<key> or tag-key.")
    return [(i, tagged[i.instance_id]) for i in chosen]


def _ssm_lookup(ctx: RequestContext, conn: Connection) -> command_documents.SsmLookup:
    """`{{ssm:name}}` in a parameter value: read with the caller's own ssm:GetParameters permission; a
    SecureString is refused, as Run Command does not decrypt into commands."""
    def lookup(name: str) -> str:
        stored = canonical(name)
        tags = ctx.container.parameters.tags.of(conn, ctx.account_id, ctx.region, "Parameter", stored)
        target = AuthorizationTarget(parameter_arn(ctx.region, ctx.account_id, stored), tags)
        ctx.container.authorizer.authorize(facts(ctx), "ssm:GetParameters", [target], {})
        return command_documents.ssm_reference_value(name, lambda: ctx.container.parameters.get(
            conn, scope(ctx), name, False, key_access(ctx, conn)))
    return lookup


def _send_resources(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    document = document_ref(ctx, p["DocumentName"])
    try:
        targets = _targets(ctx, p)
    except Exception:
        return [document]  # the handler refuses the targets, after authorization
    return [document, *(ResourceRef(i.arn, tags) for i, tags in targets)]


_ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
_TOPIC_ARN = re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


def _check_notifications(ctx: RequestContext, conn: Connection, p: Params) -> dict[str, Any]:
    """ServiceRoleArn (a role of the caller's account that SSM may assume, which the caller may pass) and
    NotificationConfig (an SNS topic, which needs the role); answers the configuration to keep."""
    role_arn, config = p.get("ServiceRoleArn") or "", dict(p.get("NotificationConfig") or {})
    if role_arn:
        match = _ROLE_ARN.match(role_arn)
        if match is None or match.group(1) != ctx.account_id:
            raise InvalidRole(f"The role {role_arn} is not a role of account {ctx.account_id}. Verify that you "
                              "specified an IAM role for notifications that includes the required trust policy.")
        try:
            check_ssm_service_role(ctx, conn, role_arn.split(":role/", 1)[1])
        except ValidationError as err:
            raise InvalidRole(err.message) from err
    topic = config.get("NotificationArn")
    if topic and not _TOPIC_ARN.match(topic):
        raise InvalidNotificationConfig(f"The notification ARN {topic} is not an Amazon SNS topic ARN.")
    if topic and not role_arn:
        raise InvalidNotificationConfig("A NotificationConfig with a NotificationArn needs a ServiceRoleArn that "
                                        "Systems Manager assumes to publish to the topic.")
    return config


def send_command(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        document = command_documents.prepare(conn, scope(ctx), p["DocumentName"], p.get("DocumentVersion"),
                                             p.get("Parameters") or {}, _ssm_lookup(ctx, conn))
        notifications = _check_notifications(ctx, conn, p)
    targets = [i for i, _ in _targets(ctx, p)]
    spec = NewCommand(document, [i.instance_id for i in targets], p.get("Targets") or [], p.get("Comment") or "",
                      p.get("TimeoutSeconds") or 3600, p.get("MaxConcurrency") or "50", p.get("MaxErrors") or "0",
                      p.get("OutputS3BucketName") or "", p.get("OutputS3KeyPrefix") or "",
                      p.get("ServiceRoleArn") or "", notifications)
    with ctx.container.db.begin() as conn:
        hub = ctx.container.command_hub
        connected = frozenset(i.instance_id for i in targets if hub.connected(i.instance_id))
        command_id, started, payload = commands.send_starting(conn, ctx.account_id, ctx.region, ctx.caller.arn, spec,
                                                     ctx.now, connected)
        command = commands.get_command(conn, ctx.account_id, ctx.region, command_id)
    # The nodes started here are handed the job itself; the others' channels (in another process, or
    # waiting on MaxConcurrency) find it in the store.
    for instance_id in started:
        ctx.container.command_hub.offer(instance_id, command_delivery.agent_job(command_id, instance_id, payload))
    for instance in targets:
        if instance.instance_id not in started:
            ctx.container.command_hub.notify(instance.instance_id)
    return {"Command": _command_out(command)}


def _parameters_out(parameters: Mapping[str, object]) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in parameters.items()}


def _command_out(c: Command) -> dict[str, Any]:
    return without_nones({
        "CommandId": c.command_id, "DocumentName": c.document_name, "DocumentVersion": c.document_version,
        "Comment": c.comment, "ExpiresAfter": c.expires_after, "Parameters": _parameters_out(c.parameters),
        "InstanceIds": c.instance_ids, "Targets": c.targets, "RequestedDateTime": c.requested_at,
        "Status": c.status, "StatusDetails": c.status_details, "OutputS3BucketName": c.output_bucket,
        "OutputS3KeyPrefix": c.output_prefix, "MaxConcurrency": c.max_concurrency, "MaxErrors": c.max_errors,
        "TargetCount": c.target_count, "CompletedCount": c.completed_count, "ErrorCount": c.error_count,
        "DeliveryTimedOutCount": c.delivery_timed_out_count, "ServiceRole": c.service_role,
        "TimeoutSeconds": c.timeout_seconds, "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False},
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": "",
                               **c.notification_config}})


def list_commands(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        if p.get("CommandId"):
            found = [commands.get_command(conn, ctx.account_id, ctx.region, p["CommandId"])]
        else:
            found = commands.list_commands(conn, ctx.account_id, ctx.region, p.get("InstanceId"))
    return {"Commands": [_command_out(c) for c in found[: p.get("MaxResults") or 50]]}


def _urls(ctx: RequestContext, c: Command, instance_id: str, step: str) -> dict[str, str]:
    """StandardOutputUrl and StandardErrorUrl: where the step's output is (or will be) in the command's
    bucket, when the server has a store to write it to; empty otherwise, as AWS leaves them without a bucket."""
    store = ctx.container.output_store
    plugin = next((p for p in c.plugins if p.name == step), None)
    if store is None or not c.output_bucket or plugin is None:
        return {"StandardOutputUrl": "", "StandardErrorUrl": ""}
    return {f"Standard{'Output' if stream is Stream.STDOUT else 'Error'}Url": store.url(
        c.output_bucket, output_export.output_key(c.output_prefix, c.command_id, instance_id, plugin, c.schema_1_2,
                                                  stream)) for stream in Stream}


def _invocation_out(ctx: RequestContext, c: Command, i: Invocation, details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "CommandId": c.command_id, "InstanceId": i.instance_id, "Comment": c.comment,
        "DocumentName": c.document_name, "DocumentVersion": c.document_version, "RequestedDateTime": i.requested_at,
        "Status": i.status, "StatusDetails": i.status_details, "TraceOutput": "",
        **_urls(ctx, c, i.instance_id, c.plugins[0].name if c.plugins else ""), "CommandPlugins": [],
        "ServiceRole": c.service_role,
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False}}
    if details:
        out["CommandPlugins"] = [without_nones({
            "Name": v.name, "Status": v.status, "StatusDetails": v.status_details, "ResponseCode": v.response_code,
            "ResponseStartDateTime": v.started_at, "ResponseFinishDateTime": v.ended_at,
            "Output": _cut(v.stdout + v.stderr, LIST_OUTPUT_LIMIT), **_urls(ctx, c, i.instance_id, v.name),
            "OutputS3BucketName": c.output_bucket, "OutputS3KeyPrefix": c.output_prefix,
            "OutputS3Region": ctx.region if c.output_bucket else None})
            for v in commands.plugin_views(c, i)]
    return out


def list_command_invocations(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        found = ([commands.get_command(conn, ctx.account_id, ctx.region, p["CommandId"])] if p.get("CommandId")
                 else commands.list_commands(conn, ctx.account_id, ctx.region, p.get("InstanceId")))
        pairs = [(c, i) for c in found for i in commands.invocations_of(conn, c.command_id, p.get("InstanceId"))]
    return {"CommandInvocations": [_invocation_out(ctx, c, i, bool(p.get("Details"))) for c, i in pairs]}


def get_command_invocation(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        command = commands.get_command(conn, ctx.account_id, ctx.region, p["CommandId"])
        found = commands.invocations_of(conn, command.command_id, p["InstanceId"])
    if not found:
        raise InvocationDoesNotExist()
    i = found[0]
    views = commands.plugin_views(command, i)
    wanted = p.get("PluginName")
    if wanted is None and len(views) > 1:
        raise InvalidPluginName("The document has more than one step; specify PluginName, the name of the step "
                                "whose results you want.")
    view = next((v for v in views if wanted in (None, v.name)), None)
    if view is None:
        raise InvalidPluginName("The plugin name isn't valid.")
    elapsed = (view.ended_at - view.started_at).total_seconds() if view.ended_at and view.started_at else None
    return without_nones({
        "CommandId": command.command_id, "InstanceId": i.instance_id, "Comment": command.comment,
        "DocumentName": command.document_name, "DocumentVersion": command.document_version,
        "PluginName": view.name, "ResponseCode": view.response_code,
        "ExecutionStartDateTime": _stamp(view.started_at),
        "ExecutionElapsedTime": f"PT{elapsed:.3f}S" if elapsed is not None else "",
        "ExecutionEndDateTime": _stamp(view.ended_at), "Status": view.status, "StatusDetails": view.status_details,
        "StandardOutputContent": _cut(view.stdout, STDOUT_LIMIT), "StandardErrorContent": _cut(view.stderr,
                                                                                               STDERR_LIMIT),
        **_urls(ctx, command, i.instance_id, view.name),
        "CloudWatchOutputConfig": {"CloudWatchOutputEnabled": False}})


def cancel_command(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        running = commands.cancel(conn, ctx.account_id, ctx.region, p["CommandId"], p.get("InstanceIds") or [],
                                  ctx.now)
    for instance_id in running:
        ctx.container.command_hub.notify(instance_id)
    return {}


OPERATIONS = [
    Operation("ssm", "SendCommand", send_command, resources=_send_resources),
    Operation("ssm", "ListCommands", list_commands, read_only=True),
    Operation("ssm", "ListCommandInvocations", list_command_invocations, read_only=True),
    Operation("ssm", "GetCommandInvocation", get_command_invocation, read_only=True),
    Operation("ssm", "CancelCommand", cancel_command),
]
