"""AWS:Application and AWS:AWSComponent: the packages dpkg and rpm know, and snap's when snapd is among them,
queried and cleaned as AWS's agent does (gatherers/application/dataProvider_unix.go, dataProvider.go): every
field cut to its first line and to 100 bytes (counted with `\\`, `"` and tabs escaped), architectures named as
rpm names them, rpm's install time as RFC 3339. dpkg has no install time, so its packages carry none."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from openssm.agent.inventory.model import APPLICATION, Entry, go_string
from openssm.agent.inventory.sources import Sources, exists, output

MAX_FIELD_BYTES = 100
DPKG_FIELDS = ("${Package}", "${Maintainer}", "${Version}", "${Section}", "${Architecture}", "${Homepage}",
               "${binary:Summary}")  # the first line of ${Description}, which is all AWS's agent keeps of it
RPM_FIELDS = ("%{NAME}", "%{VENDOR}", "%{VERSION}", "%{RELEASE}", "%{EPOCH}", "%{INSTALLTIME}", "%{GROUP}",
              "%{ARCH}", "%{URL}", "%{SUMMARY}", "%{SOURCERPM}")
# Names AWS's agent counts as AWS components (dataProvider.go selectAwsApps), and its two tool-set prefixes.
AWS_COMPONENT_NAMES = frozenset({"amazon-ssm-agent", "amazon ssm agent", "com.amazon.aws.ssm", "aws tools for windows",
                                 "ec2configservice", "aws-cfn-bootstrap", "aws pv drivers"})
AWS_COMPONENT_PREFIXES = ("aws-apitools-", "aws-amitools-")
_ESCAPED = re.compile(r"\\(.)|\\$", re.DOTALL)


def _field(raw: str) -> str:
    """AWS's cleanupJSONField and the JSON decoding after it: the first line, cut to 100 bytes of its escaped
    form (a cut that splits an escape drops it; one that splits a character leaves U+FFFD per byte)."""
    escaped = raw.split("\n", 1)[0].replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "")
    data = escaped.encode("utf-8", "surrogateescape")
    if len(data) > MAX_FIELD_BYTES:
        escaped = data[:MAX_FIELD_BYTES].decode("utf-8", "surrogateescape")
    return go_string(_ESCAPED.sub(lambda m: "\t" if m.group(1) == "t" else (m.group(1) or ""), escaped))


def architecture(name: str) -> str:
    """rpm's names for dpkg's and Go's (model.go FormatArchitecture)."""
    name = name.strip().lower()
    return {"amd64": "x86_64", "386": "i386"}.get(name, name)


def _markers() -> tuple[str, str]:
    token = uuid.uuid4().hex[:8]
    return f"<sep{token}>", f"<end{token}>"


def _records(text: str, separator: str, end: str, width: int) -> list[list[str]]:
    rows = [record.split(separator) for record in text.split(end)[:-1]]
    return [[_field(value) for value in row] for row in rows if len(row) == width]


def parse_dpkg(text: str, separator: str, end: str) -> tuple[Entry, ...]:
    entries = []
    for row in _records(text, separator, end, len(DPKG_FIELDS)):
        name, maintainer, version, section, arch, homepage, summary = row
        entries.append(APPLICATION.entry(
            Name=name, Publisher=maintainer, Version=version, ApplicationType=section,
            Architecture=architecture(arch), URL=homepage, Summary=summary,
            PackageId=_field(f"{name}_{version}_{arch}.deb")))
    return tuple(entries)


def _epoch(epoch: str, package_id: str) -> str:
    """rpm prints "(none)" for no epoch; AWS's agent then takes it from a source package named n-e:v-r.a."""
    if epoch != "(none)":
        return epoch
    name_epoch = package_id.split(":")[0] if ":" in package_id else ""
    return name_epoch.split("-")[1] if "-" in name_epoch else ""


def _installed(seconds: str) -> str:
    try:
        return dt.datetime.fromtimestamp(int(seconds), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return seconds


def parse_rpm(text: str, separator: str, end: str) -> tuple[Entry, ...]:
    entries = []
    for row in _records(text, separator, end, len(RPM_FIELDS)):
        name, vendor, version, release, epoch, installed, group, arch, url, summary, source = row
        entries.append(APPLICATION.entry(
            Name=name, Publisher=vendor, Version=version, Release=release, Epoch=_epoch(epoch, source),
            InstalledTime=_installed(installed) if installed else "", ApplicationType=group,
            Architecture=architecture(arch), URL=url, Summary=summary, PackageId=source))
    return tuple(entries)


def parse_snap(text: str) -> tuple[Entry, ...]:
    """`snap list`: a header, then Name Version Rev Tracking Publisher Notes; AWS's agent stops at the first row
    that has fewer columns."""
    entries = []
    for line in text.split("\n")[1:-1]:
        columns = line.split()
        if len(columns) < 6:
            break
        name, version, publisher = (_field(c) for c in (columns[0], columns[1], columns[4]))
        entries.append(APPLICATION.entry(Name=name, Publisher=publisher, Version=version, ApplicationType="admin",
                                         PackageId=_field(f"pkg:snap/{publisher}/{name}@{version}")))
    return tuple(entries)


def dpkg_packages(sources: Sources) -> tuple[Entry, ...]:
    separator, end = _markers()
    text = output([*sources.dpkg_query, "-W", "-f=" + separator.join(DPKG_FIELDS) + end])
    return parse_dpkg(text, separator, end) if text is not None else ()


def rpm_packages(sources: Sources) -> tuple[Entry, ...]:
    separator, end = _markers()
    text = output([*sources.rpm, "-qa", "--queryformat", separator.join(RPM_FIELDS) + end])
    return parse_rpm(text, separator, end) if text is not None else ()


def applications(sources: Sources) -> tuple[Entry, ...]:
    """dpkg's packages, then rpm's, then snaps; none (not an error) without a package manager."""
    found = dpkg_packages(sources) if exists(sources.dpkg_query) else ()
    found += rpm_packages(sources) if exists(sources.rpm) else ()
    if any(entry["Name"].lower() == "snapd" for entry in found):
        text = output([*sources.snap, "list"])
        found += parse_snap(text) if text is not None else ()
    return found


def aws_components(found: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """The applications AWS's agent counts as AWS components (awscomponentGatherer.go)."""
    def is_component(name: str) -> bool:
        name = name.strip().lower()
        return name in AWS_COMPONENT_NAMES or any(prefix in name for prefix in AWS_COMPONENT_PREFIXES)

    return tuple(entry for entry in found if is_component(entry["Name"]))
