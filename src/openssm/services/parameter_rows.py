"""Parameter Store's storage: one row per parameter (its newest version's attributes and expiry), one per
version, one per label. Every read leaves out a parameter whose Expiration has passed.

The single-parameter reads are prebuilt statements, each one indexed query run without SQLAlchemy's
per-execution bookkeeping (store/compiled.py): GetParameter is the hot path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from openssm.services.parameter_model import DataType, ParameterType, ParameterVersion, Scope, Tier
from openssm.store.compiled import CompiledSelect
from openssm.store.tables.parameters import parameter_labels, parameter_versions, parameters

_h, _v, _l = parameters, parameter_versions, parameter_labels
_JOIN = _v.join(_h, and_(_h.c.account_id == _v.c.account_id, _h.c.region == _v.c.region, _h.c.name == _v.c.name))
_LIVE = or_(_h.c.expires_at.is_(None), _h.c.expires_at > bindparam("now"))
_ONE = (_h.c.account_id == bindparam("account"), _h.c.region == bindparam("region"), _h.c.name == bindparam("name"))
_LATEST = CompiledSelect(select(*_v.c).select_from(_JOIN).where(*_ONE, _v.c.version == _h.c.version, _LIVE))
_VERSION = CompiledSelect(select(*_v.c).select_from(_JOIN).where(*_ONE, _v.c.version == bindparam("version"), _LIVE))
_LABELLED = CompiledSelect(select(*_v.c).select_from(_JOIN.join(_l, and_(
    _l.c.account_id == _v.c.account_id, _l.c.region == _v.c.region, _l.c.name == _v.c.name,
    _l.c.version == _v.c.version))).where(*_ONE, _l.c.label == bindparam("label"), _LIVE))
_HISTORY = select(*_v.c).select_from(_JOIN).where(*_ONE, _LIVE).order_by(_v.c.version)
_LABELS = select(_l.c.label, _l.c.version).where(
    _l.c.account_id == bindparam("account"), _l.c.region == bindparam("region"), _l.c.name == bindparam("name"))


def _args(scope: Scope, name: str, **extra: Any) -> dict[str, Any]:
    return {"account": scope.account_id, "region": scope.region, "name": name, "now": scope.now, **extra}


def _version(r: Any, labels: tuple[str, ...] = ()) -> ParameterVersion:
    return ParameterVersion(r.name, r.version, ParameterType(r.type), r.value, r.key_id, r.description,
                            r.allowed_pattern, Tier(r.tier), DataType(r.data_type), r.policies, r.last_modified,
                            r.last_modified_user, labels)


def _where(table: Any, scope: Scope, name: str) -> tuple[Any, ...]:
    return table.c.account_id == scope.account_id, table.c.region == scope.region, table.c.name == name


# -- reads -------------------------------------------------------------------------------------------
def latest(conn: Connection, scope: Scope, name: str) -> ParameterVersion | None:
    """The newest version (without its labels)."""
    row = _LATEST.first(conn, _args(scope, name))
    return None if row is None else _version(row)


def version(conn: Connection, scope: Scope, name: str, number: int) -> ParameterVersion | None:
    row = _VERSION.first(conn, _args(scope, name, version=number))
    return None if row is None else _version(row)


def labelled(conn: Connection, scope: Scope, name: str, label: str) -> ParameterVersion | None:
    row = _LABELLED.first(conn, _args(scope, name, label=label))
    return None if row is None else _version(row)


def labels_of(conn: Connection, scope: Scope, name: str) -> dict[str, int]:
    """Each label of the parameter and the version it names."""
    return {r.label: r.version for r in conn.execute(_LABELS, _args(scope, name))}


def history(conn: Connection, scope: Scope, name: str) -> list[ParameterVersion]:
    """Every kept version, oldest first, each with its labels."""
    by_version: dict[int, list[str]] = {}
    for label, number in sorted(labels_of(conn, scope, name).items()):
        by_version.setdefault(number, []).append(label)
    return [_version(r, tuple(by_version.get(r.version, ()))) for r in conn.execute(_HISTORY, _args(scope, name))]


def newest_versions(conn: Connection, scope: Scope, prefix: str | None = None,
                    after: str | None = None) -> list[ParameterVersion]:
    """The newest version of every live parameter, by name; only names starting with `prefix` when given,
    and only names after `after` (a page's last) when given."""
    query = select(*_v.c).select_from(_JOIN).where(
        _h.c.account_id == scope.account_id, _h.c.region == scope.region, _v.c.version == _h.c.version,
        or_(_h.c.expires_at.is_(None), _h.c.expires_at > scope.now))
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(_h.c.name.like(escaped + "%", escape="\\"))
    if after is not None:
        query = query.where(_h.c.name > after)
    return [_version(r) for r in conn.execute(query.order_by(_h.c.name))]


def labels_by_name(conn: Connection, scope: Scope, names: Sequence[str]) -> dict[str, dict[str, int]]:
    """Labels of many parameters in one query: name -> label -> version."""
    out: dict[str, dict[str, int]] = {}
    if names:
        rows = conn.execute(select(_l.c.name, _l.c.label, _l.c.version).where(
            _l.c.account_id == scope.account_id, _l.c.region == scope.region, _l.c.name.in_(list(names))))
        for r in rows:
            out.setdefault(r.name, {})[r.label] = r.version
    return out


def row_exists(conn: Connection, scope: Scope, name: str) -> bool:
    """Whether `name` has a row, live or expired (an expired one is purged before the name is reused)."""
    return conn.execute(select(_h.c.version).where(*_where(_h, scope, name))).first() is not None


# -- writes ------------------------------------------------------------------------------------------
def write(conn: Connection, scope: Scope, new: ParameterVersion, expires_at: dt.datetime | None,
          is_new: bool) -> None:
    """Store a new version and make it the parameter's newest."""
    attrs = dict(type=new.type.value, tier=new.tier.value, data_type=new.data_type.value, key_id=new.key_id,
                 description=new.description, allowed_pattern=new.allowed_pattern, policies=new.policies,
                 last_modified=new.last_modified, last_modified_user=new.last_modified_user)
    if is_new:
        conn.execute(insert(_h).values(account_id=scope.account_id, region=scope.region, name=new.name,
                                       version=new.version, expires_at=expires_at, **attrs))
    else:
        conn.execute(update(_h).where(*_where(_h, scope, new.name)).values(version=new.version,
                                                                          expires_at=expires_at, **attrs))
    conn.execute(insert(_v).values(account_id=scope.account_id, region=scope.region, name=new.name,
                                   version=new.version, value=new.value, **attrs))


def oldest_version(conn: Connection, scope: Scope, name: str) -> tuple[int, int]:
    """(number of kept versions, the oldest version number)."""
    count, oldest = conn.execute(select(func.count(), func.min(_v.c.version)).where(*_where(_v, scope, name))).one()
    return int(count), int(oldest or 0)


def drop_version(conn: Connection, scope: Scope, name: str, number: int) -> None:
    conn.execute(delete(_v).where(*_where(_v, scope, name), _v.c.version == number))


def remove(conn: Connection, scope: Scope, name: str) -> bool:
    """Delete a parameter with its versions and labels; False when there was none."""
    conn.execute(delete(_l).where(*_where(_l, scope, name)))
    conn.execute(delete(_v).where(*_where(_v, scope, name)))
    return bool(conn.execute(delete(_h).where(*_where(_h, scope, name))).rowcount)


def set_label(conn: Connection, scope: Scope, name: str, label: str, number: int) -> None:
    """Attach `label` to version `number`, moving it off any other version."""
    conn.execute(delete(_l).where(*_where(_l, scope, name), _l.c.label == label))
    conn.execute(insert(_l).values(account_id=scope.account_id, region=scope.region, name=name, label=label,
                                   version=number))


def remove_labels(conn: Connection, scope: Scope, name: str, number: int, labels: Iterable[str]) -> None:
    conn.execute(delete(_l).where(*_where(_l, scope, name), _l.c.version == number, _l.c.label.in_(list(labels))))


def expired(conn: Connection, now: dt.datetime) -> list[tuple[str, str, str]]:
    """(account, region, name) of every parameter whose Expiration has passed."""
    rows = conn.execute(select(_h.c.account_id, _h.c.region, _h.c.name).where(_h.c.expires_at <= now))
    return [(r.account_id, r.region, r.name) for r in rows]
