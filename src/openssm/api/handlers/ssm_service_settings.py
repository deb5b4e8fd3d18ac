"""SSM service settings over JSON 1.1: GetServiceSetting, UpdateServiceSetting, ResetServiceSetting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from openssm.api.context import RequestContext
from openssm.api.handlers.ssm_common import SSM_PRINCIPAL, facts
from openssm.api.operations import Operation, Params, ResourceRef
from openssm.errors import AwsError, ValidationError
from openssm.iam import tags
from openssm.iam.entities import EntityKind
from openssm.iam.service_roles import find_role, trusts_service
from openssm.services import default_host_management as dhmc
from openssm.services import service_settings as settings
from openssm.services.service_settings import ServiceSetting, SettingScope


def _scope(ctx: RequestContext) -> SettingScope:
    return SettingScope(ctx.account_id, ctx.region)


def _setting(ctx: RequestContext, p: Params) -> Sequence[ResourceRef]:
    try:
        path = settings.setting_path(p["SettingId"], _scope(ctx))
    except AwsError:
        return [ResourceRef("*")]  # refused by the handler, after authorization
    return [ResourceRef(settings.setting_arn(_scope(ctx), path))]


def _out(setting: ServiceSetting) -> dict[str, Any]:
    return {"ServiceSetting": {
        "SettingId": setting.setting_id, "SettingValue": setting.value, "LastModifiedDate": setting.last_modified,
        "LastModifiedUser": setting.last_modified_user, "ARN": setting.arn, "Status": setting.status.value}}


def get_service_setting(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.read() as conn:
        return _out(settings.get(conn, _scope(ctx), p["SettingId"]))


def update_service_setting(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        def check_role(value: str) -> None:
            """As AWS: the caller may pass the role to SSM, the role exists, and it trusts SSM."""
            role_arn = f"arn:aws:iam::{ctx.account_id}:role/{value.strip('/')}"
            role = find_role(conn, ctx.account_id, value.strip("/"))
            role_tags = tags.tags_of(conn, ctx.account_id, EntityKind.ROLE.value, role.name) if role else {}
            ctx.container.authorizer.authorize_pass_role(facts(ctx), role.arn if role else role_arn, SSM_PRINCIPAL,
                                                         role_tags)
            if role is None:
                raise ValidationError(f"The role {role_arn} does not exist. Specify the name of an IAM role in "
                                      f"account {ctx.account_id}, with its path if it has one.")
            if not trusts_service(role, SSM_PRINCIPAL):
                raise ValidationError(f"The role {role.arn} cannot be assumed by {SSM_PRINCIPAL}. Add "
                                      f"{SSM_PRINCIPAL} as a trusted service principal in its trust policy.")

        before = settings.default_instance_role(conn, _scope(ctx))
        settings.update(conn, _scope(ctx), p["SettingId"], p["SettingValue"], ctx.caller.arn, ctx.now, check_role)
        cut = _cut_off_if_changed(ctx, conn, before)
    if cut:
        ctx.container.credentials.invalidate()  # after the commit, so no cache can take the old rows back
    return {}


def reset_service_setting(ctx: RequestContext, p: Params) -> dict[str, Any]:
    with ctx.container.db.begin() as conn:
        before = settings.default_instance_role(conn, _scope(ctx))
        answer = _out(settings.reset(conn, _scope(ctx), p["SettingId"]))
        cut = _cut_off_if_changed(ctx, conn, before)
    if cut:
        ctx.container.credentials.invalidate()
    return answer


def _cut_off_if_changed(ctx: RequestContext, conn: Connection, before: str | None) -> bool:
    """Nodes managed with a default role that is no longer the default lose their credentials at once."""
    if before is None or settings.default_instance_role(conn, _scope(ctx)) == before:
        return False
    return bool(dhmc.cut_off(conn, ctx.account_id, ctx.region, before, ctx.now))


OPERATIONS = [
    Operation("ssm", "GetServiceSetting", get_service_setting, resources=_setting, read_only=True),
    Operation("ssm", "UpdateServiceSetting", update_service_setting, resources=_setting),
    Operation("ssm", "ResetServiceSetting", reset_service_setting, resources=_setting),
]
