"""The few SQL expressions inventory's queries need that SQLite and PostgreSQL spell differently: an entry's
attribute read from its JSON, a set of node ids passed as one parameter, and a prefix as an index range."""

from __future__ import annotations

import json
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement


def attribute_value(column: ColumnElement[object], name: str, dialect: str) -> ColumnElement[str]:
    """The text of attribute `name` of the JSON object in `column` (NULL when the entry lacks it)."""
    if dialect == "postgresql":
        text: ColumnElement[str] = sa.cast(column, postgresql.JSON)[name].astext
        return text
    if '"' not in name:
        return sa.func.json_extract(column, f'$."{name}"', type_=sa.String)
    # SQLite's JSON paths cannot quote a double quote; look the key up instead (slower, and rare).
    pairs = sa.func.json_each(column).table_valued("key", "value")
    return sa.select(sa.type_coerce(pairs.c.value, sa.String)).where(pairs.c.key == name).scalar_subquery()


def among(column: ColumnElement[str], ids: Collection[str], dialect: str, *, negate: bool = False
          ) -> ColumnElement[bool]:
    """`column` IN ids, with the ids bound as one parameter (an array, or a JSON list SQLite unpacks), so a fleet
    of any size fits in one statement."""
    if dialect == "postgresql":
        matched = column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.String)))
    else:
        listed = sa.select(sa.literal_column("value", sa.String)).select_from(
            sa.func.json_each(sa.literal(json.dumps(list(ids)))))
        matched = column.in_(listed)
    return sa.not_(matched) if negate else matched


def prefix_range(column: ColumnElement[str], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range an index serves (keys compare by code point on both engines)."""
    following = _following(prefix)
    low = column >= prefix
    return low if following is None else sa.and_(low, column < following)


def _following(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with `prefix` (None: there is none)."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            return prefix[:-1] + chr(last + 1 if last + 1 not in range(0xD800, 0xE000) else 0xE000)
        prefix = prefix[:-1]
    return None
