"""The rpm-family path (this machine has no dnf): DnfRoot driven by a fake runner that answers with the golden
outputs, its scan put through the rules, and the install command it builds (exact versions, BLOCK as
--exclude, --installroot for another root)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from openssm.agent.patching.commands import Completed
from openssm.agent.patching.dnf import DnfRoot
from openssm.agent.patching.model import ApprovalRule, Baseline, PatchFilter, PatchState
from openssm.agent.patching.rules import Context, Engine

GOLDEN = Path(__file__).parent.parent / "golden" / "patching"


def golden(fact: str, case: str) -> str:
    return str(json.loads((GOLDEN / fact / f"{case}.json").read_text())["output"])


class FakeDnf:
    def __init__(self, reboot_code: int = 0) -> None:
        self.argvs: list[list[str]] = []
        self.reboot_code = reboot_code

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> Completed:
        argv = list(argv)
        self.argvs.append(argv)
        if argv[0] == "rpm":
            return Completed(0, golden("rpm_query", "rhel9"), "")
        if argv[0] == "needs-restarting":
            return Completed(self.reboot_code, "", "")
        if "check-update" in argv:
            return Completed(100, golden("dnf_check_update", "rhel9"), "")
        if argv[-3:] == ["updateinfo", "list", "--updates"]:
            return Completed(0, golden("dnf_updateinfo_list", "updates"), "")
        if argv[-3:] == ["updateinfo", "list", "--installed"]:
            return Completed(0, golden("dnf_updateinfo_list", "installed"), "")
        if argv[-3:] == ["updateinfo", "info", "--updates"]:
            return Completed(0, golden("dnf_updateinfo_info", "updates"), "")
        return Completed(0, "Complete!\n", "")


SECURITY_RULE = ApprovalRule((PatchFilter("CLASSIFICATION", ("Security",)),
                              PatchFilter("SEVERITY", ("Critical", "Important"))), "CRITICAL", approve_after_days=7)
BASELINE = Baseline("pb-0123456789abcdef0", "REDHAT_ENTERPRISE_LINUX", (PatchFilter("PRODUCT", ("*",)),),
                    (SECURITY_RULE,), rejected_patches=("kernel*",), rejected_action="BLOCK")
CTX = Context("RedhatEnterpriseLinux9.2", dt.datetime(2024, 1, 10, tzinfo=dt.UTC), debian=False)


def test_dnf_scan_joins_updates_with_their_advisories() -> None:
    dnf = DnfRoot(Path("/"), FakeDnf())
    installed = dnf.installed()
    updates = dnf.upgrades(installed)
    openssl = updates[("openssl", "x86_64")][0]
    assert (openssl.evr, openssl.classification, openssl.severity) == ("1:3.0.7-16.el9_2", "Security", "Important")
    assert openssl.advisory_ids == ("RHSA-2023:3722", "RHSA-2023:5477")  # the most severe first
    assert openssl.cve_ids == ("CVE-2023-0286", "CVE-2023-3817")
    assert openssl.release_date == dt.datetime(2023, 6, 20, 10, 11, 12, tzinfo=dt.UTC)  # the earliest advisory's
    assert openssl.repository == "rhel-9-for-x86_64-baseos-rpms"
    assert installed[("openssl", "x86_64")].classification == "Security"  # its installed version's advisory
    assert ("python3-a-package-with-a-rather-long-name", "noarch") not in updates  # not installed


def test_dnf_scan_gives_awss_states() -> None:
    dnf = DnfRoot(Path("/"), FakeDnf())
    installed = dnf.installed()
    scan = Engine(BASELINE, CTX).scan(installed, dnf.upgrades(installed))
    states = {r.package.name: (r.state, r.package.evr) for r in scan.records}
    assert states == {"openssl": (PatchState.MISSING, "1:3.0.7-16.el9_2"),
                      "kernel": (PatchState.INSTALLED_REJECTED, "5.14.0-362.8.1.el9_3"),
                      "tzdata": (PatchState.INSTALLED_OTHER, "2023c-1.el9"),
                      "bash": (PatchState.INSTALLED_OTHER, "5.1.8-6.el9_1")}


def test_dnf_install_asks_for_exact_versions_with_blocked_packages_excluded(tmp_path: Path) -> None:
    fake = FakeDnf(reboot_code=1)
    dnf = DnfRoot(tmp_path, fake)
    installed = dnf.installed()
    missing = Engine(BASELINE, CTX).scan(installed, dnf.upgrades(installed)).missing()
    output, ok = dnf.install(missing, BASELINE.rejected_patches)
    assert ok and "Complete!" in output
    assert fake.argvs[-1] == ["dnf", "-y", f"--installroot={tmp_path}", "--exclude=kernel*", "install",
                              "openssl-1:3.0.7-16.el9_2.x86_64"]
    assert ["rpm", "--root", str(tmp_path), "-qa", "--queryformat"] == fake.argvs[0][:5]
    assert dnf.reboot_required()


def test_needs_restarting_that_cannot_tell_means_no_reboot() -> None:
    assert not DnfRoot(Path("/"), FakeDnf(reboot_code=2)).reboot_required()
