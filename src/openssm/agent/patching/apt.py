"""apt and dpkg driven for a package root: "/" (the node itself, with its own apt configuration) or another
directory holding a Debian system, for which the agent writes an APT_CONFIG file pointing every apt directory,
dpkg's --root and --admindir, and its log into that root, so the host's dpkg database is never touched.
Maintainer scripts run chrootless (dpkg --force-script-chrootless): a root that is not a bootable system has
no shell of its own to run them in."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from openssm.agent.patching import commands, debian_facts
from openssm.agent.patching.commands import CommandFailed, Runner
from openssm.agent.patching.debian_facts import IndexTarget
from openssm.agent.patching.model import Package
from openssm.agent.patching.versions import deb_key

APT_HELPER = "/usr/lib/apt/apt-helper"
REBOOT_FLAGS = ("var/run/reboot-required", "run/reboot-required")
INSTALL_OPTIONS = ("-y", "-q", "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold")
Key = tuple[str, str]


def root_config(root: Path) -> str:
    """The apt configuration that confines apt and dpkg to `root`."""
    r = str(root).rstrip("/")
    dpkg = [f"--root={r}", f"--admindir={r}/var/lib/dpkg", "--force-script-chrootless", f"--log={r}/var/log/dpkg.log"]
    return "\n".join([
        f'Dir "{r}/";', f'Dir::State::status "{r}/var/lib/dpkg/status";', f'Dir::Etc "{r}/etc/apt/";',
        f'Dir::Log "{r}/var/log/apt/";', 'Dir::Bin::dpkg "/usr/bin/dpkg";',
        'APT::Sandbox::User "root";',  # the _apt user may not read a root under a private directory
        'DPkg::Use-Pty "false";',
        "DPkg::Options {" + " ".join(f'"{o}";' for o in dpkg) + "};", ""])


def block_pins(entries: Sequence[str]) -> str:
    """apt preferences that forbid the rejected packages (BLOCK): a version below priority 0 is never
    installed, neither asked for nor as a dependency."""
    pins = []
    for entry in entries:
        name_part, _, version = entry.strip().partition("=")
        if name_part:
            pins.append(f"Package: {name_part.strip()}\nPin: version {version.strip() or '*'}\nPin-Priority: -1\n")
    return "\n".join(pins)


class AptRoot:
    def __init__(self, root: Path, work_dir: Path, runner: Runner = commands.run) -> None:
        self.root = root
        self._work_dir = work_dir
        self._runner = runner
        self._env: dict[str, str] = {"DEBIAN_FRONTEND": "noninteractive"}
        if root.resolve() != Path("/"):
            work_dir.mkdir(parents=True, exist_ok=True)
            config = work_dir / "apt.conf"
            config.write_text(root_config(root.resolve()))
            self._env["APT_CONFIG"] = str(config)

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def update(self) -> None:
        commands.checked(self._runner, ["apt-get", "-q", "update"], self._env)

    def installed(self) -> dict[Key, Package]:
        with open(self.path("/var/lib/dpkg/status"), encoding="utf-8", errors="replace") as status:
            return debian_facts.parse_status(status, self._installed_time)

    def _installed_time(self, name: str, arch: str) -> dt.datetime | None:
        info = self.path("/var/lib/dpkg/info")
        for candidate in (info / f"{name}:{arch}.list", info / f"{name}.list"):
            try:
                return dt.datetime.fromtimestamp(candidate.stat().st_mtime, dt.UTC).replace(microsecond=0)
            except OSError:
                continue
        return None

    def index_targets(self) -> tuple[IndexTarget, ...]:
        done = commands.checked(self._runner, ["apt-get", "indextargets"], self._env)
        return debian_facts.parse_index_targets(done.stdout)

    def _index_lines(self, filename: str) -> Iterator[str]:
        """The index's lines, decompressed by apt itself (lists may be kept as .lz4, .gz…), as they come."""
        if not Path(filename).exists():
            return
        with subprocess.Popen([APT_HELPER, "cat-file", filename], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL) as proc:
            assert proc.stdout is not None
            for raw in proc.stdout:
                yield raw.decode("utf-8", "replace")

    def upgrades(self, installed: Mapping[Key, Package]) -> dict[Key, list[Package]]:
        """Each installed package's newer versions in the fetched indexes, highest first."""
        found: dict[Key, dict[str, Package]] = {}
        for target in self.index_targets():
            for current, available in debian_facts.upgrades(self._index_lines(target.filename), target, installed):
                versions = found.setdefault(current.key, {})
                seen = versions.get(available.evr)
                if seen is None or (available.security and not seen.security):  # the security suite's copy wins
                    versions[available.evr] = available
        return {key: sorted(versions.values(), key=lambda p: deb_key(p.evr), reverse=True)
                for key, versions in found.items()}

    def install(self, packages: Sequence[Package], blocked: Sequence[str]) -> tuple[str, bool]:
        """Install exactly these versions (and what they depend on), the blocked entries pinned away; the
        output and whether apt succeeded."""
        argv = ["apt-get", *INSTALL_OPTIONS]
        if blocked:
            argv += ["-o", f"Dir::Etc::preferences={self._preferences(blocked)}"]
        argv += ["install", "--only-upgrade", *(f"{p.name}:{p.arch}={p.evr}" if p.arch != "all" else
                                                f"{p.name}={p.evr}" for p in packages)]
        try:
            done = self._runner(argv, self._env)
        except CommandFailed as err:
            return str(err), False
        return done.stdout + done.stderr, done.code == 0

    def _preferences(self, blocked: Sequence[str]) -> Path:
        """The node's own preferences file with the blocking pins after it (apt reads one such file)."""
        self._work_dir.mkdir(parents=True, exist_ok=True)
        own = self.path("/etc/apt/preferences")
        text = own.read_text() + "\n" if own.is_file() else ""
        path = self._work_dir / "preferences"
        path.write_text(text + block_pins(blocked))
        return path

    def reboot_required(self, installed: Mapping[Key, Package]) -> bool:
        return any(self.path(flag).exists() for flag in REBOOT_FLAGS)
