"""Parameter Store: putting, reading, versioning and deleting parameters.

SecureString values are encrypted by KMS with the parameter's ARN as encryption context; only the
ciphertext is stored. `kms_check` lets the caller's permissions on the key be checked (as AWS does
for customer managed keys) without this service knowing about HTTP or IAM.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, bindparam, delete, func, insert, select, update

from openssm.errors import ValidationError
from openssm.services.kms import Key, KmsService
from openssm.services.parameter_model import (
    MAX_VERSIONS,
    InvalidKeyId,
    ParameterAlreadyExists,
    ParameterLimitExceeded,
    ParameterNotFound,
    ParameterType,
    ParameterVersion,
    ParameterVersionNotFound,
    Tier,
    check_pattern,
    expires_at,
    parameter_arn,
    parse_policies,
    split_selector,
    strip_arn,
    validate_name,
    validate_value,
)
from openssm.services.resource_tags import ResourceTags
from openssm.store.db import Database
from openssm.store.tables.parameters import parameter_versions, parameters

KmsCheck = Callable[[str, Key], None]


def no_kms_check(_action: str, _key: Key) -> None:
    return None


@dataclass(frozen=True)
class Scope:
    """Whose parameters: an account in a region, and who is acting (for LastModifiedUser)."""

    account_id: str
    region: str
    user_arn: str
    now: dt.datetime


@dataclass(frozen=True)
class PutRequest:
    name: str
    value: str
    type: ParameterType | None
    overwrite: bool = False
    description: str | None = None
    key_id: str | None = None
    allowed_pattern: str | None = None
    tags: dict[str, str] | None = None
    tier: Tier | None = None
    policies: str | None = None
    data_type: str | None = None


@dataclass(frozen=True)
class Resolved:
    """A version as a reader sees it, with the selector that chose it."""

    version: ParameterVersion
    value: str
    selector: str | None
    arn: str


def _from_row(r: object) -> ParameterVersion:
    m = r._mapping  # type: ignore[attr-defined]
    labels = tuple(x for x in (m["labels"] or "").split("\n") if x)
    return ParameterVersion(m["name"], m["version"], ParameterType(m["type"]), m["value"], m["key_id"],
                            m["description"], m["allowed_pattern"], Tier(m["tier"]), m["data_type"], m["policies"],
                            labels, m["last_modified"], m["last_modified_user"])


def _where(scope: Scope, name: str, table: Table = parameters) -> tuple[ColumnElement[bool], ...]:
    c = table.c
    return c.account_id == scope.account_id, c.region == scope.region, c.name == name


# Built once: constructing a statement costs more than running it (GetParameter is the hot path).
_HISTORY = select(parameter_versions).where(
    parameter_versions.c.account_id == bindparam("account"), parameter_versions.c.region == bindparam("region"),
    parameter_versions.c.name == bindparam("name")).order_by(parameter_versions.c.version)


class ParameterService:
    def __init__(self, db: Database, kms: KmsService) -> None:
        self.db = db
        self.kms = kms
        self.tags = ResourceTags()

    # -- reading ------------------------------------------------------------------------------------
    def history(self, conn: Connection, scope: Scope, name: str) -> list[ParameterVersion]:
        """Every stored version, oldest first; an expired parameter has none."""
        rows = conn.execute(_HISTORY, {"account": scope.account_id, "region": scope.region, "name": name})
        versions = [_from_row(r) for r in rows]
        if versions:
            expiry = expires_at(versions[-1].policies)
            if expiry is not None and expiry <= scope.now:
                return []
        return versions

    def latest(self, conn: Connection, scope: Scope, name: str) -> ParameterVersion | None:
        versions = self.history(conn, scope, name)
        return versions[-1] if versions else None

    def resolve(self, conn: Connection, scope: Scope, raw_name: str, decrypt: bool,
                kms_check: KmsCheck = no_kms_check) -> Resolved:
        name, selector = split_selector(raw_name)
        versions = self.history(conn, scope, name)
        if not versions:
            raise ParameterNotFound(f"Parameter {name} not found.")
        chosen = versions[-1]
        if selector is not None:
            matches = [v for v in versions if (selector.isdigit() and v.version == int(selector))
                       or selector in v.labels]
            if not matches:
                raise ParameterVersionNotFound(f"Systems Manager could not find version {selector} of {name}. "
                                               "Verify the version and try again.")
            chosen = matches[0]
        return Resolved(chosen, self.reveal(conn, scope, chosen, decrypt, kms_check),
                        f":{selector}" if selector else None, parameter_arn(scope.region, scope.account_id, name))

    def reveal(self, conn: Connection, scope: Scope, version: ParameterVersion, decrypt: bool,
               kms_check: KmsCheck) -> str:
        if version.type is not ParameterType.SECURE_STRING or not decrypt:
            return version.value
        key = self.kms.resolve(conn, scope.account_id, scope.region, version.key_id or "alias/aws/ssm", scope.now)
        kms_check("kms:Decrypt", key)
        context = {"PARAMETER_ARN": parameter_arn(scope.region, scope.account_id, version.name)}
        return self.kms.decrypt(conn, key, base64.b64decode(version.value), context).decode()

    def names(self, conn: Connection, scope: Scope) -> list[str]:
        rows = conn.execute(select(parameters.c.name).where(parameters.c.account_id == scope.account_id,
                                                            parameters.c.region == scope.region)
                            .order_by(parameters.c.name))
        return [r[0] for r in rows]

    # -- writing ------------------------------------------------------------------------------------
    def put(self, conn: Connection, scope: Scope, req: PutRequest,
            kms_check: KmsCheck = no_kms_check) -> ParameterVersion:
        name = strip_arn(req.name)
        validate_name(name)
        current = self.latest(conn, scope, name)
        self._purge_if_expired(conn, scope, name, current)
        if current is not None and not req.overwrite:
            raise ParameterAlreadyExists("The parameter already exists. To overwrite this value, set the overwrite "
                                         "option in the request to true.")
        if req.tags and req.overwrite:
            raise ValidationError("Invalid request: tags and overwrite can't be used together. To create a parameter "
                                  "with tags, please remove overwrite flag. To update tags for an existing parameter, "
                                  "please use AddTagsToResource or RemoveTagsFromResource.")
        kind = req.type or (current.type if current else None)
        if kind is None:
            raise ValidationError("A parameter type is required when you create a parameter.")
        if req.key_id and kind is not ParameterType.SECURE_STRING:
            raise ValidationError("KeyId is required for SecureString type parameter only.")
        tier = self._tier(req, current)
        data_type = req.data_type or (current.data_type if current else "text")
        validate_value(req.value, tier, data_type)
        pattern = req.allowed_pattern if req.allowed_pattern is not None else (current.allowed_pattern if current
                                                                                else None)
        check_pattern(pattern, req.value)
        policies = req.policies if req.policies is not None else None
        parse_policies(policies)
        stored, key_id = self._stored_value(conn, scope, name, kind, req, current, kms_check)
        version = ParameterVersion(
            name, (current.version + 1) if current else 1, kind, stored, key_id,
            req.description if req.description is not None else (current.description if current else None),
            pattern, tier, data_type, policies, (), scope.now, scope.user_arn)
        self._write(conn, scope, version, is_new=current is None)
        if req.tags:
            self.tags.add(conn, scope.account_id, scope.region, "Parameter", name, req.tags)
        return version

    def _tier(self, req: PutRequest, current: ParameterVersion | None) -> Tier:
        if current is not None and current.tier is Tier.ADVANCED and req.tier is Tier.STANDARD:
            raise ValidationError(
                "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the "
                "advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced "
                "parameter and recreate it as a standard parameter.")
        wanted = req.tier or Tier.STANDARD
        if wanted is Tier.INTELLIGENT:
            needs_advanced = len(req.value) > 4096 or bool(req.policies) or (
                current is not None and current.tier is Tier.ADVANCED)
            return Tier.ADVANCED if needs_advanced else Tier.STANDARD
        if req.policies and wanted is Tier.STANDARD:
            raise ValidationError("Parameter policies are supported only for advanced-tier parameters. Specify "
                                  "the Advanced or Intelligent-Tiering tier.")
        if current is not None and current.tier is Tier.ADVANCED and req.tier is None:
            return Tier.ADVANCED
        return wanted

    def _stored_value(self, conn: Connection, scope: Scope, name: str, kind: ParameterType, req: PutRequest,
                      current: ParameterVersion | None, kms_check: KmsCheck) -> tuple[str, str | None]:
        if kind is not ParameterType.SECURE_STRING:
            return req.value, None
        ref = req.key_id or (current.key_id if current and current.key_id else "alias/aws/ssm")
        try:
            key = self.kms.resolve(conn, scope.account_id, scope.region, ref, scope.now)
        except Exception as err:
            raise InvalidKeyId(f"Invalid keyId {ref}") from err
        kms_check("kms:Encrypt", key)
        context = {"PARAMETER_ARN": parameter_arn(scope.region, scope.account_id, name)}
        blob = self.kms.encrypt(conn, key, req.value.encode(), context)
        return base64.b64encode(blob).decode(), (ref if ref.startswith("alias/") else key.arn)

    def _write(self, conn: Connection, scope: Scope, version: ParameterVersion, is_new: bool) -> None:
        head = dict(type=version.type.value, version=version.version, tier=version.tier.value,
                    data_type=version.data_type, key_id=version.key_id, description=version.description,
                    allowed_pattern=version.allowed_pattern, policies=version.policies,
                    last_modified=version.last_modified, last_modified_user=version.last_modified_user)
        if is_new:
            conn.execute(insert(parameters).values(account_id=scope.account_id, region=scope.region,
                                                   name=version.name, **head))
        else:
            conn.execute(update(parameters).where(*_where(scope, version.name)).values(**head))
            self._make_room(conn, scope, version.name)
        conn.execute(insert(parameter_versions).values(
            account_id=scope.account_id, region=scope.region, name=version.name, version=version.version,
            value=version.value, labels="", **{k: v for k, v in head.items() if k != "version"}))

    def _make_room(self, conn: Connection, scope: Scope, name: str) -> None:
        """Keep at most 100 versions: the oldest goes, unless it carries a label."""
        versions = self.history(conn, scope, name)
        if len(versions) < MAX_VERSIONS:
            return
        oldest = versions[0]
        if oldest.labels:
            raise ParameterLimitExceeded(
                f"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite "
                f"flag. Version {oldest.version}, the oldest version, can't be deleted because it has a label "
                "associated with it. Move the label to another version of the parameter, and try again.")
        conn.execute(delete(parameter_versions).where(*_where(scope, name, parameter_versions),
                                                      parameter_versions.c.version == oldest.version))

    def _purge_if_expired(self, conn: Connection, scope: Scope, name: str, current: ParameterVersion | None) -> None:
        if current is None and conn.execute(select(func.count()).select_from(parameters).where(
                *_where(scope, name))).scalar_one():
            self._remove(conn, scope, name)

    def _remove(self, conn: Connection, scope: Scope, name: str) -> None:
        conn.execute(delete(parameter_versions).where(*_where(scope, name, parameter_versions)))
        conn.execute(delete(parameters).where(*_where(scope, name)))
        self.tags.drop(conn, scope.account_id, scope.region, "Parameter", name)

    def delete(self, conn: Connection, scope: Scope, raw_name: str) -> None:
        name = strip_arn(raw_name)
        if self.latest(conn, scope, name) is None:
            raise ParameterNotFound(f"Parameter {name} not found.")
        self._remove(conn, scope, name)

    def set_labels(self, conn: Connection, scope: Scope, name: str, version: int, labels: tuple[str, ...]) -> None:
        conn.execute(update(parameter_versions).where(*_where(scope, name, parameter_versions),
                                                      parameter_versions.c.version == version)
                     .values(labels="\n".join(labels)))

