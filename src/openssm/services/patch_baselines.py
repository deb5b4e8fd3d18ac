"""Patch baselines: CreatePatchBaseline, GetPatchBaseline, UpdatePatchBaseline, DeletePatchBaseline,
DescribePatchBaselines, the default baseline per operating system (RegisterDefaultPatchBaseline,
GetDefaultPatchBaseline), and the baseline that governs a node (`baseline_for_instance`, read by the patch
snapshot a node's AWS-RunPatchBaseline run downloads).

An account sees its own baselines (ids pb-…, or their ARN) and AWS's predefined ones (by ARN only, read-only;
patch_baselines_predefined.py). Patch groups live in patch_groups.py; the rules a baseline must obey in
patch_baseline_rules.py.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from openssm.errors import ValidationError
from openssm.services import patch_baseline_rules as rules
from openssm.services import patch_baselines_predefined as predefined
from openssm.services import patch_groups
from openssm.services.instances import InvalidInstanceId
from openssm.services.instances import get as get_instance
from openssm.services.parameter_model import InvalidResourceId, Scope
from openssm.services.patch_baseline_model import (
    MAX_BASELINES,
    BaselineIdentity,
    BaselineSpec,
    DoesNotExist,
    IdempotentParameterMismatch,
    InstanceBaseline,
    PatchBaseline,
    ResourceInUse,
    ResourceLimitExceeded,
    arn_of,
    baseline_arn,
)
from openssm.services.patch_platforms import DEFAULT_OS, OperatingSystem, platform_of
from openssm.services.resource_tags import ResourceTagStore, unknown_resource
from openssm.store.tables.patch_baselines import default_patch_baselines, patch_baselines

TAG_KIND = "PatchBaseline"
PATCH_GROUP_TAGS = ("Patch Group", "PatchGroup")  # AWS reads either tag key
_SHORT_ID = re.compile(r"^pb-[0-9a-f]{17}$")

__all__ = ["TAG_KIND", "BaselineTagTarget", "InstanceBaseline", "PatchBaseline", "baseline_for_instance",
           "canonical_id", "create", "delete", "describe", "find", "get", "get_default", "register_default", "update"]


def new_baseline_id() -> str:
    return "pb-0" + secrets.token_hex(8)


def canonical_id(account_id: str, region: str, raw: str) -> str:
    """A custom baseline's pb- id (given bare or as its ARN), or the ARN of one of AWS's baselines."""
    short = raw.rsplit("/", 1)[-1]
    if raw.startswith(baseline_arn(region, account_id, "")) and _SHORT_ID.match(short):
        return short
    return raw


def _not_found(baseline_id: str) -> DoesNotExist:
    return DoesNotExist(f"Patch Baseline {baseline_id} does not exist.")


def _custom_row(conn: Connection, account_id: str, region: str, baseline_id: str
                ) -> sa.Row[tuple[object, ...]] | None:
    c = patch_baselines.c
    return conn.execute(sa.select(patch_baselines).where(
        c.baseline_id == baseline_id, c.account_id == account_id, c.region == region)).first()


def _from_row(r: sa.Row[tuple[object, ...]], groups: Sequence[str] = ()) -> PatchBaseline:
    return PatchBaseline(str(r.baseline_id), str(r.account_id), str(r.region), BaselineSpec.from_json(str(r.spec)),
                         r.created_at, r.modified_at, patch_groups=tuple(groups))


def find(conn: Connection, account_id: str, region: str, raw_id: str) -> PatchBaseline:
    """A baseline the account can use, without its patch groups; raises DoesNotExistException."""
    baseline_id = canonical_id(account_id, region, raw_id)
    if not baseline_id.startswith("arn:") and not _SHORT_ID.match(baseline_id):
        raise InvalidResourceId(f"Invalid baseline id: {raw_id}. A patch baseline id is pb- followed by 17 "
                                "hexadecimal digits, or an ARN.")
    aws_owned = predefined.find(region, baseline_id)
    if aws_owned is not None:
        return aws_owned
    r = _custom_row(conn, account_id, region, baseline_id)
    if r is None:
        raise _not_found(raw_id)
    return _from_row(r)


def get(conn: Connection, account_id: str, region: str, raw_id: str) -> PatchBaseline:
    """GetPatchBaseline: the baseline with the patch groups registered to it."""
    baseline = find(conn, account_id, region, raw_id)
    return replace(baseline, patch_groups=tuple(
        patch_groups.groups_of(conn, account_id, region, baseline.baseline_id)))


def create(conn: Connection, account_id: str, region: str, spec: BaselineSpec, tags: Mapping[str, str],
           client_token: str | None, now: dt.datetime) -> str:
    """CreatePatchBaseline; a repeated ClientToken with the same settings answers the first baseline's id."""
    c = patch_baselines.c
    if client_token:
        earlier = conn.execute(sa.select(c.baseline_id, c.spec).where(
            c.account_id == account_id, c.region == region, c.client_token == client_token)).first()
        if earlier is not None:
            if earlier.spec != spec.to_json():
                raise IdempotentParameterMismatch("Error while creating patch baseline: the ClientToken was "
                                                  "already used with different parameters.")
            return str(earlier.baseline_id)
    rules.check(spec)
    if _count(conn, account_id, region) >= MAX_BASELINES:
        raise ResourceLimitExceeded(f"Maximum number of patch baselines ({MAX_BASELINES}) reached for this "
                                    "account and Region.")
    baseline_id = new_baseline_id()
    conn.execute(sa.insert(patch_baselines).values(
        baseline_id=baseline_id, account_id=account_id, region=region, name=spec.name,
        operating_system=spec.operating_system.value, spec=spec.to_json(), client_token=client_token,
        created_at=now, modified_at=now))
    ResourceTagStore().add(conn, account_id, region, TAG_KIND, baseline_id, tags)
    return baseline_id


