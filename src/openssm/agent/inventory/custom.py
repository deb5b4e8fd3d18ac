"""Custom inventory: the `*.json` files of the node's custom-inventory folder (AWS: /var/lib/amazon/ssm/<instance
id>/inventory/custom; OpenSSM: <state dir>/inventory/custom, unless the step names another), each
`{"SchemaVersion": "1.0", "TypeName": "Custom:…", "Content": {…} or [{…}, …]}`, checked as AWS's agent checks
them (gatherers/custom/customGatherer.go). A bad file is left out and named in the step's output; more than 20
files fail the step. Stricter than AWS's agent in one case: a list holding one bad row rejects the file (AWS's
keeps the good rows when the last row is good)."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openssm.agent.inventory.model import Entry, GathererError, Item, capture_time, go_string, json_member

FILE_SUFFIX = ".json"
TYPE_NAME_PREFIX = "Custom:"
COUNT_LIMIT, TYPE_NAME_LIMIT = 20, 100
ATTRIBUTE_COUNT_LIMIT, ATTRIBUTE_NAME_LIMIT, ATTRIBUTE_VALUE_LIMIT = 50, 64, 4096
_SCHEMA_VERSION = re.compile(r"[0-9]{1,6}\.[0-9]{1,6}")


class BadCustomFile(ValueError):
    """A custom inventory file AWS's agent would skip, and why (its words)."""


@dataclass(frozen=True)
class CustomInventory:
    items: tuple[Item, ...]
    problems: tuple[str, ...]  # one line per file left out


def _type_name(raw: dict[str, Any]) -> str:
    name = json_member(raw, "TypeName") or ""
    if not isinstance(name, str):
        raise BadCustomFile("TypeName must be a string")
    if not name:
        raise BadCustomFile("Custom inventory item has missed or empty TypeName")
    if len(name.encode()) > TYPE_NAME_LIMIT:
        raise BadCustomFile(f"Custom inventory item TypeName ({name})'s length {len(name.encode())} exceeded the "
                            f"limit: {TYPE_NAME_LIMIT}")
    if not name.startswith(TYPE_NAME_PREFIX):
        raise BadCustomFile(f"Custom inventory item's TypeName ({name}) has to start with {TYPE_NAME_PREFIX}")
    return name


def _schema_version(raw: dict[str, Any], type_name: str) -> str:
    version = json_member(raw, "SchemaVersion") or ""
    if not isinstance(version, str):
        raise BadCustomFile("SchemaVersion must be a string")
    if not version:
        raise BadCustomFile("Custom inventory item has missed SchemaVersion")
    if not _SCHEMA_VERSION.fullmatch(version):
        raise BadCustomFile(f"Custom inventory item ({type_name}) has invalid SchemaVersion ({version}), the valid "
                            "schema version has to be like 1.0, 1.1, 2.0, 3.9, etc.")
    return version


def _row(attributes: dict[str, Any]) -> Entry:
    if len(attributes) > ATTRIBUTE_COUNT_LIMIT:
        raise BadCustomFile(f"One of custom inventory item's content has {len(attributes)} attributes, exceed the "
                            f"limit {ATTRIBUTE_COUNT_LIMIT}")
    for name, value in attributes.items():
        if not name:
            raise BadCustomFile("Custom inventory contains empty attribute name, which is illegal")
        if len(name.encode()) > ATTRIBUTE_NAME_LIMIT:
            raise BadCustomFile(f"Custom inventory attribute name ({name}) length: {len(name.encode())}, exceeded "
                                f"the limit: {ATTRIBUTE_NAME_LIMIT}")
        if not isinstance(value, str):
            raise BadCustomFile(f"Custom inventory attribute ({name})'s value ({value!r}) is not supported. Only "
                                "string type is supported, suggest to use empty string for Nil or Null value.")
        if len(value.encode()) > ATTRIBUTE_VALUE_LIMIT:
            raise BadCustomFile(f"Custom inventory attribute ({name})'s value length ({len(value.encode())}) "
                                f"exceeded the limit ({ATTRIBUTE_VALUE_LIMIT}). Please either reduce the length or "
                                "split the attribute into multiple attributes.")
    return {go_string(name): go_string(value) for name, value in attributes.items()}


def _content(raw: dict[str, Any], type_name: str) -> tuple[Entry, ...]:
    content = json_member(raw, "Content")
    if content is None:
        raise BadCustomFile("Custom inventory item missed Content property.")
    if isinstance(content, dict):
        return (_row(content),)
    if isinstance(content, list):
        if not all(isinstance(row, dict) for row in content):
            raise BadCustomFile("Custom inventory entry is not valid")
        return tuple(_row(row) for row in content)
    raise BadCustomFile(f"Custom inventory item {type_name}'s Content is not a valid json")


def read_item(path: Path, now: dt.datetime) -> Item:
    """One file's item; BadCustomFile when AWS's agent would skip it."""
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError) as err:
        raise BadCustomFile(str(err)) from err
    if not isinstance(raw, dict):
        raise BadCustomFile("not a JSON object")
    type_name = _type_name(raw)
    version = _schema_version(raw, type_name)
    return Item(type_name, version, capture_time(now), _content(raw, type_name), sorted_keys=True)


def custom_inventory(folder: Path, now: dt.datetime) -> CustomInventory:
    """Every good file's item, a type named twice kept from its first file (by file name)."""
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix == FILE_SUFFIX or p.name == FILE_SUFFIX)
    except OSError:
        return CustomInventory((), ())  # no folder: no custom inventory
    if len(paths) > COUNT_LIMIT:
        raise GathererError(f"Total custom inventory file count ({len(paths)}) exceed limit ({COUNT_LIMIT})")
    items: dict[str, Item] = {}
    problems = []
    for path in paths:
        try:
            found = read_item(path, now)
        except BadCustomFile as err:
            problems.append(f"Failed to get item from file {path}, error {err}. continue...")
            continue
        if found.type_name in items:
            problems.append(f"Custom inventory typeName ({found.type_name}) from file ({path}) already exists, "
                            "i.e., other file under the same folder contains the same typeName, please remove "
                            "duplicate custom inventory file.")
            continue
        items[found.type_name] = found
    return CustomInventory(tuple(items.values()), tuple(problems))
