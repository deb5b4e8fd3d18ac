"""Inventory types and items as AWS's agent builds them (agent/plugins/inventory/model/model.go): each type's
attributes in its Go struct's order, its capture time, and its content hash (datauploader/uploader.go)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Entry = dict[str, str]  # one row of an inventory type: attribute -> value, in the order AWS's agent marshals them
CAPTURE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Go's time.RFC3339 of a UTC time, which the service's regex requires
# Go's encoding/json escapes these where Python's json module writes them as they are.
_GO_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                             "\u2029": "\\u2029"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class GathererError(Exception):
    """A gatherer that cannot answer: AWS's agent then fails the whole step, never sending part of a policy's
    data (inventory.go RunGatherers)."""


@dataclass(frozen=True)
class InventoryType:
    name: str
    schema_version: str
    attributes: tuple[str, ...]
    optional: frozenset[str] = frozenset()  # left out when empty (the Go struct's `omitempty`)

    def entry(self, **values: str) -> Entry:
        """One row, every attribute in order: absent ones empty, optional empty ones left out, bytes that were
        not UTF-8 (a file name, a unit's description) made U+FFFD as Go's JSON encoder makes them."""
        unknown = set(values) - set(self.attributes)
        if unknown:
            raise ValueError(f"{self.name} has no attributes {sorted(unknown)}")
        return {name: go_string(values.get(name, "")) for name in self.attributes
                if values.get(name) or name not in self.optional}


_APPLICATION_ATTRIBUTES = ("Name", "Publisher", "Version", "Release", "Epoch", "InstalledTime", "ApplicationType",
                           "Architecture", "URL", "Summary", "PackageId")
_APPLICATION_OPTIONAL = frozenset({"Release", "Epoch", "InstalledTime", "ApplicationType", "URL", "Summary",
                                   "PackageId"})
APPLICATION = InventoryType("AWS:Application", "1.1", _APPLICATION_ATTRIBUTES, _APPLICATION_OPTIONAL)
AWS_COMPONENT = InventoryType("AWS:AWSComponent", "1.0", _APPLICATION_ATTRIBUTES, _APPLICATION_OPTIONAL)
FILE = InventoryType("AWS:File", "1.0", (
    "Name", "Size", "Description", "FileVersion", "InstalledDate", "ModificationTime", "LastAccessTime",
    "ProductName", "InstalledDir", "CompanyName", "ProductVersion", "ProductLanguage"))
NETWORK = InventoryType("AWS:Network", "1.0", (
    "Name", "SubnetMask", "Gateway", "DHCPServer", "DNSServer", "MacAddress", "IPV4", "IPV6"),
    frozenset({"SubnetMask", "Gateway", "DHCPServer", "DNSServer"}))
SERVICE = InventoryType("AWS:Service", "1.0", (
    "Name", "DisplayName", "Status", "DependentServices", "ServicesDependedOn", "ServiceType", "StartType"))
INSTANCE_DETAILED_INFORMATION = InventoryType("AWS:InstanceDetailedInformation", "1.0", (
    "CPUModel", "CPUSpeedMHz", "CPUs", "CPUSockets", "CPUCores", "CPUHyperThreadEnabled", "OSServicePack",
    "KernelVersion"))
BILLING_INFO = InventoryType("AWS:BillingInfo", "1.0", ("BillingProductId",))


def go_json(value: object, sort_keys: bool = False) -> str:
    """`value` as Go's json.Marshal writes it: compact, not ASCII-escaped, but with <, >, & and the two line
    separators escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys).translate(_GO_ESCAPES)


@dataclass(frozen=True)
class Item:
    """One inventory type's data as captured; empty content is what AWS's gatherers return as a nil slice."""

    type_name: str
    schema_version: str
    capture_time: str
    content: tuple[Entry, ...] = ()
    sorted_keys: bool = False  # custom inventory rows are Go maps, which marshal with their keys sorted

    @functools.cached_property  # asked when deciding what to send, when sending and when recording it
    def content_hash(self) -> str:
        """AWS's ContentHash: base64 of the MD5 of the content's JSON as Go marshals it, the capture time left out
        so that unchanged data hashes the same (uploader.go calculateCheckSum). A nil slice marshals as `null`."""
        text = go_json(list(self.content) if self.content else None, self.sorted_keys)
        return base64.b64encode(hashlib.md5(text.encode(), usedforsecurity=False).digest()).decode()

    def size(self) -> int:
        """The bytes AWS's agent weighs against its limits: the item marshalled whole (VerifyInventoryDataSize)."""
        return len(go_json({"Name": self.type_name, "Content": list(self.content) or None, "ContentHash": "",
                            "SchemaVersion": self.schema_version, "CaptureTime": self.capture_time}).encode())


def go_string(text: str) -> str:
    """Text whose lone surrogates (undecodable bytes kept by surrogateescape, or a JSON `\\ud800`) become U+FFFD,
    one each, as Go's JSON encoder and decoder replace them."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def json_member(raw: Mapping[str, Any], name: str) -> Any:
    """A JSON member matched without regard to case, as Go's json.Unmarshal matches struct fields."""
    return next((value for key, value in raw.items() if key.lower() == name.lower()), None)


def capture_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime(CAPTURE_TIME_FORMAT)


def item(kind: InventoryType, content: tuple[Entry, ...], now: dt.datetime) -> Item:
    return Item(kind.name, kind.schema_version, capture_time(now), content)


def rfc3339(when: dt.datetime) -> str:
    """Go's time.RFC3339: seconds, and `Z` for a zero offset."""
    text = when.isoformat(timespec="seconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text
