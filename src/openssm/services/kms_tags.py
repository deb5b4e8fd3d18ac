"""Tags on KMS keys: KMS's rules for them (TagException) and their storage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select

from openssm.services.kms_model import TagError
from openssm.store.tables.kms import kms_key_tags

MAX_TAGS = 50

# Built once: authorization may read a key's tags on every call.
_TAGS_OF = select(kms_key_tags.c.tag_key, kms_key_tags.c.tag_value).where(
    kms_key_tags.c.key_id == bindparam("key_id")).order_by(kms_key_tags.c.tag_key)


def tag_map(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Validate tags given as (key, value) pairs, as KMS does before anything is stored."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) < len(keys):
        raise TagError("Duplicate tag keys")
    if len(pairs) > MAX_TAGS:
        raise TagError("Too many tags")
    if any(k.lower().startswith("aws:") for k in keys):
        raise TagError("Tags beginning with aws: are reserved")
    return dict(pairs)


def tags_of(conn: Connection, key_id: str) -> dict[str, str]:
    return {r.tag_key: r.tag_value for r in conn.execute(_TAGS_OF, {"key_id": key_id})}


def add_tags(conn: Connection, key_id: str, tags: Mapping[str, str]) -> None:
    """Add or replace tags; the total stays within KMS's limit of 50."""
    merged = {**tags_of(conn, key_id), **tags}
    if len(merged) > MAX_TAGS:
        raise TagError("Too many tags")
    if not tags:
        return
    conn.execute(delete(kms_key_tags).where(kms_key_tags.c.key_id == key_id,
                                            kms_key_tags.c.tag_key.in_(list(tags))))
    conn.execute(insert(kms_key_tags), [{"key_id": key_id, "tag_key": k, "tag_value": v} for k, v in tags.items()])


def remove_tags(conn: Connection, key_id: str, tag_keys: Iterable[str]) -> None:
    keys = list(tag_keys)
    if any(k.lower().startswith("aws:") for k in keys):
        raise TagError("Tags beginning with aws: are reserved")
    conn.execute(delete(kms_key_tags).where(kms_key_tags.c.key_id == key_id, kms_key_tags.c.tag_key.in_(keys)))
