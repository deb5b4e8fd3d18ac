"""The rules a patch baseline obeys per operating system, how a node's reported platform maps to an operating
system and product, and DescribePatchProperties' tables."""

from __future__ import annotations

import datetime as dt

import pytest

from openssm.errors import ValidationError
from openssm.services import patch_baseline_rules, patch_baselines_predefined, patch_properties
from openssm.services.patch_baseline_model import BaselineSpec, PatchFilter, PatchRule, PatchSource
from openssm.services.patch_platforms import OperatingSystem, UnsupportedOperatingSystem, platform_of

OS = OperatingSystem
NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def rule(*filters: tuple[str, tuple[str, ...]], **kw: object) -> PatchRule:
    return PatchRule(tuple(PatchFilter(k, v) for k, v in filters), **kw)  # type: ignore[arg-type]


def check(os_name: OperatingSystem, **kw: object) -> None:
    patch_baseline_rules.check(BaselineSpec(name="b", operating_system=os_name, **kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(("os_name", "key", "value"), [
    (OS.WINDOWS, "PATCH_SET", "APPLICATION"), (OS.WINDOWS, "MSRC_SEVERITY", "Critical"),
    (OS.WINDOWS, "PRODUCT_FAMILY", "Office"), (OS.UBUNTU, "SECTION", "python"), (OS.DEBIAN, "PRIORITY", "Required"),
    (OS.REDHAT_ENTERPRISE_LINUX, "SEVERITY", "Moderate"), (OS.AMAZON_LINUX_2023, "CLASSIFICATION", "Bugfix"),
    (OS.ROCKY_LINUX, "PRODUCT", "RockyLinux9.2"), (OS.SUSE, "CLASSIFICATION", "Recommended"),
    (OS.MACOS, "CLASSIFICATION", "Security"), (OS.DEBIAN, "PRODUCT", "*"),
])
def test_each_operating_system_accepts_its_own_filter_keys_and_values(os_name: OperatingSystem, key: str,
                                                                       value: str) -> None:
    days = {} if os_name in (OS.DEBIAN, OS.UBUNTU) else {"approve_after_days": 7}
    check(os_name, global_filters=(PatchFilter(key, (value,)),), approval_rules=(rule((key, (value,)), **days),))


@pytest.mark.parametrize(("os_name", "key"), [
    (OS.WINDOWS, "SEVERITY"), (OS.UBUNTU, "CLASSIFICATION"), (OS.DEBIAN, "MSRC_SEVERITY"),
    (OS.AMAZON_LINUX_2, "PRIORITY"), (OS.CENTOS, "SECTION"), (OS.MACOS, "SEVERITY"), (OS.SUSE, "ARCH"),
])
def test_a_filter_key_another_operating_system_uses_is_refused(os_name: OperatingSystem, key: str) -> None:
    with pytest.raises(ValidationError, match=f"Invalid Filter Key: {key} in GlobalFilters for OperatingSystem"):
        check(os_name, global_filters=(PatchFilter(key, ("*",)),))


def test_filter_values_must_be_known_or_a_wildcard_and_keys_appear_once() -> None:
    with pytest.raises(ValidationError, match="Invalid Filter Value: Urgent for Key: PRIORITY, valid values are: "
                                              "Required, Important, Standard, Optional, Extra"):
        check(OS.DEBIAN, global_filters=(PatchFilter("PRIORITY", ("Urgent",)),))
    with pytest.raises(ValidationError, match="Invalid Filter Value: Debian99 for Key: PRODUCT"):
        check(OS.DEBIAN, global_filters=(PatchFilter("PRODUCT", ("Debian99",)),))
    with pytest.raises(ValidationError, match="more than once"):
        check(OS.DEBIAN, global_filters=(PatchFilter("PRODUCT", ("*",)), PatchFilter("PRODUCT", ("Debian12",))))


def test_rules_outside_apt_need_exactly_one_of_a_delay_or_a_cut_off_date() -> None:
    check(OS.REDHAT_ENTERPRISE_LINUX, approval_rules=(rule(approve_until_date="2026-12-31"),))
    for kw in ({}, {"approve_after_days": 7, "approve_until_date": "2026-12-31"}):
        with pytest.raises(ValidationError, match="either ApproveAfterDays or ApproveUntilDate"):
            check(OS.REDHAT_ENTERPRISE_LINUX, approval_rules=(rule(**kw),))
    for bad in ("2026-13-01", "20261231", "31/12/2026"):
        with pytest.raises(ValidationError, match="YYYY-MM-DD"):
            check(OS.WINDOWS, approval_rules=(rule(approve_until_date=bad),))


def test_apt_systems_need_no_delay_as_their_repositories_have_no_release_dates() -> None:
    check(OS.UBUNTU, approval_rules=(rule(), rule(approve_after_days=7), rule(approve_until_date="2026-12-31")))
    with pytest.raises(ValidationError, match="but not both"):
        check(OS.DEBIAN, approval_rules=(rule(approve_after_days=7, approve_until_date="2026-12-31"),))


def test_non_security_updates_and_sources_are_for_linux_only() -> None:
    check(OS.AMAZON_LINUX_2, approval_rules=(rule(approve_after_days=0, enable_non_security=True),),
          approved_patches_enable_non_security=True,
          sources=(PatchSource("extras", ("AmazonLinux2",), "[extras]\nbaseurl=https://example.com"),))
    with pytest.raises(ValidationError, match="EnableNonSecurity is supported for Linux"):
        check(OS.WINDOWS, approval_rules=(rule(approve_after_days=0, enable_non_security=True),))
    with pytest.raises(ValidationError, match="ApprovedPatchesEnableNonSecurity"):
        check(OS.MACOS, approved_patches_enable_non_security=True)
    with pytest.raises(ValidationError, match="Sources are supported for Linux"):
        check(OS.WINDOWS, sources=(PatchSource("s", ("WindowsServer2019",), "x"),))
    with pytest.raises(ValidationError, match="product Debian99"):
        check(OS.DEBIAN, sources=(PatchSource("s", ("Debian99",), "deb http://x y main"),))
    with pytest.raises(ValidationError, match="unique Name"):
        check(OS.DEBIAN, sources=(PatchSource("s", ("Debian12",), "a"), PatchSource("s", ("Debian11",), "b")))
    with pytest.raises(ValidationError, match="WINDOWS operating system only"):
        check(OS.DEBIAN, available_security_updates_compliance_status="NON_COMPLIANT")


def test_patch_lists_follow_each_operating_systems_name_format() -> None:
    check(OS.WINDOWS, approved_patches=("KB2032276", "MS10-047"), rejected_patches=("KB4470788",))
    check(OS.WINDOWS, approved_patches=("KB2032276,MS10-048",))  # as the user guide's CLI example sends them
    check(OS.AMAZON_LINUX_2, approved_patches=("kernel-headers", "php*", "openssl-1:1.0.2k-19.amzn2.x86_64"))
    check(OS.UBUNTU, rejected_patches=("apache2", "libc6_2.35-0ubuntu3"))
    with pytest.raises(ValidationError, match="KB article"):
        check(OS.WINDOWS, approved_patches=("kernel",))
    with pytest.raises(ValidationError, match="The patch kernel in ApprovedPatches"):
        check(OS.WINDOWS, approved_patches=("KB2032276,kernel",))
    with pytest.raises(ValidationError, match="isn't valid for operating system DEBIAN"):
        check(OS.DEBIAN, rejected_patches=("bad name; rm -rf",))
    with pytest.raises(ValidationError, match="duplicate"):
        check(OS.DEBIAN, rejected_patches=("curl", "curl"))


@pytest.mark.parametrize(("kind", "name", "version", "os_name", "product"), [
    ("Linux", "Debian GNU/Linux", "12", OS.DEBIAN, "Debian12"),
    ("Linux", "Ubuntu", "22.04", OS.UBUNTU, "Ubuntu22.04"),
    ("Linux", "Red Hat Enterprise Linux", "9.2", OS.REDHAT_ENTERPRISE_LINUX, "RedhatEnterpriseLinux9.2"),
    ("Linux", "Amazon Linux", "2023", OS.AMAZON_LINUX_2023, "AmazonLinux2023"),
    ("Linux", "Amazon Linux", "2", OS.AMAZON_LINUX_2, "AmazonLinux2"),
    ("Linux", "Amazon Linux AMI", "2018.03", OS.AMAZON_LINUX, "AmazonLinux2018.03"),
    ("Linux", "Rocky Linux", "9.3", OS.ROCKY_LINUX, "RockyLinux9.3"),
    ("Linux", "AlmaLinux", "8.9", OS.ALMA_LINUX, "AlmaLinux8.9"),
    ("Linux", "CentOS Stream", "9", OS.CENTOS, "CentOSStream9"),
    ("Linux", "Oracle Linux Server", "8.7", OS.ORACLE_LINUX, "OracleLinux8.7"),
    ("Linux", "SLES", "15.4", OS.SUSE, "Suse15.4"),
    ("Windows", "Microsoft Windows Server 2019 Datacenter", "10.0.17763", OS.WINDOWS, "WindowsServer2019"),
    ("Windows", "Microsoft Windows Server 2012 R2 Standard", "6.3.9600", OS.WINDOWS, "WindowsServer2012R2"),
    ("MacOS", "macOS", "13.4", OS.MACOS, "MacOS13.4"),
])
def test_a_nodes_platform_gives_its_operating_system_and_product(kind: str, name: str, version: str,
                                                                 os_name: OperatingSystem, product: str) -> None:
    assert platform_of(kind, name, version) == (os_name, product)
    assert product in (patch_properties.values(os_name, "PRODUCT") or ())


@pytest.mark.parametrize(("kind", "name", "version"), [
    ("Linux", "Gentoo", "2.14"), (None, None, None), ("Linux", "Debian GNU/Linux", ""),
    ("Windows", "Microsoft Windows 11 Pro", "10.0"),
])
def test_an_unknown_platform_is_an_unsupported_operating_system(kind: str | None, name: str | None,
                                                                version: str | None) -> None:
    with pytest.raises(UnsupportedOperatingSystem):
        platform_of(kind, name, version)


def test_patch_properties_come_per_operating_system_and_patch_set() -> None:
    os_products = patch_properties.properties(OS.WINDOWS, "PRODUCT", None)
    assert {"Name": "WindowsServer2019", "ProductFamily": "Windows"} in os_products
    applications = patch_properties.properties(OS.WINDOWS, "PRODUCT", "APPLICATION")
    assert {"Name": "Office 2016", "ProductFamily": "Office"} in applications
    assert {"Name": "Important"} in patch_properties.properties(OS.WINDOWS, "MSRC_SEVERITY", None)
    assert [p["Name"] for p in patch_properties.properties(OS.UBUNTU, "PRIORITY", None)] == [
        "Required", "Important", "Standard", "Optional", "Extra"]
    assert {"Name": "Debian12"} in patch_properties.properties(OS.DEBIAN, "PRODUCT", None)
    with pytest.raises(ValidationError, match="PatchSet"):
        patch_properties.properties(OS.DEBIAN, "PRODUCT", "OS")
    with pytest.raises(ValidationError, match="MSRC_SEVERITY is not supported"):
        patch_properties.properties(OS.DEBIAN, "MSRC_SEVERITY", None)


def test_windows_products_must_belong_to_the_product_families_named_beside_them() -> None:
    check(OS.WINDOWS, approval_rules=(rule(
        ("PRODUCT_FAMILY", ("Active Directory",)), ("PRODUCT", ("Active Directory Rights Management Services Client 2.0",)),
        ("PATCH_SET", ("APPLICATION",)), approve_after_days=5),))
    with pytest.raises(ValidationError, match="isn't a member of the product families Office"):
        check(OS.WINDOWS, approval_rules=(rule(
            ("PRODUCT_FAMILY", ("Office",)), ("PRODUCT", ("SQL Server 2019",)), approve_after_days=5),))


def test_awss_own_baselines_obey_the_rules_a_copy_of_them_must_obey() -> None:
    for baseline in patch_baselines_predefined.all_in("eu-west-1"):
        patch_baseline_rules.check(baseline.spec)
    ubuntu = next(b for b in patch_baselines_predefined.all_in("eu-west-1")
                  if b.spec.name == "AWS-UbuntuDefaultPatchBaseline")
    assert ubuntu.spec.global_filters == (PatchFilter("PRODUCT", ("*",)),)
    assert ubuntu.spec.approval_rules[0].filters == (
        PatchFilter("PRIORITY", ("Required", "Important", "Standard", "Optional", "Extra")),)
