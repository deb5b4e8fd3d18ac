"""dnf and rpm driven for an rpm-family package root: "/" (the node itself, with its own configuration) or another
directory holding a RHEL-family system. For another root the agent confines both to it, as apt.py does with
APT_CONFIG: dnf gets --installroot, the root's dnf.conf (or the distributions' defaults), its repository and
variable directories and no host plugins; rpm and dnf both read the root's rpm database through an rpm macros file
the agent writes (HOME points at it), since the host's rpm may keep its own elsewhere (Debian: ~/.rpmdb).

A scan reads rpm's installed packages, dnf's updates and its updateinfo advisories; an install asks dnf for exact
versions with the blocked rejected packages excluded from the repositories (for dependencies too). Whether the
node needs a reboot: `needs-restarting -r` on "/", its rule (a core package installed since boot) elsewhere."""

from __future__ import annotations

import datetime as dt
import re
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
RPM_DATABASES = ("usr/lib/sysimage/rpm", "var/lib/rpm")  # Fedora 36+ and RHEL 10; RHEL 8/9 and their rebuilds
# What RHEL family dnf.conf files hold; dnf's built-in defaults would not check signatures.
DEFAULT_DNF_CONF = ("[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\n"
                    "skip_if_unavailable=False\n")
PROC_STAT = Path("/proc/stat")


# AWS's spellings that dnf's package specs do not take, as dnf's name-epoch:version-release.arch.
_TITLE_FORM = re.compile(r"^(?P<n>[^:]+)\.(?P<a>[^.:]+):(?P<e>\d+|\*):(?P<vr>[^:]+)$")  # name.arch:e:v-r
_ENVRA_FORM = re.compile(r"^(?P<e>\d+|\*):(?P<n>[A-Za-z_*][^:]*)-(?P<vr>[^-:]+-[^-:]+)\.(?P<a>[^.:-]+)$")


def exclude_spec(entry: str) -> str:
    """A RejectedPatches entry as dnf's package specs take it (AWS's other formats are dnf's own)."""
    entry = entry.strip()
    found = _TITLE_FORM.match(entry) or _ENVRA_FORM.match(entry)
    return f"{found['n']}-{found['e']}:{found['vr']}.{found['a']}" if found else entry


def block_options(blocked: Sequence[str]) -> list[str]:
    """The rejected packages excluded from every repository (added to each one's excludepkgs): never installed,
    not even as a dependency, while an installed version stays upgradable (dnf's global --exclude would hide it
    too, so that a rejected old version could never be replaced)."""
    specs = [exclude_spec(entry) for entry in blocked if entry.strip()]
    return [f"--setopt=*.excludepkgs={','.join(specs)}"] if specs else []


def _evr(package: Package) -> tuple[str, str, str]:
    return package.epoch or "0", package.version, package.release


def rpm_database(root: Path) -> str:
    """Where the root keeps its rpm database (the first real directory of RPM_DATABASES that holds one)."""
    for relative in RPM_DATABASES:
        path = root / relative
        if path.is_dir() and not path.is_symlink() and any(p.name.startswith(("rpmdb.", "Packages"))
                                                            for p in path.iterdir()):
            return "/" + relative
    return "/" + RPM_DATABASES[-1]


def root_options(root: Path, config: Path) -> list[str]:
    """dnf's options that keep it inside `root`: paths given on the command line are not searched for on the
    host, as dnf does for a configuration or repository directory the root lacks."""
    r = str(root).rstrip("/")
    repos = ",".join(f"{r}/{d}" for d in ("etc/yum.repos.d", "etc/yum/repos.d", "etc/distro.repos.d"))
    return [f"--installroot={r}", f"--config={config}", "--noplugins", f"--setopt=reposdir={repos}",
            f"--setopt=varsdir={r}/etc/dnf/vars,{r}/etc/yum/vars"]


def boot_time(stat: Path = PROC_STAT) -> dt.datetime | None:
    try:
        for line in stat.read_text().splitlines():
            if line.startswith("btime "):
                return dt.datetime.fromtimestamp(int(line.split()[1]), dt.UTC)
    except (OSError, ValueError):
        return None
    return None