def _count(conn: Connection, account_id: str, region: str) -> int:
    c = patch_baselines.c
    return int(conn.execute(sa.select(sa.func.count()).select_from(patch_baselines).where(
        c.account_id == account_id, c.region == region)).scalar_one())


def _own(conn: Connection, account_id: str, region: str, raw_id: str, verb: str) -> PatchBaseline:
    baseline = find(conn, account_id, region, raw_id)
    if baseline.predefined:
        raise ValidationError(f"Patch baseline {raw_id} is provided by AWS and can't be {verb}. Create a custom "
                              "patch baseline instead.")
    return baseline


def update(conn: Connection, account_id: str, region: str, raw_id: str, changes: Mapping[str, Any],
           replace_all: bool, now: dt.datetime) -> PatchBaseline:
    """UpdatePatchBaseline: `changes` (BaselineSpec fields) over the current settings, or with Replace over
    a baseline that keeps only its name and operating system."""
    current = _own(conn, account_id, region, raw_id, "updated")
    if replace_all and "name" not in changes:
        # AWS: with Replace, "all fields that are required by the CreatePatchBaseline operation are also
        # required for this API request".
        raise ValidationError("Name is required when Replace is true: a replacing update must carry every "
                              "member CreatePatchBaseline requires.")
    base = current.spec if not replace_all else BaselineSpec(
        name=current.spec.name, operating_system=current.spec.operating_system)
    spec = replace(base, **changes)
    rules.check(spec)
    conn.execute(sa.update(patch_baselines).where(patch_baselines.c.baseline_id == current.baseline_id).values(
        name=spec.name, spec=spec.to_json(), modified_at=now))
    return replace(current, spec=spec, modified_at=now)


def delete(conn: Connection, account_id: str, region: str, raw_id: str) -> str:
    """DeletePatchBaseline: refused while the baseline is a default or registered to a patch group. Deleting
    one that does not exist succeeds: AWS's DeletePatchBaseline declares no DoesNotExistException."""
    try:
        baseline = _own(conn, account_id, region, raw_id, "deleted")
    except DoesNotExist:
        return raw_id
    d = default_patch_baselines.c
    if conn.execute(sa.select(d.operating_system).where(
            d.account_id == account_id, d.region == region, d.baseline_id == baseline.baseline_id)).first():
        raise ResourceInUse("PatchBaseline to be deleted is the default patch baseline for OperatingSystem: "
                            f"{baseline.spec.operating_system.value}")
    groups = patch_groups.groups_of(conn, account_id, region, baseline.baseline_id)
    if groups:
        # AWS's words (as aws-nuke quotes them), naming the first group.
        raise ResourceInUse(f"PatchBaseline to be deleted is used for Patch Group: {groups[0]}")
    conn.execute(sa.delete(patch_baselines).where(patch_baselines.c.baseline_id == baseline.baseline_id))
    ResourceTagStore().drop(conn, account_id, region, TAG_KIND, baseline.baseline_id)
    return baseline.baseline_id


