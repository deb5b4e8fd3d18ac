"""Facts of an rpm-family node (RHEL, Rocky, Alma, CentOS, Oracle, Amazon Linux), each a pure parser of a
command's output: `rpm -qa --queryformat` (installed), `dnf check-update` (the newest update of each
package), `dnf updateinfo list` (which advisory, of which type and severity, brings which package version) and
`dnf updateinfo info` (each advisory's release date, CVEs and Bugzilla IDs). Checked against dnf 4.14's own
output for a repository with updateinfo (tests/golden/patching/*/*dnf414.json) as well as recorded RHEL output."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from openssm.agent.patching.model import Package

RPM_QUERY_FORMAT = r"%{NAME}\t%{ARCH}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{INSTALLTIME}\n"
_TYPES = {"security": "Security", "bugfix": "Bugfix", "enhancement": "Enhancement", "newpackage": "Newpackage"}
_SEVERITY_ORDER = ("critical", "important", "moderate", "low")  # the vendors' severities, most severe first
_NO_SEVERITY = ("", "none", "unknown")  # dnf lists a security advisory without one as Unknown/Sec.
# The packages after whose update needs-restarting -r (dnf-plugins-core) asks for a reboot.
NEED_REBOOT = frozenset({"kernel", "kernel-core", "kernel-rt", "glibc", "linux-firmware", "systemd", "dbus",
                         "dbus-broker", "dbus-daemon", "microcode_ctl"})
_INFO_FIELD = re.compile(r"^\s*([A-Za-z ]*?)\s*:\s?(.*)$")


@dataclass(frozen=True)
class Advisory:
    advisory_id: str
    classification: str
    severity: str = ""
    release_date: dt.datetime | None = None
    cve_ids: tuple[str, ...] = ()
    bugzilla_ids: tuple[str, ...] = ()


def parse_nevra(text: str) -> Package:
    """name-[epoch:]version-release.arch, as dnf prints packages."""
    rest, _, arch = text.rpartition(".")
    rest, _, release = rest.rpartition("-")
    name, _, version = rest.rpartition("-")
    epoch, _, version = version.rpartition(":") if ":" in version else ("0", "", version)
    if not (name and version and release and arch):
        raise ValueError(f"not a package NEVRA: {text!r}")
    return Package(name, arch, epoch or "0", version, release)


Nevra = tuple[str, str, str, str, str]


def nevra(package: Package) -> Nevra:
    return package.name, package.arch, package.epoch or "0", package.version, package.release


def parse_rpm_query(text: str) -> dict[tuple[str, str], Package]:
    """Installed packages of `rpm -qa --queryformat RPM_QUERY_FORMAT`; gpg-pubkey entries (no arch) left out.
    Several installed versions of one name.arch (kernels) keep the newest listed last."""
    installed: dict[tuple[str, str], Package] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 6 or parts[1] in ("(none)", ""):
            continue
        name, arch, epoch, version, release, when = parts
        stamp = dt.datetime.fromtimestamp(int(when), dt.UTC) if when.isdigit() else None
        package = Package(name, arch, "0" if epoch == "(none)" else epoch, version, release, installed_time=stamp)
        installed[package.key] = package
    return installed


def parse_check_update(text: str) -> tuple[Package, ...]:
    """The updates of `dnf -q check-update` (exit status 100 when there are some): `name.arch  [epoch:]version-
    release  repository`, a long name alone on its line with the rest on the next; the obsoleting section
    that may follow is not an update list."""
    tokens: list[str] = []
    found = []
    for line in text.splitlines():
        if line.strip().lower().startswith(("obsoleting packages", "security:")):
            break
        tokens.extend(line.split())
        while len(tokens) >= 3:
            name_arch, evr, repository = tokens[:3]
            del tokens[:3]
            name, _, arch = name_arch.rpartition(".")
            epoch, _, vr = evr.rpartition(":") if ":" in evr else ("0", "", evr)
            version, _, release = vr.rpartition("-")
            if name and version:
                found.append(Package(name, arch, epoch or "0", version, release, repository=repository))
    return tuple(found)


def parse_updateinfo_list(text: str) -> tuple[tuple[str, str, str, Package], ...]:
    """(advisory id, classification, severity, package) per line of `dnf -q updateinfo list`: `RHSA-2023:1234
    Important/Sec.  openssl-1:3.0.7-6.el9_2.x86_64`, or a type (bugfix, enhancement, newpackage) for the rest."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        advisory_id, kind, package_text = parts
        if kind.endswith("/Sec."):
            classification, severity = "Security", _severity(kind[: -len("/Sec.")])
        else:
            classification, severity = _TYPES.get(kind.lower(), kind.capitalize()), ""
        try:
            found.append((advisory_id, classification, severity, parse_nevra(package_text)))
        except ValueError:
            continue
    return tuple(found)