class DnfRoot:
    def __init__(self, root: Path, work_dir: Path, runner: Runner = commands.run,
                 booted: dt.datetime | None = None) -> None:
        self.root = root
        self._runner = runner
        self._booted = booted
        self._env: dict[str, str] = {}
        self._rpm_root: list[str] = []
        self._dnf_root: list[str] = []
        if root.resolve() != Path("/"):
            resolved = root.resolve()
            work_dir.mkdir(parents=True, exist_ok=True)
            (work_dir / ".rpmmacros").write_text(f"%_dbpath {rpm_database(resolved)}\n")
            self._env["HOME"] = str(work_dir)  # rpm reads ~/.rpmmacros after the host's macros
            config = resolved / "etc/dnf/dnf.conf"
            if not config.is_file():
                config = work_dir / "dnf.conf"
                config.write_text(DEFAULT_DNF_CONF)
            self._rpm_root = ["--root", str(resolved)]
            self._dnf_root = root_options(resolved, config)

    @property
    def elsewhere(self) -> bool:
        return bool(self._rpm_root)

    def _dnf(self, *args: str, ok: Sequence[int] = (0,)) -> str:
        return commands.checked(self._runner, ["dnf", "-q", *self._dnf_root, *args], self._env, ok).stdout

    def update(self) -> None:
        """Fetch the repositories' metadata afresh, as apt-get update does (dnf would keep it until it expires)."""
        self._dnf("makecache", "--refresh")

    def _rpm_installed(self) -> dict[Key, Package]:
        done = commands.checked(self._runner, ["rpm", *self._rpm_root, "-qa", "--queryformat",
                                               rpm_facts.RPM_QUERY_FORMAT], self._env)
        return rpm_facts.parse_rpm_query(done.stdout)

    def installed(self) -> dict[Key, Package]:
        installed = self._rpm_installed()
        listed = rpm_facts.advisories_by_nevra(rpm_facts.parse_updateinfo_list(
            self._dnf("updateinfo", "list", "--installed")))
        return {key: rpm_facts.with_advisories(p, listed, {}) for key, p in installed.items()}

    def upgrades(self, installed: Mapping[Key, Package]) -> dict[Key, list[Package]]:
        """Each installed package's newer versions: dnf's newest update and every advisory's version."""
        newest = rpm_facts.parse_check_update(self._dnf("check-update", ok=(0, CHECK_UPDATE_AVAILABLE)))
        listed = rpm_facts.parse_updateinfo_list(self._dnf("updateinfo", "list", "--updates"))
        details = rpm_facts.parse_updateinfo_info(self._dnf("updateinfo", "info", "--updates"))
        repositories = {p.key: p.repository for p in newest}
        candidates = [*newest, *(p for _, _, _, p in listed)]
        advisories = rpm_facts.advisories_by_nevra(listed)
        found: dict[Key, dict[tuple[str, str, str], Package]] = {}
        for package in candidates:
            current = installed.get(package.key)
            if current is None or compare_rpm(_evr(package), _evr(current)) <= 0:
                continue
            enriched = rpm_facts.with_advisories(package, advisories, details)
            if not enriched.repository:
                enriched = replace(enriched, repository=repositories.get(package.key, ""))
            found.setdefault(package.key, {})[_evr(package)] = enriched
        return {key: sorted(versions.values(), key=_sort_key, reverse=True) for key, versions in found.items()}

    def install(self, packages: Sequence[Package], blocked: Sequence[str]) -> tuple[str, bool]:
        argv = ["dnf", "-y", *self._dnf_root, *block_options(blocked), "install",
                *(f"{p.name}-{p.evr}.{p.arch}" for p in packages)]
        try:
            done = self._runner(argv, self._env)
        except CommandFailed as err:
            return str(err), False
        return done.stdout + done.stderr, done.code == 0

    def reboot_required(self, installed: Mapping[Key, Package]) -> bool:
        """On "/": `needs-restarting -r` exits 1 when a reboot is needed (0: not; anything else: it cannot
        tell). In another root (whose processes are the host's) its rule on the root's packages, `installed`
        (just read by the caller)."""
        if self.elsewhere:
            booted = self._booted or boot_time()
            return booted is not None and rpm_facts.needs_reboot(installed.values(), booted)
        try:
            return self._runner(["needs-restarting", "-r"], self._env).code == 1
        except CommandFailed:
            return False


_EVR_ORDER = cmp_to_key(compare_rpm)


def _sort_key(package: Package) -> Any:
    return _EVR_ORDER(_evr(package))
