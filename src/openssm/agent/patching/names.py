"""A baseline's ApprovedPatches and RejectedPatches entries matched against packages, in AWS's package name
formats (user guide, "Package name formats for approved and rejected patch lists"), each entry allowing `*`
wildcards. Debian and Ubuntu: package names; OpenSSM also takes `name:arch` and apt's `name=version` (either
part may hold a wildcard). The rpm family: name, name.arch, name-version, name-version-release,
name-version-release.arch, version, version-release, epoch:version-release, name-epoch:version-release,
name-epoch:version-release.arch, epoch:name-version-release.arch and name.arch:epoch:version-release; and, in
approved lists, CVE IDs, advisory IDs (RHSA-2017:0864, ALAS-2018-123) and Bugzilla IDs (digits only)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from fnmatch import fnmatchcase

from openssm.agent.patching.model import Package

_CVE = re.compile(r"^CVE-\d{4}-\d+$", re.IGNORECASE)
_ADVISORY = re.compile(r"^[A-Z][A-Z0-9]*-\d{4}[:-]\d+$")
_BUGZILLA = re.compile(r"^\d+$")


def _deb_matches(entry: str, package: Package) -> bool:
    name_part, _, version_part = entry.partition("=")
    name, _, arch = name_part.strip().partition(":")
    if not fnmatchcase(package.name, name):
        return False
    if arch and not fnmatchcase(package.arch, arch):
        return False
    if version_part.strip():
        return fnmatchcase(package.evr, version_part.strip()) or fnmatchcase(package.version, version_part.strip())
    return True


def rpm_forms(package: Package) -> tuple[str, ...]:
    """Every spelling of an rpm package AWS's formats allow."""
    n, a, e, v, r = package.name, package.arch, package.epoch or "0", package.version, package.release
    return (n, f"{n}.{a}", f"{n}-{v}", f"{n}-{v}-{r}", f"{n}-{v}-{r}.{a}", v, f"{v}-{r}", f"{e}:{v}-{r}",
            f"{n}-{e}:{v}-{r}", f"{n}-{e}:{v}-{r}.{a}", f"{e}:{n}-{v}-{r}.{a}", f"{n}.{a}:{e}:{v}-{r}")


def _rpm_matches(entry: str, package: Package) -> bool:
    if _CVE.match(entry):
        return entry.upper() in (c.upper() for c in package.cve_ids)
    if _BUGZILLA.match(entry):
        return entry in package.bugzilla_ids
    if _ADVISORY.match(entry) and entry in package.advisory_ids:
        return True
    return any(fnmatchcase(form, entry) for form in rpm_forms(package))


def matches(entries: Sequence[str], package: Package, debian: bool) -> bool:
    """Whether any entry of a patch list names the package version."""
    test = _deb_matches if debian else _rpm_matches
    return any(test(entry.strip(), package) for entry in entries if entry.strip())
