"""A Scan or an Install on a package root, package-manager neutral: refresh the indexes, read the installed
packages and their updates, apply the baseline; an Install then installs exactly the approved Missing
versions (or the InstallOverrideList's), never a blocked rejected package, scans again, and decides on the
reboot. Patches an Install left needing a reboot are remembered (with the boot they were installed in) so that
later scans keep reporting them InstalledPendingReboot until the node has rebooted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

from openssm.agent.patching import names
from openssm.agent.patching.model import BLOCK, Baseline, Package, Scan
from openssm.agent.patching.report import stamp
from openssm.agent.patching.rules import Context, Engine, rejected
from openssm.agent.patching.sources import OverrideEntry

Key = tuple[str, str]
PENDING_RECORD = "patching/pending-reboot"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
NO_REBOOT, REBOOT_IF_NEEDED = "NoReboot", "RebootIfNeeded"


class PackageManager(Protocol):
    def update(self) -> None: ...
    def installed(self) -> dict[Key, Package]: ...
    def upgrades(self, installed: Mapping[Key, Package]) -> dict[Key, list[Package]]: ...
    def install(self, packages: Sequence[Package], blocked: Sequence[str]) -> tuple[str, bool]: ...
    def reboot_required(self, installed: Mapping[Key, Package]) -> bool: ...


class Store(Protocol):
    def load(self, relative: str) -> dict[str, Any] | None: ...
    def save(self, relative: str, data: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Request:
    operation: str  # Scan | Install
    reboot_option: str
    baseline: Baseline
    product: str
    debian: bool
    overrides: tuple[OverrideEntry, ...] | None = None


@dataclass(frozen=True)
class Result:
    scan: Scan
    changes: tuple[str, ...] = ()  # "name old -> new", what the Install changed
    notes: tuple[str, ...] = ()
    reboot: bool = False  # the node is to be rebooted now
    last_no_reboot_install: str = ""
    install_failed: bool = False


def boot_id() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return ""


@dataclass
class PendingReboots:
    """The packages Install left needing a reboot, valid while the node runs the same boot."""

    store: Store
    root: str
    current_boot: Callable[[], str] = boot_id
    keys: set[Key] = field(default_factory=set)
    last_no_reboot_install: str = ""

    def load(self, still_required: bool) -> None:
        data = self.store.load(PENDING_RECORD) or {}
        same = data.get("boot_id") == self.current_boot() and data.get("root") == self.root
        self.keys = {(str(k[0]), str(k[1])) for k in data.get("keys") or []} if same and still_required else set()
        self.last_no_reboot_install = str(data.get("last_no_reboot_install") or "")

    def save(self) -> None:
        self.store.save(PENDING_RECORD, {"boot_id": self.current_boot(), "root": self.root,
                                         "keys": sorted([list(k) for k in self.keys]),
                                         "last_no_reboot_install": self.last_no_reboot_install})


def _override_targets(request: Request, installed: Mapping[Key, Package],
                      updates: Mapping[Key, Sequence[Package]], ctx: Context) -> list[Package]:
    """For each installed package an override entry names, its highest update the entry allows."""
    targets = []
    for key in installed:
        for update in updates.get(key, ()):
            if rejected(request.baseline, update, ctx):
                continue
            if any(names.matches([e.patch_id], update, request.debian)
                   and (not e.title or fnmatchcase(update.evr, e.title) or fnmatchcase(update.version, e.title))
                   for e in request.overrides or ()):
                targets.append(update)
                break
    return targets


def _changes(before: Mapping[Key, Package], after: Mapping[Key, Package]) -> tuple[Key, ...]:
    return tuple(sorted(k for k, p in after.items() if k not in before or before[k].evr != p.evr))


class Patcher:
    def __init__(self, manager: PackageManager, pending: PendingReboots,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._pm = manager
        self._pending = pending
        self._clock = clock

    def _context(self, request: Request, failed: frozenset[Key] = frozenset()) -> Context:
        return Context(request.product, self._clock(), request.debian, frozenset(self._pending.keys), failed)

    def run(self, request: Request) -> Result:
        """The operation's outcome; CommandFailed when the package manager cannot even be asked."""
        self._pm.update()
        installed = self._pm.installed()
        self._pending.load(self._pm.reboot_required(installed))
        updates = self._pm.upgrades(installed)
        engine = Engine(request.baseline, self._context(request))
        scan = engine.scan(installed, updates)
        if request.operation != "Install":
            return Result(scan, last_no_reboot_install=self._pending.last_no_reboot_install)
        targets = (_override_targets(request, installed, updates, engine.ctx) if request.overrides is not None
                   else list(scan.missing()))
        return self._install(request, installed, targets)

    def _install(self, request: Request, before: Mapping[Key, Package], targets: Sequence[Package]) -> Result:
        blocked = request.baseline.rejected_patches if request.baseline.rejected_action == BLOCK else ()
        notes: list[str] = []
        install_failed = False
        if targets:
            output, ok = self._pm.install(targets, blocked)
            if not ok and len(targets) > 1:  # find which ones cannot install, as AWS reports each Failed
                for target in targets:
                    self._pm.install([target], blocked)
            install_failed = not ok
            if not ok:
                notes.append("The package manager reported:\n" + output.strip()[-3000:])
        after = self._pm.installed()
        changed = _changes(before, after)
        failed = frozenset(t.key for t in targets if after.get(t.key) is None or after[t.key].evr != t.evr)
        needs_reboot = self._pm.reboot_required(after)
        if changed and needs_reboot:
            self._pending.keys |= set(changed)
        if request.reboot_option == NO_REBOOT:  # AWS: the last Install run with NoReboot, whatever it did
            self._pending.last_no_reboot_install = stamp(self._clock())
        # AWS reboots when this Install installed patches or finds some pending; OpenSSM only when the package
        # manager says a reboot is needed (reboot-required, needs-restarting -r).
        reboot = request.reboot_option == REBOOT_IF_NEEDED and needs_reboot and bool(self._pending.keys)
        self._pending.save()
        scan = Engine(request.baseline, self._context(request, failed)).scan(after, self._pm.upgrades(after))
        lines = tuple(f"{after[k].name} {before[k].evr if k in before else '(new)'} -> {after[k].evr}"
                      for k in changed)
        return Result(scan, lines, tuple(notes), reboot, self._pending.last_no_reboot_install, install_failed)