def _severity(text: str) -> str:
    return "" if text.strip().lower() in _NO_SEVERITY else text.strip()


def _info_values(block: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in block if key == name]


def _advisory(block: list[tuple[str, str]]) -> Advisory | None:
    ids = _info_values(block, "Update ID")
    if not ids:
        return None
    kind = (_info_values(block, "Type") or [""])[0].strip().lower()
    dates = _info_values(block, "Updated") or _info_values(block, "Issued")
    released = None
    if dates:
        try:
            released = dt.datetime.fromisoformat(dates[0].strip()).replace(tzinfo=dt.UTC)
        except ValueError:
            released = None
    cves = tuple(v.split()[0] for v in _info_values(block, "CVEs") if v.strip())
    bugs = tuple(v.split()[0] for v in _info_values(block, "Bugs") if v.strip() and v.split()[0].isdigit())
    severity = _severity((_info_values(block, "Severity") or [""])[0])
    return Advisory(ids[0].strip(), _TYPES.get(kind, kind.capitalize()), severity, released, cves, bugs)


def parse_updateinfo_info(text: str) -> dict[str, Advisory]:
    """Advisories of `dnf -q updateinfo info`, by ID; a field continued on the next lines (`: CVE-…`) keeps
    each value."""
    advisories: dict[str, Advisory] = {}
    block: list[tuple[str, str]] = []
    last = ""
    for line in [*text.splitlines(), "====="]:
        if line.startswith("====="):
            advisory = _advisory(block)
            if advisory is not None:
                advisories[advisory.advisory_id] = advisory
            block, last = [], ""
            continue
        match = _INFO_FIELD.match(line)
        if match is None:
            continue
        key, value = match.groups()
        last = key or last
        block.append((last, value))
    return advisories


def _rank(severity: str) -> int:
    lowered = severity.lower()
    return _SEVERITY_ORDER.index(lowered) if lowered in _SEVERITY_ORDER else len(_SEVERITY_ORDER)


def advisories_by_nevra(listed: Iterable[tuple[str, str, str, Package]]) -> dict[Nevra, list[tuple[str, str, str]]]:
    """`dnf updateinfo list` rows (advisory, classification, severity, package) by the package's NEVRA, so each
    package finds its own without a scan of the whole list."""
    found: dict[Nevra, list[tuple[str, str, str]]] = {}
    for advisory_id, classification, severity, package in listed:
        found.setdefault(nevra(package), []).append((advisory_id, classification, severity))
    return found


def with_advisories(package: Package, by_nevra: Mapping[Nevra, Sequence[tuple[str, str, str]]],
                    details: Mapping[str, Advisory]) -> Package:
    """The package with what its advisories say (`by_nevra`: advisories_by_nevra's): the most severe security
    one gives its classification and severity."""
    mine = list(by_nevra.get(nevra(package), ()))
    if not mine:
        return package
    mine.sort(key=lambda item: (item[1] != "Security", _rank(item[2])))
    advisory_id, classification, severity = mine[0]
    info = [details[a] for a, _, _ in mine if a in details]
    dates = [i.release_date for i in info if i.release_date is not None]
    return replace(package, classification=classification, severity=severity or package.severity,
                   security=classification == "Security", advisory_ids=tuple(a for a, _, _ in mine),
                   release_date=min(dates) if dates else None,
                   cve_ids=tuple(sorted({c for i in info for c in i.cve_ids})),
                   bugzilla_ids=tuple(sorted({b for i in info for b in i.bugzilla_ids})))


def needs_reboot(installed: Iterable[Package], booted: dt.datetime) -> bool:
    """needs-restarting -r's rule: a core package (NEED_REBOOT) was installed since the node booted."""
    return any(p.name in NEED_REBOOT and p.installed_time is not None and p.installed_time > booted
               for p in installed)
