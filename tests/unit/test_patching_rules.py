"""The patch baseline's rules applied to packages: AWS's patch states, the approved and rejected lists in
AWS's name formats, filters per OS, release dates, EnableNonSecurity and compliance levels."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from openssm.agent.patching.model import (
    ApprovalRule,
    Baseline,
    Package,
    PatchFilter,
    PatchState,
    baseline_from_json,
)
from openssm.agent.patching.names import matches
from openssm.agent.patching.rules import Context, Engine, classify_one

NOW = dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC)
DEBIAN = Context("Debian12", NOW, debian=True)
RHEL = Context("RedhatEnterpriseLinux9.2", NOW, debian=False)


def deb(name: str, version: str, *, security: bool = False, section: str = "admin",
        priority: str = "optional") -> Package:
    return Package(name, "all", "0", version, section=section, priority=priority, security=security,
                   classification="Security" if security else "",
                   repository="bookworm-security" if security else "bookworm")


def rpm(name: str, version: str, release: str, *, classification: str = "", severity: str = "",
        released: dt.datetime | None = None, cves: tuple[str, ...] = (), advisories: tuple[str, ...] = ()) -> Package:
    return Package(name, "x86_64", "0", version, release, classification=classification, severity=severity,
                   security=classification == "Security", release_date=released, cve_ids=cves,
                   advisory_ids=advisories)


def rule(*filters: tuple[str, list[str]], level: str = "UNSPECIFIED", non_security: bool = False,
         after: int | None = None, until: dt.date | None = None) -> ApprovalRule:
    return ApprovalRule(tuple(PatchFilter(k, tuple(v)) for k, v in filters), level, after, until, non_security)


def baseline(*rules: ApprovalRule, os: str = "DEBIAN", **kw: object) -> Baseline:
    return Baseline("pb-0123456789abcdef0", os, (PatchFilter("PRODUCT", ("*",)),), rules, **kw)  # type: ignore[arg-type]


ALL_DEBIAN = rule(("PRIORITY", ["Required", "Important", "Standard", "Optional", "Extra"]), level="HIGH")


def test_security_update_approved_by_a_rule_is_missing_with_the_rules_level() -> None:
    record = classify_one(baseline(ALL_DEBIAN), deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert (record.state, record.package.version, record.severity) == (PatchState.MISSING, "1.1-1", "HIGH")
    assert not record.compliant


def test_without_enable_non_security_only_security_suite_versions_are_candidates() -> None:
    updates = [deb("a", "1.2-1"), deb("a", "1.1-1", security=True)]
    assert classify_one(baseline(ALL_DEBIAN), deb("a", "1.0-1"), updates, DEBIAN).package.version == "1.1-1"
    with_non_security = replace(ALL_DEBIAN, enable_non_security=True)
    assert classify_one(baseline(with_non_security), deb("a", "1.0-1"), updates, DEBIAN).package.version == "1.2-1"


def test_a_non_security_update_alone_leaves_the_package_installed() -> None:
    record = classify_one(baseline(ALL_DEBIAN), deb("a", "1.0-1"), [deb("a", "1.2-1")], DEBIAN)
    assert (record.state, record.package.version) == (PatchState.INSTALLED, "1.0-1")


def test_installed_package_no_rule_approves_is_installed_other() -> None:
    only_libs = rule(("SECTION", ["libs"]), level="LOW")
    record = classify_one(baseline(only_libs), deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert (record.state, record.severity, record.compliant) == (PatchState.INSTALLED_OTHER, "UNSPECIFIED", True)


def test_section_filter_matches_the_section_after_its_component() -> None:
    net = rule(("SECTION", ["net"]))
    record = classify_one(baseline(net), deb("n", "1", section="contrib/net"), [], DEBIAN)
    assert record.state == PatchState.INSTALLED


def test_global_filters_hold_back_what_rules_approve() -> None:
    rules = baseline(ALL_DEBIAN)
    other_product = replace(rules, global_filters=(PatchFilter("PRODUCT", ("Debian11",)),))
    record = classify_one(other_product, deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert record.state == PatchState.INSTALLED_OTHER


@pytest.mark.parametrize(("action", "state", "compliant"), [
    ("BLOCK", PatchState.INSTALLED_REJECTED, False), ("ALLOW_AS_DEPENDENCY", PatchState.INSTALLED_OTHER, True)])
def test_installed_rejected_package_state_depends_on_the_rejected_action(action: str, state: PatchState,
                                                                         compliant: bool) -> None:
    rules = baseline(ALL_DEBIAN, rejected_patches=("a",), rejected_action=action)
    record = classify_one(rules, deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert (record.state, record.compliant) == (state, compliant)


def test_rejected_version_is_never_a_candidate_but_an_older_approved_one_is() -> None:
    rules = baseline(ALL_DEBIAN, rejected_patches=("a=1.2-1",), rejected_action="BLOCK")
    updates = [deb("a", "1.2-1", security=True), deb("a", "1.1-1", security=True)]
    record = classify_one(rules, deb("a", "1.0-1"), updates, DEBIAN)
    assert (record.state, record.package.version) == (PatchState.MISSING, "1.1-1")


def test_approved_list_approves_without_rules_with_its_own_level_and_security_switch() -> None:
    listed = baseline(approved_patches=("a",), approved_compliance_level="CRITICAL")
    security = classify_one(listed, deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert (security.state, security.severity) == (PatchState.MISSING, "CRITICAL")
    plain = classify_one(listed, deb("a", "1.0-1"), [deb("a", "1.1-1")], DEBIAN)
    assert plain.state == PatchState.INSTALLED
    enabled = replace(listed, approved_enable_non_security=True)
    assert classify_one(enabled, deb("a", "1.0-1"), [deb("a", "1.1-1")], DEBIAN).state == PatchState.MISSING


def test_most_severe_level_wins_when_several_approvals_hold() -> None:
    rules = baseline(rule(("PRIORITY", ["optional"]), level="LOW"), rule(("SECTION", ["admin"]), level="MEDIUM"),
                     approved_patches=("a",), approved_compliance_level="INFORMATIONAL")
    record = classify_one(rules, deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], DEBIAN)
    assert record.severity == "MEDIUM"


def test_failed_and_pending_reboot_come_from_the_install() -> None:
    rules = baseline(ALL_DEBIAN)
    failed = replace(DEBIAN, failed=frozenset({("a", "all")}))
    assert classify_one(rules, deb("a", "1.0-1"), [deb("a", "1.1-1", security=True)], failed).state == \
        PatchState.FAILED
    pending = replace(DEBIAN, pending_reboot=frozenset({("a", "all")}))
    record = classify_one(rules, deb("a", "1.1-1"), [], pending)
    assert (record.state, record.compliant) == (PatchState.INSTALLED_PENDING_REBOOT, False)


def test_rhel_rules_filter_on_classification_and_severity() -> None:
    critical_security = rule(("CLASSIFICATION", ["Security"]), ("SEVERITY", ["Critical", "Important"]),
                             level="CRITICAL", after=7)
    rules = baseline(critical_security, os="REDHAT_ENTERPRISE_LINUX")
    released = NOW - dt.timedelta(days=10)
    important = rpm("openssl", "3.0.7", "16.el9", classification="Security", severity="Important", released=released)
    moderate = replace(important, severity="Moderate")
    assert classify_one(rules, rpm("openssl", "3.0.7", "6.el9"), [important], RHEL).state == PatchState.MISSING
    assert classify_one(rules, rpm("openssl", "3.0.7", "6.el9"), [moderate], RHEL).state == \
        PatchState.INSTALLED_OTHER


def test_approve_after_days_and_until_date_hold_recent_patches_back() -> None:
    fresh = rpm("k", "5", "2", classification="Security", severity="Important",
                released=NOW - dt.timedelta(days=3))
    seven_days = baseline(rule(("CLASSIFICATION", ["Security"]), after=7), os="REDHAT_ENTERPRISE_LINUX")
    assert classify_one(seven_days, rpm("k", "5", "1"), [fresh], RHEL).state == PatchState.INSTALLED_OTHER
    until_before = baseline(rule(("CLASSIFICATION", ["Security"]), until=dt.date(2024, 5, 1)),
                            os="REDHAT_ENTERPRISE_LINUX")
    assert classify_one(until_before, rpm("k", "5", "1"), [fresh], RHEL).state == PatchState.INSTALLED_OTHER
    until_after = replace(until_before, rules=(rule(("CLASSIFICATION", ["Security"]), until=dt.date(2024, 6, 1)),))
    assert classify_one(until_after, rpm("k", "5", "1"), [fresh], RHEL).state == PatchState.MISSING


def test_rpm_update_without_advisory_needs_enable_non_security() -> None:
    bare = rpm("tool", "2", "1")
    rules = baseline(rule(("CLASSIFICATION", ["*"])), os="REDHAT_ENTERPRISE_LINUX")
    assert classify_one(rules, rpm("tool", "1", "1"), [bare], RHEL).state != PatchState.MISSING
    enabled = baseline(rule(("CLASSIFICATION", ["*"]), non_security=True), os="REDHAT_ENTERPRISE_LINUX")
    assert classify_one(enabled, rpm("tool", "1", "1"), [bare], RHEL).state == PatchState.MISSING


@pytest.mark.parametrize("entry", [
    "dbus", "dbus.x86_64", "dbus-1.12.28", "dbus-1.12.28-1.amzn2023.0.1", "dbus-1.12.28-1.amzn2023.0.1.x86_64",
    "1.12.28", "1.12.28-1.amzn2023.0.1", "1:1.12.28-1.amzn2023.0.1", "dbus-1:1.12.28-1.amzn2023.0.1",
    "dbus-1:1.12.28-1.amzn2023.0.1.x86_64", "1:dbus-1.12.28-1.amzn2023.0.1.x86_64",
    "dbus.x86_64:1:1.12.28-1.amzn2023.0.1", "dbus*", "dbus-1.12.2*", "dbus-*:1.12.28-1.amzn2023.0.1.x86_64",
    "CVE-2023-1234", "ALAS2023-2023-123", "1234567"])
def test_rpm_names_match_in_each_of_awss_formats(entry: str) -> None:
    package = Package("dbus", "x86_64", "1", "1.12.28", "1.amzn2023.0.1", cve_ids=("CVE-2023-1234",),
                      advisory_ids=("ALAS2023-2023-123",), bugzilla_ids=("1234567",))
    assert matches([entry], package, debian=False)


@pytest.mark.parametrize("entry", ["dbus-daemon", "dbus.noarch", "dbus-1.12.29", "CVE-2023-9999", "7654321"])
def test_rpm_names_that_name_something_else_do_not_match(entry: str) -> None:
    package = Package("dbus", "x86_64", "1", "1.12.28", "1.amzn2023.0.1", cve_ids=("CVE-2023-1234",))
    assert not matches([entry], package, debian=False)


@pytest.mark.parametrize(("entry", "expected"), [
    ("libssl3", True), ("libssl*", True), ("libssl3:amd64", True), ("libssl3:i386", False),
    ("libssl3=3.0.13-1~deb12u1", True), ("libssl3=3.0.11*", False), ("openssl", False), ("", False)])
def test_debian_names_match_package_names_with_optional_arch_and_version(entry: str, expected: bool) -> None:
    package = Package("libssl3", "amd64", "0", "3.0.13-1~deb12u1")
    assert matches([entry], package, debian=True) is expected


def test_baseline_is_read_from_get_patch_baseline_fields() -> None:
    parsed = baseline_from_json({
        "BaselineId": "pb-0123456789abcdef0", "OperatingSystem": "DEBIAN",
        "GlobalFilters": {"PatchFilters": [{"Key": "PRODUCT", "Values": ["Debian12"]}]},
        "ApprovalRules": {"PatchRules": [{"PatchFilterGroup": {"PatchFilters": [{"Key": "PRIORITY",
                                                                                 "Values": ["Required"]}]},
                                          "ComplianceLevel": "HIGH", "ApproveUntilDate": "2024-05-01",
                                          "EnableNonSecurity": True}]},
        "ApprovedPatches": ["a"], "RejectedPatches": ["b"], "RejectedPatchesAction": "BLOCK"})
    assert parsed.rules[0] == ApprovalRule((PatchFilter("PRIORITY", ("Required",)),), "HIGH", None,
                                           dt.date(2024, 5, 1), True)
    assert (parsed.approved_patches, parsed.rejected_patches, parsed.rejected_action) == (("a",), ("b",), "BLOCK")


def test_unreadable_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be read"):
        baseline_from_json({"ApprovalRules": {"PatchRules": [{"ApproveAfterDays": "soon"}]}})


def test_engine_scans_every_installed_package_in_name_order() -> None:
    installed = {("b", "all"): deb("b", "1"), ("a", "all"): deb("a", "1")}
    scan = Engine(baseline(ALL_DEBIAN), DEBIAN).scan(installed, {("a", "all"): [deb("a", "2", security=True)]})
    assert [(r.package.name, r.state) for r in scan.records] == [("a", PatchState.MISSING),
                                                                 ("b", PatchState.INSTALLED)]
    assert scan.count(PatchState.MISSING) == 1 and scan.missing()[0].version == "2"
