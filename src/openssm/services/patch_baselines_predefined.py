"""AWS's predefined patch baselines: their names, ids, the rules AWS's user guide ("Predefined baselines") gives
them, and which one is each operating system's default.

They are the same in every account. AWS owns them from one account per Region and gives them other ids in each
Region: us-east-1's (account 075727635805) and the few of us-east-2 (733109147000) that AWS's documents show are
used where known; elsewhere OpenSSM names the us-east-1 id under the Region's ARN, and made-up ids stand for the
three baselines whose ids are published nowhere (two Windows ones and Raspberry Pi OS's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from openssm.services.patch_baseline_model import (
    AWS_OWNER,
    BaselineSpec,
    PatchBaseline,
    PatchFilter,
    PatchRule,
    baseline_arn,
)
from openssm.services.patch_platforms import OperatingSystem

OS = OperatingSystem
AWS_BASELINE_ACCOUNT = "075727635805"
_RELEASED = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)  # AWS does not publish when each was made


def _f(key: str, *values: str) -> PatchFilter:
    return PatchFilter(key, values)


def _rule(*filters: PatchFilter, days: int = 7, non_security: bool = False) -> PatchRule:
    return PatchRule(filters, "UNSPECIFIED", days, None, non_security)


# AWS's Linux baselines filter PRODUCT * globally and approve by classification and severity (or priority);
# the Ubuntu one as a node's snapshot shows it: one PRIORITY rule with ApproveAfterDays 7 (moot on APT).
_ANY_PRODUCT = (_f("PRODUCT", "*"),)
_SECURITY_AND_BUGFIX = (
    _rule(_f("CLASSIFICATION", "Security"), _f("SEVERITY", "Critical", "Important")),
    _rule(_f("CLASSIFICATION", "Bugfix")),
)
_APT = (_rule(_f("PRIORITY", "Required", "Important", "Standard", "Optional", "Extra")),)
_WINDOWS_OS = _rule(_f("PATCH_SET", "OS"), _f("PRODUCT", "*"),
                    _f("CLASSIFICATION", "CriticalUpdates", "SecurityUpdates"),
                    _f("MSRC_SEVERITY", "Critical", "Important"))
_WINDOWS_APPLICATIONS = _rule(_f("PATCH_SET", "APPLICATION"), _f("PRODUCT_FAMILY", "*"), _f("PRODUCT", "*"),
                              _f("CLASSIFICATION", "*"), _f("MSRC_SEVERITY", "*"))


@dataclass(frozen=True)
class Predefined:
    short_id: str
    name: str
    operating_system: OperatingSystem
    description: str
    rules: tuple[PatchRule, ...]
    default: bool = True  # the operating system's default when the account registered none
    global_filters: tuple[PatchFilter, ...] = _ANY_PRODUCT
    created: dt.datetime = _RELEASED


PREDEFINED: tuple[Predefined, ...] = (
    Predefined("pb-09ca3fb51f0412ec3", "AWS-DefaultPatchBaseline", OS.WINDOWS,
               "Default Patch Baseline Provided by AWS.", (_WINDOWS_OS,), global_filters=()),
    Predefined("pb-0a8d8b7c6e5f4a3b2", "AWS-WindowsPredefinedPatchBaseline-OS", OS.WINDOWS,
               "Windows Predefined Patch Baseline for OS Updates Provided by AWS.", (_WINDOWS_OS,), default=False,
               global_filters=()),
    Predefined("pb-0b9e9c8d7f6a5b4c3", "AWS-WindowsPredefinedPatchBaseline-OS-Applications", OS.WINDOWS,
               "Windows Predefined Patch Baseline for OS and Application Updates Provided by AWS.",
               (_WINDOWS_OS, _WINDOWS_APPLICATIONS), default=False, global_filters=()),
    Predefined("pb-0c10e657807c7a700", "AWS-AmazonLinuxDefaultPatchBaseline", OS.AMAZON_LINUX,
               "Default Patch Baseline for Amazon Linux Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-0be8c61cde3be63f3", "AWS-AmazonLinux2DefaultPatchBaseline", OS.AMAZON_LINUX_2,
               "Baseline containing all Security and Bugfix updates approved for Amazon Linux 2 instances",
               _SECURITY_AND_BUGFIX),
    Predefined("pb-0028ca011460d5eaf", "AWS-AmazonLinux2022DefaultPatchBaseline", OS.AMAZON_LINUX_2022,
               "Default Patch Baseline for Amazon Linux 2022 Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-05c9c9bf778d4c4d0", "AWS-AmazonLinux2023DefaultPatchBaseline", OS.AMAZON_LINUX_2023,
               "Default Patch Baseline for Amazon Linux 2023 Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-0c7e89f711c3095f4", "AWS-UbuntuDefaultPatchBaseline", OS.UBUNTU,
               "Default Patch Baseline for Ubuntu Provided by AWS.", _APT,
               created=dt.datetime(2018, 5, 1, 17, 13, 20, 68000, tzinfo=dt.UTC)),
    Predefined("pb-09a5f8eb62bde80b1", "AWS-DebianDefaultPatchBaseline", OS.DEBIAN,
               "Default Patch Baseline for Debian Provided by AWS.", _APT),
    Predefined("pb-0d1e2f3a4b5c6d7e8", "AWS-DefaultRaspbianPatchBaseline", OS.RASPBIAN,
               "Default Patch Baseline for Raspbian Provided by AWS.", _APT),
    Predefined("pb-0cbb3a633de00f07c", "AWS-RedHatDefaultPatchBaseline", OS.REDHAT_ENTERPRISE_LINUX,
               "Default Patch Baseline for Redhat Enterprise Linux Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-03ec98bc512aa3ac0", "AWS-RockyLinuxDefaultPatchBaseline", OS.ROCKY_LINUX,
               "Default Patch Baseline for Rocky Linux Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-0cb0c4966f86b059b", "AWS-AlmaLinuxDefaultPatchBaseline", OS.ALMA_LINUX,
               "Default Patch Baseline for Alma Linux Provided by AWS.", _SECURITY_AND_BUGFIX),
    Predefined("pb-03e3f588eec25344c", "AWS-CentOSDefaultPatchBaseline", OS.CENTOS,
               "Default Patch Baseline for CentOS Provided by AWS.",
               (_rule(_f("CLASSIFICATION", "*"), _f("SEVERITY", "*"), non_security=True),)),
    Predefined("pb-06bff38e95fe85c02", "AWS-OracleLinuxDefaultPatchBaseline", OS.ORACLE_LINUX,
               "Default Patch Baseline for Oracle Linux Server Provided by AWS.",
               (_rule(_f("CLASSIFICATION", "Security"), _f("SEVERITY", "Important", "Moderate")),
                _SECURITY_AND_BUGFIX[1])),
    Predefined("pb-07d8884178197b66b", "AWS-SuseDefaultPatchBaseline", OS.SUSE,
               "Default Patch Baseline for Suse Provided by AWS.", _SECURITY_AND_BUGFIX[:1]),
    Predefined("pb-0ee4f94581368c0d4", "AWS-MacOSDefaultPatchBaseline", OS.MACOS,
               "Default Patch Baseline for MacOS Provided by AWS.",
               (_rule(_f("CLASSIFICATION", "Security"), days=0), _rule(_f("CLASSIFICATION", "*"), days=0))),
)


# Regions whose owning account (and some ids) AWS's documents show: the user guide's CLI examples.
_REGIONS: dict[str, tuple[str, dict[str, str]]] = {
    "us-east-2": ("733109147000", {"AWS-DefaultPatchBaseline": "pb-0574b43a65ea646ed",
                                   "AWS-AmazonLinuxDefaultPatchBaseline": "pb-0e392de35e7c563b7",
                                   "AWS-SuseDefaultPatchBaseline": "pb-0123fdb36e334a3b2"}),
}


def _baseline(p: Predefined, region: str) -> PatchBaseline:
    owner, ids = _REGIONS.get(region, (AWS_BASELINE_ACCOUNT, {}))
    spec = BaselineSpec(name=p.name, operating_system=p.operating_system, description=p.description,
                        global_filters=p.global_filters, approval_rules=p.rules)
    return PatchBaseline(baseline_arn(region, owner, ids.get(p.name, p.short_id)), owner, region, spec, p.created,
                         p.created, owner=AWS_OWNER)


def all_in(region: str) -> list[PatchBaseline]:
    """Every predefined baseline as a Region shows it (its id the full ARN, as AWS lists them)."""
    return [_baseline(p, region) for p in PREDEFINED]


def find(region: str, baseline_id: str) -> PatchBaseline | None:
    """A predefined baseline by its ARN in `region`; AWS does not accept their bare pb- ids."""
    for p in PREDEFINED:
        baseline = _baseline(p, region)
        if baseline_id == baseline.baseline_id:
            return baseline
    return None


def default_for(region: str, os_name: OperatingSystem) -> PatchBaseline:
    """AWS's default baseline for an operating system, used while the account registered none."""
    return next(_baseline(p, region) for p in PREDEFINED if p.operating_system == os_name and p.default)
