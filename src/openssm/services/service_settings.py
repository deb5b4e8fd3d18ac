"""SSM service settings (GetServiceSetting, UpdateServiceSetting, ResetServiceSetting), per account and
region: AWS's documented settings with their defaults and allowed values. The one that matters most is
Default Host Management Configuration's `/ssm/managed-instance/default-ec2-instance-management-role`, whose
value names the role every node without an instance profile is managed with (DESIGN §4, seed 000)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Connection

from openssm.errors import AwsError, ValidationError
from openssm.store.tables.service_settings import service_settings

DHMC_SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"
SYSTEM_USER = "System"
# When a setting that was never customized was "last modified": before any account could change it.
DEFAULT_SINCE = dt.datetime(2022, 11, 28, tzinfo=dt.UTC)
_ARN = re.compile(r"^arn:aws:ssm:([a-z0-9-]+):(\d{12}):servicesetting(/.+)$")


class ServiceSettingNotFound(AwsError):
    code = "ServiceSettingNotFound"


class SettingStatus(StrEnum):
    DEFAULT = "Default"
    CUSTOMIZED = "Customized"
    PENDING_UPDATE = "PendingUpdate"


@dataclass(frozen=True)
class SettingSpec:
    default: str
    allowed: tuple[str, ...] = ()  # empty: any value the validator accepts
    ignore_case: bool = False


# AWS's documented settings (botocore's UpdateServiceSetting documentation) and their defaults.
SETTINGS: dict[str, SettingSpec] = {
    "/ssm/appmanager/appmanager-enabled": SettingSpec("True", ("True", "False")),
    "/ssm/automation/customer-script-log-destination": SettingSpec("None", ("CloudWatch", "None")),
    "/ssm/automation/customer-script-log-group-name": SettingSpec("/aws/ssm/automation/executeScript"),
    "/ssm/automation/enable-adaptive-concurrency": SettingSpec("False", ("True", "False")),
    "/ssm/documents/console/public-sharing-permission": SettingSpec("Enable", ("Enable", "Disable")),
    "/ssm/managed-instance/activation-tier": SettingSpec("standard", ("standard", "advanced")),
    DHMC_SETTING: SettingSpec(""),
    "/ssm/opsinsights/opscenter": SettingSpec("Disabled", ("Enabled", "Disabled")),
    "/ssm/parameter-store/default-parameter-tier": SettingSpec(
        "Standard", ("Standard", "Advanced", "Intelligent-Tiering")),
    "/ssm/parameter-store/high-throughput-enabled": SettingSpec("false", ("true", "false"), ignore_case=True),
}


@dataclass(frozen=True)
class ServiceSetting:
    setting_id: str
    value: str
    last_modified: dt.datetime
    last_modified_user: str
    arn: str
    status: SettingStatus


@dataclass(frozen=True)
class SettingScope:
    account_id: str
    region: str


def setting_path(raw_id: str, scope: SettingScope) -> str:
    """The setting's path from either of AWS's spellings: `/ssm/…` or its full ARN (which must name the
    caller's own account and region)."""
    match = _ARN.match(raw_id)
    if match:
        region, account, path = match.groups()
        if (region, account) != (scope.region, scope.account_id):
            raise ValidationError(f"The service setting ARN {raw_id} does not belong to account "
                                  f"{scope.account_id} in {scope.region}.")
        raw_id = path
    if raw_id not in SETTINGS:
        raise ServiceSettingNotFound(f"The service setting {raw_id} does not exist. Either the service name or "
                                     "the setting has not been provisioned by the AWS service team.")
    return raw_id


def setting_arn(scope: SettingScope, path: str) -> str:
    return f"arn:aws:ssm:{scope.region}:{scope.account_id}:servicesetting{path}"


def get(conn: Connection, scope: SettingScope, raw_id: str) -> ServiceSetting:
    path = setting_path(raw_id, scope)
    row = conn.execute(sa.select(service_settings).where(*_key(scope, path))).first()
    arn = setting_arn(scope, path)
    if row is None:
        return ServiceSetting(path, SETTINGS[path].default, DEFAULT_SINCE, SYSTEM_USER, arn, SettingStatus.DEFAULT)
    return ServiceSetting(path, row.value, row.last_modified, row.last_modified_user, arn,
                          SettingStatus.CUSTOMIZED)


RoleCheck = Callable[[str], None]


def update(conn: Connection, scope: SettingScope, raw_id: str, value: str, user_arn: str, now: dt.datetime,
           check_role: RoleCheck) -> None:
    """Set a value; DHMC's is a role (`Name` or `path/Name`) that `check_role` must accept."""
    path = setting_path(raw_id, scope)
    spec = SETTINGS[path]
    if path == DHMC_SETTING:
        check_role(value)
    elif spec.allowed:
        value = _allowed_value(path, spec, value)
    values = {"value": value, "last_modified": now, "last_modified_user": user_arn}
    if conn.execute(sa.update(service_settings).where(*_key(scope, path)).values(values)).rowcount == 0:
        conn.execute(sa.insert(service_settings).values(account_id=scope.account_id, region=scope.region,
                                                     setting_id=path, **values))


def reset(conn: Connection, scope: SettingScope, raw_id: str) -> ServiceSetting:
    """Back to the default (in this account and region only); answers the setting as it now is."""
    path = setting_path(raw_id, scope)
    conn.execute(sa.delete(service_settings).where(*_key(scope, path)))
    return get(conn, scope, path)


def default_instance_role(conn: Connection, scope: SettingScope) -> str | None:
    """The role DHMC manages nodes with here, or None while it is not enabled."""
    value = get(conn, scope, DHMC_SETTING).value
    return value or None


def _allowed_value(path: str, spec: SettingSpec, value: str) -> str:
    for allowed in spec.allowed:
        if value == allowed or (spec.ignore_case and value.lower() == allowed.lower()):
            return allowed
    raise ValidationError(f"The value {value} is not valid for the service setting {path}. "
                          f"Valid values: {', '.join(spec.allowed)}.")


def _key(scope: SettingScope, path: str) -> tuple[ColumnElement[bool], ...]:
    return (service_settings.c.account_id == scope.account_id, service_settings.c.region == scope.region,
            service_settings.c.setting_id == path)
