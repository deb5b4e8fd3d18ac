"""dnf and rpm driven for an rpm-family package root ("/" or another directory, given to rpm as --root and to
dnf as --installroot). A scan reads rpm's installed packages, dnf's updates and its updateinfo advisories; an
install asks dnf for exact versions with the blocked rejected packages excluded (dnf's --exclude holds for
dependencies too); `needs-restarting -r` says whether the node needs a reboot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cmp_to_key
from pathlib import Path
from typing import Any

from openssm.agent.patching import commands, rpm_facts
from openssm.agent.patching.commands import CommandFailed, Runner
from openssm.agent.patching.model import Package
from openssm.agent.patching.versions import compare_rpm

Key = tuple[str, str]
CHECK_UPDATE_AVAILABLE = 100  # dnf check-update's exit status when there are updates


def _evr(package: Package) -> tuple[str, str, str]:
    return package.epoch or "0", package.version, package.release


class DnfRoot:
    def __init__(self, root: Path, runner: Runner = commands.run) -> None:
        self.root = root
        self._runner = runner
        elsewhere = root.resolve() != Path("/")
        self._rpm_root = ["--root", str(root)] if elsewhere else []
        self._dnf_root = [f"--installroot={root}"] if elsewhere else []

    def _dnf(self, *args: str, ok: Sequence[int] = (0,)) -> str:
        return commands.checked(self._runner, ["dnf", "-q", *self._dnf_root, *args], {}, ok).stdout

    def update(self) -> None:
        self._dnf("makecache")

    def installed(self) -> dict[Key, Package]:
        done = commands.checked(self._runner, ["rpm", *self._rpm_root, "-qa", "--queryformat",
                                               rpm_facts.RPM_QUERY_FORMAT], {})
        installed = rpm_facts.parse_rpm_query(done.stdout)
        listed = rpm_facts.parse_updateinfo_list(self._dnf("updateinfo", "list", "--installed"))
        return {key: rpm_facts.with_advisories(p, listed, {}) for key, p in installed.items()}

    def upgrades(self, installed: Mapping[Key, Package]) -> dict[Key, list[Package]]:
        """Each installed package's newer versions: dnf's newest update and every advisory's version."""
        newest = rpm_facts.parse_check_update(self._dnf("check-update", ok=(0, CHECK_UPDATE_AVAILABLE)))
        listed = rpm_facts.parse_updateinfo_list(self._dnf("updateinfo", "list", "--updates"))
        details = rpm_facts.parse_updateinfo_info(self._dnf("updateinfo", "info", "--updates"))
        repositories = {p.key: p.repository for p in newest}
        candidates = [*newest, *(p for _, _, _, p in listed)]
        found: dict[Key, dict[tuple[str, str, str], Package]] = {}
        for package in candidates:
            current = installed.get(package.key)
            if current is None or compare_rpm(_evr(package), _evr(current)) <= 0:
                continue
            enriched = rpm_facts.with_advisories(package, listed, details)
            if not enriched.repository:
                enriched = replace(enriched, repository=repositories.get(package.key, ""))
            found.setdefault(package.key, {})[_evr(package)] = enriched
        return {key: sorted(versions.values(), key=_sort_key, reverse=True) for key, versions in found.items()}

    def install(self, packages: Sequence[Package], blocked: Sequence[str]) -> tuple[str, bool]:
        excludes = [f"--exclude={entry.strip()}" for entry in blocked if entry.strip()]
        argv = ["dnf", "-y", *self._dnf_root, *excludes, "install",
                *(f"{p.name}-{p.evr}.{p.arch}" for p in packages)]
        try:
            done = self._runner(argv, {})
        except CommandFailed as err:
            return str(err), False
        return done.stdout + done.stderr, done.code == 0

    def reboot_required(self) -> bool:
        """`needs-restarting -r` exits 1 when a reboot is needed (0: not; anything else: it cannot tell)."""
        try:
            return self._runner(["needs-restarting", "-r"], {}).code == 1
        except CommandFailed:
            return False


_EVR_ORDER = cmp_to_key(compare_rpm)


def _sort_key(package: Package) -> Any:
    return _EVR_ORDER(_evr(package))
