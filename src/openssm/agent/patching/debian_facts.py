"""Facts of a Debian-family root, each a pure parser of what dpkg and apt write: dpkg's status file (the
installed packages), `apt-get indextargets` (which Packages index came from which suite, with its Release
file's Origin, Label, Suite and Codename) and the Packages indexes themselves, read as a stream and kept only
for the packages that are installed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from openssm.agent.patching.deb822 import stanzas
from openssm.agent.patching.model import Package
from openssm.agent.patching.versions import compare_deb, split_deb

STATUS_FIELDS = frozenset({"Package", "Status", "Architecture", "Version", "Section", "Priority"})
INDEX_FIELDS = frozenset({"Package", "Architecture", "Version", "Section", "Priority"})
TARGET_FIELDS = frozenset({"Filename", "Identifier", "Origin", "Label", "Suite", "Codename", "Component",
                           "Architecture", "Site"})
SECURITY_CLASSIFICATION = "Security"


@dataclass(frozen=True)
class IndexTarget:
    """A Packages index apt has fetched, and the release it belongs to."""

    filename: str
    origin: str = ""
    label: str = ""
    suite: str = ""
    codename: str = ""
    component: str = ""

    @property
    def security(self) -> bool:
        """A security archive, as AWS's Debian and Ubuntu baselines count one: bookworm-security, jammy-security,
        or Debian's security archive by its label."""
        return (self.suite.endswith("-security") or self.codename.endswith("-security")
                or self.label.lower().endswith("-security"))

    @property
    def repository(self) -> str:
        return self.codename or self.suite


def deb_package(fields: Mapping[str, str]) -> Package:
    """A Package from a stanza's fields; the epoch split off the version as dpkg spells it."""
    epoch, upstream, revision = split_deb(fields["Version"])
    version = f"{upstream}-{revision}" if revision else upstream
    return Package(fields["Package"], fields.get("Architecture", ""), str(epoch), version,
                   section=fields.get("Section", ""), priority=fields.get("Priority", ""))


def parse_status(lines: Iterable[str],
                 installed_time: Callable[[str, str], dt.datetime | None] = lambda name, arch: None
                 ) -> dict[tuple[str, str], Package]:
    """The installed packages of dpkg's status file, by (name, arch); `installed_time` dates each (dpkg keeps
    no install time: the agent uses its info/*.list file's modification time, as AWS's agent does)."""
    installed: dict[tuple[str, str], Package] = {}
    for fields in stanzas(lines, STATUS_FIELDS):
        status = fields.get("Status", "").split()
        if len(status) != 3 or status[2] != "installed" or "Package" not in fields or "Version" not in fields:
            continue
        package = replace(deb_package(fields),
                          installed_time=installed_time(fields["Package"], fields.get("Architecture", "")))
        installed[package.key] = package
    return installed


def parse_index_targets(text: str) -> tuple[IndexTarget, ...]:
    """The Packages indexes of `apt-get indextargets` output (deb822 stanzas)."""
    found = []
    for fields in stanzas(text.splitlines(), TARGET_FIELDS):
        if fields.get("Identifier") != "Packages" or not fields.get("Filename"):
            continue
        found.append(IndexTarget(fields["Filename"], fields.get("Origin", ""), fields.get("Label", ""),
                                 fields.get("Suite", ""), fields.get("Codename", ""), fields.get("Component", "")))
    return tuple(found)


def _installed_for(by_name: Mapping[str, list[Package]], name: str, arch: str) -> Package | None:
    """The installed package an index stanza may upgrade: same name and architecture, or either side
    arch:all (a package may move between arch:all and an architecture across versions)."""
    for package in by_name.get(name, ()):
        if arch in (package.arch, "all") or package.arch == "all":
            return package
    return None


def upgrades(lines: Iterable[str], target: IndexTarget,
             installed: Mapping[tuple[str, str], Package]) -> Iterator[tuple[Package, Package]]:
    """(installed package, newer available version) for each stanza of a Packages index that upgrades an
    installed package; the rest of the index is read and dropped."""
    classification = SECURITY_CLASSIFICATION if target.security else ""
    by_name: dict[str, list[Package]] = {}
    for package in installed.values():
        by_name.setdefault(package.name, []).append(package)
    for fields in stanzas(lines, INDEX_FIELDS):
        if "Version" not in fields or fields.get("Package", "") not in by_name:
            continue
        current = _installed_for(by_name, fields["Package"], fields.get("Architecture", ""))
        if current is None or compare_deb(fields["Version"], current.evr) <= 0:
            continue
        available = replace(deb_package(fields), repository=target.repository, security=target.security,
                            classification=classification)
        yield current, available
