"""Parameter Store: putting, reading, versioning and deleting parameters, and finding them by path or filter.

Every method takes the caller's connection (one transaction per API call) and a `Scope`. Names may be
given as ARNs and, for reads, with a ':version' or ':label' selector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import parameter_labels
from openssm.services import parameter_rows as rows
from openssm.services.kms import KmsService
from openssm.services.parameter_model import (
    DEFAULT_KEY,
    MAX_VERSIONS,
    DataType,
    Parameter,
    ParameterAlreadyExists,
    ParameterMaxVersionLimitExceeded,
    ParameterNotFound,
    ParameterType,
    ParameterVersion,
    ParameterVersionNotFound,
    Scope,
    Tier,
)
from openssm.services.parameter_names import (
    canonical,
    parameter_arn,
    split_selector,
    strip_arn,
    validate_new_name,
    validate_read_name,
)
from openssm.services.parameter_policies import ParameterPolicy, expiry_of, parse_policies, stored_form
from openssm.services.parameter_queries import (
    Filter,
    Page,
    describe_parameters,
    page_of,
    parameters_by_path,
    token_after,
)
from openssm.services.parameter_values import (
    KeyAccess,
    SecureValues,
    any_access,
    check_pattern,
    check_value,
    data_type_of,
    resolve_tier,
)
from openssm.services.resource_tags import ResourceTagStore, unknown_resource
from openssm.store.db import Database

RESOURCE_TYPE = "Parameter"


@dataclass(frozen=True)
class PutRequest:
    name: str
    value: str
    type: ParameterType | None = None
    overwrite: bool = False
    description: str | None = None
    key_id: str | None = None
    allowed_pattern: str | None = None
    tags: Mapping[str, str] | None = None
    tier: Tier | None = None
    policies: str | None = None
    data_type: str | None = None


def _read_name(raw: str) -> tuple[str, str, str | None]:
    """(stored name, name as the caller wrote it, selector) of a name a reader gives."""
    given, selector = split_selector(raw)
    validate_read_name(given)
    return canonical(given), given, selector


class ParameterService:
    def __init__(self, db: Database, kms: KmsService) -> None:
        self.db = db
        self.kms = kms
        self.values = SecureValues(kms)
        self.tags = ResourceTagStore()

    # -- reading ------------------------------------------------------------------------------------
    def _chosen(self, conn: Connection, scope: Scope, name: str, given: str, selector: str | None
                ) -> ParameterVersion:
        if selector is None:
            found = rows.latest(conn, scope, name)
        elif selector.isdigit():
            found = rows.version(conn, scope, name, int(selector))
        else:
            found = rows.labelled(conn, scope, name, selector)
        if found is None:
            if selector is None or rows.latest(conn, scope, name) is None:
                raise ParameterNotFound()
            raise parameter_labels.version_not_found(given, selector)
        return found

    def get(self, conn: Connection, scope: Scope, raw_name: str, decrypt: bool,
            access: KeyAccess = any_access) -> Parameter:
        """One parameter's newest version, or the version or label its selector names."""
        name, given, selector = _read_name(raw_name)
        version = self._chosen(conn, scope, name, given, selector)
        shown = given if not raw_name.startswith("arn:") and canonical(given) == version.name else version.name
        value = self.values.reveal(conn, scope, version, decrypt, access)
        return Parameter(_renamed(version, shown), value, parameter_arn(scope.region, scope.account_id, name),
                         f":{selector}" if selector else None)

    def get_many(self, conn: Connection, scope: Scope, raw_names: Sequence[str], decrypt: bool,
                 access: KeyAccess = any_access) -> tuple[list[Parameter], list[str]]:
        """(found, names that name no parameter or version), each name once."""
        found: list[Parameter] = []
        invalid: list[str] = []
        for raw in dict.fromkeys(raw_names):
            try:
                found.append(self.get(conn, scope, raw, decrypt, access))
            except (ParameterNotFound, ParameterVersionNotFound):
                invalid.append(raw)
        return found, invalid

    def history(self, conn: Connection, scope: Scope, raw_name: str, decrypt: bool, access: KeyAccess,
                token: str | None, max_results: int) -> tuple[list[Parameter], str | None]:
        """Every kept version, oldest first, a page at a time."""
        name = canonical(strip_arn(raw_name))
        validate_read_name(name)
        versions = rows.history(conn, scope, name)
        if not versions:
            raise ParameterNotFound()
        page = page_of(versions, max_results, lambda v: f"{v.version:010d}", token_after(token))
        arn = parameter_arn(scope.region, scope.account_id, name)
        return [Parameter(v, self.values.reveal(conn, scope, v, decrypt, access), arn) for v in page.items], \
            page.next_token

    def by_path(self, conn: Connection, scope: Scope, path: str, recursive: bool, filters: Sequence[Filter],
                decrypt: bool, access: KeyAccess, token: str | None, max_results: int
                ) -> tuple[list[Parameter], str | None]:
        page = parameters_by_path(conn, scope, path, recursive, filters, token, max_results)
        return [Parameter(v, self.values.reveal(conn, scope, v, decrypt, access),
                          parameter_arn(scope.region, scope.account_id, v.name)) for v in page.items], page.next_token

    def describe(self, conn: Connection, scope: Scope, filters: Sequence[Filter], token: str | None,
                 max_results: int) -> Page:
        return describe_parameters(conn, scope, filters, token, max_results, self.tags)

    # -- tags ---------------------------------------------------------------------------------------
    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        name = canonical(strip_arn(resource_id))
        if rows.latest(conn, scope, name) is None:
            raise unknown_resource()
        return name

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return parameter_arn(scope.region, scope.account_id, canonical(strip_arn(resource_id)))

    def tags_of(self, conn: Connection, scope: Scope, raw_name: str) -> dict[str, str]:
        """A parameter's tags by any form of its name (for authorization: ssm:resourceTag/…)."""
        name = canonical(split_selector(raw_name)[0])
        return self.tags.of(conn, scope.account_id, scope.region, RESOURCE_TYPE, name)

    # -- writing ------------------------------------------------------------------------------------
    def put(self, conn: Connection, scope: Scope, req: PutRequest, access: KeyAccess = any_access) -> ParameterVersion:
        """Create a parameter, or with `overwrite` a new version of it; returns the version stored."""
        given = strip_arn(req.name)
        name = canonical(given)
        validate_new_name(given, scope.region, scope.account_id)
        if req.tags and req.overwrite:
            raise ValidationError("Invalid request: tags and overwrite can't be used together. To create a parameter "
                                  "with tags, please remove overwrite flag. To update tags for an existing parameter, "
                                  "please use AddTagsToResource or RemoveTagsFromResource.")
        requested_data_type = data_type_of(req.data_type)
        current = self._current(conn, scope, name)
        if current is not None and not req.overwrite:
            raise ParameterAlreadyExists()
        kind = req.type or (current.type if current else None)
        if kind is None:
            raise ValidationError("A parameter type is required when you create a parameter.")
        if req.key_id and kind is not ParameterType.SECURE_STRING:
            raise ValidationError("KeyId is required for SecureString type parameter only.")
        data_type = _data_type(requested_data_type, current)
        policies = parse_policies(req.policies) if req.policies is not None else _policies_of(current)
        tier = resolve_tier(req.tier, current.tier if current else None, req.value, bool(policies))
        check_value(req.value, tier, data_type, kind)
        pattern = req.allowed_pattern if req.allowed_pattern is not None else (current.allowed_pattern
                                                                                if current else None)
        check_pattern(pattern, req.value)
        key_id = (req.key_id or (current.key_id if current and current.key_id else DEFAULT_KEY)
                  if kind is ParameterType.SECURE_STRING else None)
        value = (self.values.seal(conn, scope, name, req.value, key_id, tier, access) if key_id else req.value)
        new = ParameterVersion(
            name, current.version + 1 if current else 1, kind, value, key_id,
            req.description if req.description is not None else (current.description if current else None),
            pattern, tier, data_type, stored_form(policies), scope.now, scope.user_arn)
        if current is not None:
            self._make_room(conn, scope, name, given)
        rows.write(conn, scope, new, expiry_of(policies), is_new=current is None)
        if req.tags:
            self.tags.add(conn, scope.account_id, scope.region, RESOURCE_TYPE, name, req.tags)
        return new

    def _current(self, conn: Connection, scope: Scope, name: str) -> ParameterVersion | None:
        """The newest live version; an expired parameter is deleted first, so its name is free again."""
        current = rows.latest(conn, scope, name)
        if current is None and rows.row_exists(conn, scope, name):
            self._remove(conn, scope, name)
        return current

    def _make_room(self, conn: Connection, scope: Scope, name: str, given: str) -> None:
        """Keep at most 100 versions: the oldest goes, unless a label holds it."""
        count, oldest = rows.oldest_version(conn, scope, name)
        if count < MAX_VERSIONS:
            return
        if oldest in rows.labels_of(conn, scope, name).values():
            raise ParameterMaxVersionLimitExceeded(
                f"You attempted to create a new version of {given} by calling the PutParameter API with the overwrite "
                f"flag. Version {oldest}, the oldest version, can't be deleted because it has a label associated "
                "with it. Move the label to another version of the parameter, and try again.")
        rows.drop_version(conn, scope, name, oldest)

    def _remove(self, conn: Connection, scope: Scope, name: str) -> bool:
        self.tags.drop(conn, scope.account_id, scope.region, RESOURCE_TYPE, name)
        return rows.remove(conn, scope, name)

    def delete(self, conn: Connection, scope: Scope, raw_name: str) -> None:
        name = canonical(strip_arn(raw_name))
        validate_read_name(name)
        live = rows.latest(conn, scope, name) is not None
        if not self._remove(conn, scope, name) or not live:
            raise ParameterNotFound()

    def delete_many(self, conn: Connection, scope: Scope, raw_names: Sequence[str]) -> tuple[list[str], list[str]]:
        """(deleted, names that named no parameter), each name once."""
        deleted: list[str] = []
        invalid: list[str] = []
        for raw in dict.fromkeys(raw_names):
            try:
                self.delete(conn, scope, raw)
                deleted.append(raw)
            except (ParameterNotFound, ValidationError):
                invalid.append(raw)
        return deleted, invalid

    def label(self, conn: Connection, scope: Scope, raw_name: str, version: int | None,
              labels: Sequence[str]) -> tuple[int, list[str]]:
        return parameter_labels.label_version(conn, scope, canonical(strip_arn(raw_name)), version, labels)

    def unlabel(self, conn: Connection, scope: Scope, raw_name: str, version: int,
                labels: Sequence[str]) -> tuple[list[str], list[str]]:
        return parameter_labels.unlabel_version(conn, scope, canonical(strip_arn(raw_name)), version, labels)

    def purge_expired(self, conn: Connection, scope: Scope) -> int:
        """Delete every parameter (of any account) whose Expiration has passed; returns how many."""
        gone = rows.expired(conn, scope.now)
        for account_id, region, name in gone:
            self._remove(conn, Scope(account_id, region, scope.user_arn, scope.now), name)
        return len(gone)


def _renamed(version: ParameterVersion, name: str) -> ParameterVersion:
    return version if version.name == name else replace(version, name=name)


def _data_type(requested: DataType | None, current: ParameterVersion | None) -> DataType:
    if current is None:
        return requested or DataType.TEXT
    if requested is not None and requested is not current.data_type:
        raise ValidationError(f"The data type of a parameter can't be changed: {current.name} is of data type "
                              f"{current.data_type.value}. Delete the parameter and create it again to change it.")
    return current.data_type


def _policies_of(current: ParameterVersion | None) -> list[ParameterPolicy]:
    # Policies stay with the parameter across updates until a request gives new ones.
    return parse_policies(current.policies) if current is not None else []
