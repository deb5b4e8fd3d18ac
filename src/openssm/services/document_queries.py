"""ListDocuments' filters: the newer Filters (key and values: Owner, Name, PlatformTypes, DocumentType,
TargetType, SchemaVersion, SearchKeyword, tag:<key>, TagKeys) and the older DocumentFilterList (key and one
value)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openssm.errors import ValidationError
from openssm.services.documents import DocumentVersion
from openssm.services.documents_builtin import AMAZON

OWNERS = ("Self", "Amazon", "Private", "Public", "ThirdParty", "All")
_KEYS = ("Owner", "Name", "PlatformTypes", "DocumentType", "TargetType", "SchemaVersion", "SearchKeyword", "TagKeys")
_OLD_KEYS = {"Name": "Name", "Owner": "Owner", "PlatformTypes": "PlatformTypes", "DocumentType": "DocumentType"}

TagsOf = Callable[[DocumentVersion], Mapping[str, str]]


@dataclass(frozen=True)
class DocumentFilter:
    key: str
    values: tuple[str, ...]


def _values(f: Mapping[str, object]) -> list[object]:
    values = f.get("Values")
    return list(values) if isinstance(values, list) else []


def from_request(filters: Sequence[Mapping[str, object]], old_filters: Sequence[Mapping[str, object]]
                 ) -> list[DocumentFilter]:
    """Either form, checked: an unknown key or an empty value list is refused as AWS refuses it."""
    if filters and old_filters:
        raise ValidationError("Specify either Filters or DocumentFilterList, not both.")
    parsed = [DocumentFilter(_OLD_KEYS.get(str(f.get("key")), str(f.get("key"))), (str(f.get("value")),))
              for f in old_filters]
    parsed += [DocumentFilter(str(f.get("Key")), tuple(str(v) for v in _values(f))) for f in filters]
    for f in parsed:
        if f.key not in _KEYS and not f.key.startswith("tag:"):
            raise ValidationError(f"The filter key {f.key} is not valid. Valid filter keys include: "
                                  f"[{', '.join((*_KEYS, 'tag:<key>'))}].")
        if not f.values:
            raise ValidationError(f"The filter {f.key} needs at least one value.")
        if f.key == "Owner" and not set(f.values) <= set(OWNERS):
            raise ValidationError(f"The owner filter value must be one of [{', '.join(OWNERS)}].")
    return parsed


def _owner_matches(document: DocumentVersion, owners: tuple[str, ...], account_id: str) -> bool:
    mine = document.owner == account_id
    amazon = document.owner == AMAZON
    wanted = {"All": True, "Self": mine, "Amazon": amazon, "Private": not amazon, "Public": amazon,
              "ThirdParty": False}
    return any(wanted[o] for o in owners)


def matches(document: DocumentVersion, f: DocumentFilter, account_id: str, tags_of: TagsOf) -> bool:
    if f.key == "Owner":
        return _owner_matches(document, f.values, account_id)
    if f.key == "Name":
        return any(document.name.startswith(v) for v in f.values)
    if f.key == "PlatformTypes":
        return bool(set(document.parsed.platform_types) & set(f.values))
    if f.key == "DocumentType":
        return document.document_type in f.values
    if f.key == "TargetType":
        return document.target_type in f.values
    if f.key == "SchemaVersion":
        return document.parsed.schema_version in f.values
    if f.key == "SearchKeyword":
        text = f"{document.name} {document.display_name} {document.parsed.description}".lower()
        return any(v.lower() in text for v in f.values)
    tags = tags_of(document)
    if f.key == "TagKeys":
        return bool(set(tags) & set(f.values))
    return tags.get(f.key[4:]) in f.values


def select(found: Sequence[DocumentVersion], filters: Sequence[DocumentFilter], account_id: str,
           tags_of: TagsOf) -> list[DocumentVersion]:
    """The documents every filter matches (values of one filter are alternatives)."""
    return [d for d in found if all(matches(d, f, account_id, tags_of) for f in filters)]
