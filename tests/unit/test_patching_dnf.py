"""The rpm-family path. DnfRoot driven by a fake runner that answers with golden outputs (a RHEL 9 node as
recorded), and DnfRoot running the real dnf and rpm against a throwaway Rocky Linux 9 root with a local
repository and its advisories (tests/support/rpm_root.py): what a scan reads, the states the rules give, what an
install changes in the root's rpm database, the reboot rule for a root, and the root's platform in heartbeats."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from openssm.agent.heartbeat import instance_information
from openssm.agent.patching.commands import Completed
from openssm.agent.patching.dnf import DnfRoot
from openssm.agent.patching.model import ApprovalRule, Baseline, PatchFilter, PatchState
from openssm.agent.patching.rules import Context, Engine
from openssm.agent.plugins.patch_baseline import PatchSettings
from tests.support.rpm_root import Repo, RpmRoot

GOLDEN = Path(__file__).parent.parent / "golden" / "patching"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def golden(fact: str, case: str) -> str:
    return str(json.loads((GOLDEN / fact / f"{case}.json").read_text())["output"])


class FakeDnf:
    def __init__(self, reboot_code: int = 0) -> None:
        self.argvs: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.reboot_code = reboot_code

    def __call__(self, argv: Sequence[str], env: Mapping[str, str]) -> Completed:
        argv = list(argv)
        self.argvs.append(argv)
        self.envs.append(dict(env))
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


def reboot_needed(dnf: DnfRoot) -> bool:
    return dnf.reboot_required(dnf.installed())


def test_dnf_scan_joins_updates_with_their_advisories(tmp_path: Path) -> None:
    dnf = DnfRoot(Path("/"), tmp_path, FakeDnf())
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


def test_dnf_scan_gives_awss_states(tmp_path: Path) -> None:
    dnf = DnfRoot(Path("/"), tmp_path, FakeDnf())
    installed = dnf.installed()
    scan = Engine(BASELINE, CTX).scan(installed, dnf.upgrades(installed))
    states = {r.package.name: (r.state, r.package.evr) for r in scan.records}
    assert states == {"openssl": (PatchState.MISSING, "1:3.0.7-16.el9_2"),
                      "kernel": (PatchState.INSTALLED_REJECTED, "5.14.0-362.8.1.el9_3"),
                      "tzdata": (PatchState.INSTALLED_OTHER, "2023c-1.el9"),
                      "bash": (PatchState.INSTALLED_OTHER, "5.1.8-6.el9_1")}


def test_dnf_on_the_node_itself_asks_for_exact_versions_with_blocked_packages_excluded(tmp_path: Path) -> None:
    fake = FakeDnf(reboot_code=1)
    dnf = DnfRoot(Path("/"), tmp_path, fake)
    installed = dnf.installed()
    missing = Engine(BASELINE, CTX).scan(installed, dnf.upgrades(installed)).missing()
    output, ok = dnf.install(missing, BASELINE.rejected_patches)
    assert ok and "Complete!" in output
    assert fake.argvs[-1] == ["dnf", "-y", "--setopt=*.excludepkgs=kernel*", "install",
                              "openssl-1:3.0.7-16.el9_2.x86_64"]
    assert fake.argvs[0][:3] == ["rpm", "-qa", "--queryformat"]
    assert all(env == {} for env in fake.envs)  # the node's own configuration and rpm database
    assert dnf.reboot_required({})  # on "/", needs-restarting decides


def test_dnf_for_another_root_is_confined_to_it(tmp_path: Path) -> None:
    root, work = tmp_path / "root", tmp_path / "work"
    (root / "etc/dnf").mkdir(parents=True)
    (root / "etc/dnf/dnf.conf").write_text("[main]\n")
    fake = FakeDnf()
    dnf = DnfRoot(root, work, fake)
    dnf.install(dnf.upgrades(dnf.installed())[("openssl", "x86_64")][:1], ["kernel*", "bash.x86_64:0:5.1.8-6.el9_1"])
    assert fake.argvs[-1] == [
        "dnf", "-y", f"--installroot={root}", f"--config={root}/etc/dnf/dnf.conf", "--noplugins",
        f"--setopt=reposdir={root}/etc/yum.repos.d,{root}/etc/yum/repos.d,{root}/etc/distro.repos.d",
        f"--setopt=varsdir={root}/etc/dnf/vars,{root}/etc/yum/vars",
        "--setopt=*.excludepkgs=kernel*,bash-0:5.1.8-6.el9_1.x86_64", "install",
        "openssl-1:3.0.7-16.el9_2.x86_64"]
    assert fake.argvs[0][:3] == ["rpm", "--root", str(root)]
    assert all(env == {"HOME": str(work)} for env in fake.envs)
    assert (work / ".rpmmacros").read_text() == "%_dbpath /var/lib/rpm\n"


def test_a_root_without_dnf_conf_gets_the_distributions_defaults_not_the_hosts(tmp_path: Path) -> None:
    fake = FakeDnf()
    DnfRoot(tmp_path / "root", tmp_path / "work", fake).update()
    assert fake.argvs[-1][3] == f"--config={tmp_path}/work/dnf.conf"
    assert "gpgcheck=1" in (tmp_path / "work/dnf.conf").read_text()


def test_needs_restarting_that_cannot_tell_means_no_reboot(tmp_path: Path) -> None:
    assert not DnfRoot(Path("/"), tmp_path, FakeDnf(reboot_code=2)).reboot_required({})


OLD = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")


@pytest.fixture(scope="module")
def rocky_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """alpha: 1.1 Important, 1.2 Moderate; beta 1.1 Critical; gamma 1.1 bugfix; delta 1.1 Low; zeta 1.1 Important
    but needs beta 1.1; epsilon has no update, its installed version came with an Important advisory."""
    base = tmp_path_factory.mktemp("rocky-repo")
    repo = Repo(base / "repo", base / "rpmbuild")
    old = {name: repo.add(name, "1.0") for name in OLD}
    alpha11, alpha12 = repo.add("alpha", "1.1"), repo.add("alpha", "1.2")
    repo.advise("RLSA-2024:0001", "security", [alpha11], "Important", cves=["CVE-2024-0001"], bugs=["2000001"])
    repo.advise("RLSA-2024:0002", "security", [alpha12], "Moderate", cves=["CVE-2024-0002"],
                issued="2024-02-01 00:00:00")
    repo.advise("RLSA-2024:0003", "security", [repo.add("beta", "1.1")], "Critical")
    repo.advise("RLBA-2024:0004", "bugfix", [repo.add("gamma", "1.1")])
    repo.advise("RLSA-2024:0005", "security", [repo.add("delta", "1.1")], "Low")
    repo.advise("RLSA-2023:0100", "security", [old["epsilon"]], "Important")
    repo.advise("RLSA-2024:0006", "security", [repo.add("zeta", "1.1", requires="beta >= 1.1")], "Important")
    repo.publish()
    return repo


@pytest.fixture
def rocky(rocky_repo: Repo, tmp_path: Path) -> RpmRoot:
    root = RpmRoot.make(tmp_path, rocky_repo)
    root.install(*((name, "1.0-1.el9") for name in OLD))
    return root


ROCKY_RULE = ApprovalRule((PatchFilter("CLASSIFICATION", ("Security",)),
                           PatchFilter("SEVERITY", ("Critical", "Important"))), "CRITICAL", approve_after_days=0)


def rocky_baseline(action: str = "BLOCK") -> Baseline:
    return Baseline("pb-0123456789abcdef1", "ROCKY_LINUX", (PatchFilter("PRODUCT", ("RockyLinux9*",)),),
                    (ROCKY_RULE,), rejected_patches=("beta",), rejected_action=action)


def test_real_dnf_reads_the_roots_rpm_database_and_the_repositorys_advisories(rocky: RpmRoot, tmp_path: Path) -> None:
    dnf = DnfRoot(rocky.root, tmp_path / "work")
    dnf.update()
    installed = dnf.installed()
    assert {name: p.evr for (name, _), p in installed.items()} == rocky.installed()
    assert (installed[("epsilon", "noarch")].classification, installed[("epsilon", "noarch")].severity) == (
        "Security", "Important")
    updates = dnf.upgrades(installed)
    alpha = updates[("alpha", "noarch")]
    assert [(p.evr, p.severity, p.advisory_ids, p.cve_ids) for p in alpha] == [
        ("1.2-1.el9", "Moderate", ("RLSA-2024:0002",), ("CVE-2024-0002",)),
        ("1.1-1.el9", "Important", ("RLSA-2024:0001",), ("CVE-2024-0001",))]
    assert (alpha[1].bugzilla_ids, alpha[1].repository, alpha[1].release_date) == (
        ("2000001",), "rocky-local", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    assert updates[("gamma", "noarch")][0].classification == "Bugfix"
    assert ("epsilon", "noarch") not in updates


def test_real_scan_gives_awss_states_by_classification_and_severity(rocky: RpmRoot, tmp_path: Path) -> None:
    dnf = DnfRoot(rocky.root, tmp_path / "work")
    dnf.update()
    installed = dnf.installed()
    scan = Engine(rocky_baseline(), Context("RockyLinux9.3", NOW, debian=False)).scan(
        installed, dnf.upgrades(installed))
    assert {r.package.name: (r.state, r.package.evr, r.severity) for r in scan.records} == {
        "alpha": (PatchState.MISSING, "1.1-1.el9", "CRITICAL"),  # 1.2 is only Moderate
        "beta": (PatchState.INSTALLED_REJECTED, "1.0-1.el9", "UNSPECIFIED"),
        "gamma": (PatchState.INSTALLED_OTHER, "1.0-1.el9", "UNSPECIFIED"),  # a bugfix
        "delta": (PatchState.INSTALLED_OTHER, "1.0-1.el9", "UNSPECIFIED"),  # Low
        "epsilon": (PatchState.INSTALLED, "1.0-1.el9", "CRITICAL"),
        "zeta": (PatchState.MISSING, "1.1-1.el9", "CRITICAL")}


def test_real_install_upgrades_exactly_the_versions_asked_for(rocky: RpmRoot, tmp_path: Path) -> None:
    dnf = DnfRoot(rocky.root, tmp_path / "work")
    dnf.update()
    alpha11 = dnf.upgrades(dnf.installed())[("alpha", "noarch")][1]
    output, ok = dnf.install([alpha11], ["beta"])
    assert ok, output
    assert rocky.installed() == {"alpha": "1.1-1.el9", "beta": "1.0-1.el9", "gamma": "1.0-1.el9",
                                 "delta": "1.0-1.el9", "epsilon": "1.0-1.el9", "zeta": "1.0-1.el9"}


@pytest.mark.parametrize(("blocked", "installs"), [
    (("beta",), False), (("beta.noarch:0:1.1-1.el9",), False),  # AWS's Title spelling, as dnf cannot take it
    (("beta-1.0*",), True),  # the installed version only: it may still be upgraded
    ((), True)])  # ALLOW_AS_DEPENDENCY: nothing blocked
def test_a_blocked_rejected_package_is_not_installed_even_as_a_dependency(
        rocky: RpmRoot, tmp_path: Path, blocked: tuple[str, ...], installs: bool) -> None:
    dnf = DnfRoot(rocky.root, tmp_path / "work")
    dnf.update()
    zeta = dnf.upgrades(dnf.installed())[("zeta", "noarch")][0]
    output, ok = dnf.install([zeta], blocked)
    assert ok is installs, output
    after = rocky.installed()
    assert (after["zeta"], after["beta"]) == (("1.1-1.el9", "1.1-1.el9") if installs else ("1.0-1.el9", "1.0-1.el9"))


def test_another_root_needs_a_reboot_when_a_core_package_was_installed_since_boot(tmp_path: Path) -> None:
    root = RpmRoot.make(tmp_path)
    root.repo.add("glibc", "2.34", release="100.el9")
    root.repo.add("tools", "1.0")
    root.repo.publish()
    root.install(("tools", "1.0-1.el9"))
    before = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert not reboot_needed(DnfRoot(root.root, tmp_path / "work", booted=before))
    root.install(("glibc", "2.34-100.el9"))
    assert reboot_needed(DnfRoot(root.root, tmp_path / "work", booted=before))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert not reboot_needed(DnfRoot(root.root, tmp_path / "work", booted=later))


def test_the_heartbeat_reports_the_package_roots_platform(tmp_path: Path) -> None:
    root = RpmRoot.make(tmp_path)
    reported = instance_information("mi-0123456789abcdef0", "ssmmessages", str(PatchSettings(root.root).os_release))
    assert (reported["PlatformType"], reported["PlatformName"], reported["PlatformVersion"]) == (
        "Linux", "Rocky Linux", "9.3")
    assert PatchSettings(tmp_path / "empty").os_release == Path("/etc/os-release")  # a root without one: the host's