def _defaults(conn: Connection, account_id: str, region: str) -> dict[str, str]:
    d = default_patch_baselines.c
    return {str(r.operating_system): str(r.baseline_id) for r in conn.execute(sa.select(
        d.operating_system, d.baseline_id).where(d.account_id == account_id, d.region == region))}


def get_default(conn: Connection, account_id: str, region: str,
                os_name: OperatingSystem = DEFAULT_OS) -> PatchBaseline:
    """The account's default baseline for an operating system, else AWS's."""
    chosen = _defaults(conn, account_id, region).get(os_name.value)
    if chosen is not None:
        try:
            return find(conn, account_id, region, chosen)
        except DoesNotExist:
            pass
    return predefined.default_for(region, os_name)


def register_default(conn: Connection, account_id: str, region: str, raw_id: str) -> str:
    """RegisterDefaultPatchBaseline: the baseline becomes the default for its operating system."""
    baseline = find(conn, account_id, region, raw_id)
    os_name = baseline.spec.operating_system.value
    d = default_patch_baselines.c
    conn.execute(sa.delete(default_patch_baselines).where(
        d.account_id == account_id, d.region == region, d.operating_system == os_name))
    conn.execute(sa.insert(default_patch_baselines).values(
        account_id=account_id, region=region, operating_system=os_name, baseline_id=baseline.baseline_id))
    return baseline.baseline_id


def describe(conn: Connection, account_id: str, region: str,
             filters: Sequence[tuple[str, Sequence[str]]]) -> list[BaselineIdentity]:
    """DescribePatchBaselines: AWS's baselines then the account's, narrowed by NAME_PREFIX, OWNER
    (AWS | Self) and OPERATING_SYSTEM (every filter must match; any value of a filter may)."""
    c = patch_baselines.c
    own = [_from_row(r) for r in conn.execute(sa.select(patch_baselines).where(
        c.account_id == account_id, c.region == region).order_by(c.created_at, c.baseline_id))]
    chosen = _defaults(conn, account_id, region)
    out = []
    for b in [*predefined.all_in(region), *own]:
        os_name = b.spec.operating_system
        if os_name.value not in chosen:
            chosen[os_name.value] = predefined.default_for(region, os_name).baseline_id
        default = chosen[os_name.value] == b.baseline_id
        if rules.matches(filters, b):
            out.append(BaselineIdentity(b.baseline_id, b.spec.name, os_name, b.spec.description, default))
    return out


def baseline_for_group(conn: Connection, account_id: str, region: str, patch_group: str,
                       os_name: OperatingSystem) -> PatchBaseline:
    """GetPatchBaselineForPatchGroup: the group's baseline for the operating system, else the default one."""
    registered = patch_groups.baseline_id_for(conn, account_id, region, patch_group, os_name)
    if registered is not None:
        try:
            return find(conn, account_id, region, registered)
        except DoesNotExist:
            pass
    return get_default(conn, account_id, region, os_name)


def baseline_for_instance(conn: Connection, account_id: str, region: str, instance_id: str,
                          now: dt.datetime) -> InstanceBaseline:
    """The baseline that governs a node: the one registered for its patch group (tag "Patch Group" or
    "PatchGroup") and operating system, else the account's default for that system, else AWS's.
    Raises InvalidInstanceId for an unknown node, UnsupportedOperatingSystem for an unknown platform."""
    node = get_instance(conn, account_id, region, instance_id, now)
    if node is None:
        raise InvalidInstanceId(f"Instance Id {instance_id} is not registered.")
    os_name, product = platform_of(node.platform_type, node.platform_name, node.platform_version)
    tags = ResourceTagStore().of(conn, account_id, region, "ManagedInstance", instance_id)
    group = next((tags[k] for k in PATCH_GROUP_TAGS if tags.get(k)), "")
    baseline = (baseline_for_group(conn, account_id, region, group, os_name) if group
                else get_default(conn, account_id, region, os_name))
    return InstanceBaseline(baseline, group, os_name.value, product)


class BaselineTagTarget:
    """Makes custom patch baselines taggable (AddTagsToResource with ResourceType PatchBaseline, by id)."""

    def tag_resource_id(self, conn: Connection, scope: Scope, resource_id: str) -> str:
        baseline_id = canonical_id(scope.account_id, scope.region, resource_id)
        if _custom_row(conn, scope.account_id, scope.region, baseline_id) is None:
            raise unknown_resource()
        return baseline_id

    def tag_resource_arn(self, scope: Scope, resource_id: str) -> str:
        return arn_of(scope.region, scope.account_id, canonical_id(scope.account_id, scope.region, resource_id))
