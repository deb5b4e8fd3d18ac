"""Where an operation's inputs come from: the snapshot (GetDeployablePatchSnapshotForInstance, then its download
URL on the OpenSSM server), and the user's InstallOverrideList (AWS's YAML `patches:` list of `id` and optional
`title`) and BaselineOverride (a JSON list of baselines), fetched from an https URL. s3:// paths are refused:
the agent has no S3 client (a presigned https URL to the same object works)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openssm.agent.patching.model import Baseline, baseline_from_json

MAX_BYTES = 10 * 1024 * 1024
S3_UNSUPPORTED = ("{name} {url} is an s3:// path; the OpenSSM agent has no S3 client: give an https URL (for an "
                  "S3 object, a presigned URL)")


class SourceError(Exception):
    """An input that cannot be fetched or read; the message is the step's error."""


@dataclass(frozen=True)
class OverrideEntry:
    patch_id: str  # a package name (rpm: AWS's name formats), `*` allowed
    title: str = ""  # a version, `*` allowed


def fetch_https(name: str, url: str, ca_bundle: str | None, timeout: float = 60.0) -> str:
    """The text at an https URL the user gave (`name` is the parameter, for messages)."""
    if url.lower().startswith("s3://"):
        raise SourceError(S3_UNSUPPORTED.format(name=name, url=url))
    if not url.lower().startswith("https://"):
        raise SourceError(f"{name} must be an https URL or an s3:// path, not {url!r}")
    import urllib.error  # only an operation with an https input needs urllib
    import urllib.request

    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(ca_bundle)
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310 (https only)
            data: bytes = response.read(MAX_BYTES + 1)
    except (OSError, urllib.error.URLError, ValueError) as err:
        raise SourceError(f"{name} {url} could not be downloaded: {err}") from err
    if len(data) > MAX_BYTES:
        raise SourceError(f"{name} {url} is larger than {MAX_BYTES} bytes")
    return data.decode("utf-8", "replace")


def parse_override_list(text: str) -> tuple[OverrideEntry, ...]:
    """AWS's InstallOverrideList YAML: `patches:` a list of mappings with `id` (and optionally `title`)."""
    import yaml  # only an Install with an override list needs it

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise SourceError(f"InstallOverrideList is not valid YAML: {err}") from err
    patches = data.get("patches") if isinstance(data, dict) else None
    if not isinstance(patches, list):
        raise SourceError("InstallOverrideList must be YAML with a `patches` list")
    entries = []
    for patch in patches:
        if not isinstance(patch, dict) or not str(patch.get("id") or "").strip():
            raise SourceError(f"each InstallOverrideList patch needs an id: {patch!r}")
        entries.append(OverrideEntry(str(patch["id"]).strip(), str(patch.get("title") or "").strip()))
    return tuple(entries)


def parse_baseline_override(text: str, operating_system: str) -> Baseline:
    """The baseline for this OS among a BaselineOverride's JSON list (GetPatchBaseline's fields each)."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise SourceError(f"BaselineOverride is not valid JSON: {err}") from err
    baselines = data if isinstance(data, list) else [data]
    for raw in baselines:
        if isinstance(raw, dict) and str(raw.get("OperatingSystem") or "") == operating_system:
            try:
                return baseline_from_json(raw)
            except ValueError as err:
                raise SourceError(f"BaselineOverride: {err}") from err
    raise SourceError(f"BaselineOverride holds no baseline for {operating_system}")


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    product: str
    operating_system: str
    patch_group: str
    baseline: Baseline


def fetch_snapshot(call: Callable[[str, dict[str, Any]], dict[str, Any]], download: Callable[[str], dict[str, Any]],
                   instance_id: str, snapshot_id: str) -> Snapshot:
    """The snapshot the service prepared for this node and operation."""
    answer = call("GetDeployablePatchSnapshotForInstance", {"InstanceId": instance_id, "SnapshotId": snapshot_id})
    url = str(answer.get("SnapshotDownloadUrl") or "")
    if not url:
        raise SourceError("GetDeployablePatchSnapshotForInstance gave no SnapshotDownloadUrl")
    data = download(url)
    baseline = data.get("PatchBaseline")
    if not isinstance(baseline, dict):
        raise SourceError("the patch snapshot holds no PatchBaseline")
    try:
        parsed = baseline_from_json(baseline)
    except ValueError as err:
        raise SourceError(str(err)) from err
    return Snapshot(str(data.get("SnapshotId") or snapshot_id), str(data.get("Product") or answer.get("Product")
                                                                    or ""),
                    str(data.get("OperatingSystem") or parsed.operating_system), str(data.get("PatchGroup") or ""),
                    parsed)
