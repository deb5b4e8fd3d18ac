"""aws:runPatchBaseline, the Linux step of AWS-RunPatchBaseline: the snapshot the service prepared for this node
(GetDeployablePatchSnapshotForInstance), a Scan or an Install on the node's package root with apt or dnf
(agent/patching), then PutInventory AWS:PatchSummary and PutComplianceItems Patch with the node's credentials,
and a readable summary as the step's output. AWS's document downloads a Python payload in an
aws:runShellScript step; OpenSSM's agent carries the patching code, so its document names this plugin.

A reboot (RebootIfNeeded, and an Install that left the node needing one) is not AWS's exit code 3010 handled by
the agent's job runner: the step reports first, answers Success, and the configured reboot command runs a few
seconds later, once the reply has gone out. Patches it installed are reported InstalledPendingReboot until
the next operation after the reboot."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shlex
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openssm.agent.client import CallFailed, SsmCall
from openssm.agent.patching import report, sources
from openssm.agent.patching.commands import CommandFailed
from openssm.agent.patching.node_os import DEB, NodeOs, UnsupportedOs, parse_os_release
from openssm.agent.patching.operation import PackageManager, Patcher, PendingReboots, Request, Store
from openssm.agent.plugins.steps import StepRun, outcome
from openssm.protocol.mgs import PluginResult

NAME = "aws:runPatchBaseline"
OPERATIONS = ("Scan", "Install")
REBOOT_OPTIONS = ("RebootIfNeeded", "NoReboot")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ROOT_VARIABLE, REBOOT_VARIABLE = "OPENSSM_PACKAGE_ROOT", "OPENSSM_REBOOT_COMMAND"
DEFAULT_REBOOT = "shutdown -r now"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PatchSettings:
    """Where patching acts (a package root: "/" is the node itself) and how the node reboots."""

    package_root: Path = Path("/")
    reboot_command: tuple[str, ...] = tuple(DEFAULT_REBOOT.split())
    reboot_delay_seconds: float = 5.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> PatchSettings:
        return cls(Path(environ.get(ROOT_VARIABLE) or "/"),
                   tuple(shlex.split(environ.get(REBOOT_VARIABLE) or DEFAULT_REBOOT)))

    @property
    def os_release(self) -> Path:
        """The package root's os-release(5): what the agent's heartbeat reports as the node's platform, so that
        the service picks the baseline (and PRODUCT) for the system patching acts on; the host's when the root
        has none (patching there fails with its own error)."""
        path = os_release_path(self.package_root)
        return path if path.is_file() else Path("/etc/os-release")


@dataclass(frozen=True)
class Inputs:
    operation: str
    snapshot_id: str
    install_override_list: str
    baseline_override: str
    reboot_option: str


def parse_inputs(raw: Mapping[str, Any]) -> Inputs:
    """The step's inputs, checked as the document's allowedValues and patterns check them; ValueError."""
    values = {str(k): ("" if v is None else v) for k, v in raw.items()}
    if any(not isinstance(v, str) for v in values.values()):
        raise ValueError(f"invalid or unrecognized input was received for {NAME} plugin")
    operation, reboot = values.get("Operation", ""), values.get("RebootOption") or "RebootIfNeeded"
    if operation not in OPERATIONS:
        raise ValueError(f"Operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    if reboot not in REBOOT_OPTIONS:
        raise ValueError(f"RebootOption must be one of {', '.join(REBOOT_OPTIONS)}, not {reboot!r}")
    snapshot = values.get("SnapshotId", "")
    if snapshot and not _UUID.match(snapshot):
        raise ValueError(f"SnapshotId must be empty or a UUID, not {snapshot!r}")
    return Inputs(operation, snapshot, values.get("InstallOverrideList", ""), values.get("BaselineOverride", ""),
                  reboot)


def os_release_path(root: Path) -> Path:
    """etc/os-release, else usr/lib/os-release (os-release(5)'s fallback), under the root."""
    etc = root / "etc/os-release"
    return etc if etc.is_file() else root / "usr/lib/os-release"


def read_node_os(root: Path) -> NodeOs:
    path = os_release_path(root)
    if path.is_file():
        return parse_os_release(path.read_text(errors="replace"))
    raise UnsupportedOs(f"no os-release under {root}")


def default_manager(node: NodeOs, root: Path, work_dir: Path) -> PackageManager:
    from openssm.agent.patching.apt import AptRoot
    from openssm.agent.patching.dnf import DnfRoot

    return AptRoot(root, work_dir / "apt") if node.family == DEB else DnfRoot(root, work_dir / "dnf")


def run_reboot(argv: tuple[str, ...], delay: float) -> None:
    """Run the reboot command after `delay` seconds, so that the step's reply leaves first."""
    def reboot() -> None:
        log.warning("patching: rebooting the node with %s", " ".join(argv))
        try:
            subprocess.run(list(argv), check=False, stdin=subprocess.DEVNULL, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as err:
            log.error("patching: the reboot command failed: %s", err)

    timer = threading.Timer(delay, reboot)
    timer.daemon = True
    timer.start()


@dataclass
class PatchBaseline:
    """The plugin; `download` GETs the snapshot URL, `fetch` the user's https inputs, `manager` builds the
    package manager (tests give fakes of these three and of `reboot`)."""

    call: SsmCall
    instance_id: str
    download: Callable[[str], dict[str, Any]]
    store: Store
    settings: PatchSettings = field(default_factory=PatchSettings)
    ca_bundle: str | None = None
    fetch: Callable[[str, str, str | None], str] = sources.fetch_https
    manager: Callable[[NodeOs, Path, Path], PackageManager] = default_manager
    reboot: Callable[[tuple[str, ...], float], None] = run_reboot
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    def __call__(self, run: StepRun) -> PluginResult:
        start = self.clock()
        try:
            inputs = parse_inputs(run.inputs)
            return self._run(run, inputs, start)
        except (ValueError, UnsupportedOs, sources.SourceError, CommandFailed) as err:
            return outcome(run.step, start, "", str(err), 1)
        except OSError as err:  # the package root's files, or a package manager that is not there
            return outcome(run.step, start, "", f"patching failed: {err}", 1)
        except CallFailed as err:
            return outcome(run.step, start, "", f"the service refused the patching call: {err}", 1)

    def _run(self, run: StepRun, inputs: Inputs, start: dt.datetime) -> PluginResult:
        root = self.settings.package_root
        node = read_node_os(root)
        command_id = run.env.get("SSM_COMMAND_ID", "") or run.work_dir.name
        snapshot = sources.fetch_snapshot(self.call, self.download, self.instance_id,
                                          inputs.snapshot_id or command_id)
        baseline = snapshot.baseline
        if inputs.baseline_override:
            baseline = sources.parse_baseline_override(
                self.fetch("BaselineOverride", inputs.baseline_override, self.ca_bundle), node.operating_system)
        if baseline.operating_system != node.operating_system:
            raise ValueError(f"baseline {baseline.baseline_id} is for {baseline.operating_system}; this node runs "
                             f"{node.operating_system} ({node.product})")
        overrides = None
        if inputs.operation == "Install" and inputs.install_override_list:
            overrides = sources.parse_override_list(
                self.fetch("InstallOverrideList", inputs.install_override_list, self.ca_bundle))
        pending = PendingReboots(self.store, str(root.resolve()))
        patcher = Patcher(self.manager(node, root, run.work_dir / "patching"), pending, self.clock)
        result = patcher.run(Request(inputs.operation, inputs.reboot_option, baseline, node.product,
                                     node.family == DEB, overrides))
        op = report.Operation(self.instance_id, command_id, snapshot.snapshot_id, baseline.baseline_id,
                              snapshot.patch_group, node.product, inputs.operation, inputs.reboot_option,
                              inputs.install_override_list, start, self.clock(), result.last_no_reboot_install,
                              node.family == DEB)
        self.call("PutInventory", {"InstanceId": self.instance_id, "Items": [report.summary_item(result.scan, op)]})
        self.call("PutComplianceItems", report.compliance_request(result.scan, op))
        notes = list(result.notes)
        if result.reboot:
            notes.append(f"A reboot is needed: the node reboots now ({' '.join(self.settings.reboot_command)}).")
            self.reboot(self.settings.reboot_command, self.settings.reboot_delay_seconds)
        text = report.text_summary(result.scan, op, result.changes, notes)
        if result.install_failed:
            return outcome(run.step, start, text, "Some patches failed to install; see the Failed list.", 1)
        return outcome(run.step, start, text, "")
