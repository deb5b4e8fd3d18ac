"""Patch Manager's operating systems: AWS's OperatingSystem enum, what each accepts in a baseline (filter keys,
non-security updates, sources, approval delays), and how a node's reported platform maps to an operating
system and to AWS's PRODUCT value (Debian12, Ubuntu22.04, RedhatEnterpriseLinux9.2, AmazonLinux2023…)."""

from __future__ import annotations

import re
from enum import StrEnum

from openssm.errors import AwsError


class OperatingSystem(StrEnum):
    WINDOWS = "WINDOWS"
    AMAZON_LINUX = "AMAZON_LINUX"
    AMAZON_LINUX_2 = "AMAZON_LINUX_2"
    AMAZON_LINUX_2022 = "AMAZON_LINUX_2022"
    AMAZON_LINUX_2023 = "AMAZON_LINUX_2023"
    UBUNTU = "UBUNTU"
    REDHAT_ENTERPRISE_LINUX = "REDHAT_ENTERPRISE_LINUX"
    SUSE = "SUSE"
    CENTOS = "CENTOS"
    ORACLE_LINUX = "ORACLE_LINUX"
    DEBIAN = "DEBIAN"
    MACOS = "MACOS"
    RASPBIAN = "RASPBIAN"
    ROCKY_LINUX = "ROCKY_LINUX"
    ALMA_LINUX = "ALMA_LINUX"


OS = OperatingSystem
DEFAULT_OS = OS.WINDOWS  # what GetDefaultPatchBaseline and the patch-group calls assume when none is given

# APT systems have no reliable release dates in their repositories, so AWS approves on priority alone there:
# ApproveAfterDays and ApproveUntilDate are "not supported for Debian Server or Ubuntu Server".
APT = frozenset({OS.DEBIAN, OS.UBUNTU, OS.RASPBIAN})
RPM = frozenset({OS.AMAZON_LINUX, OS.AMAZON_LINUX_2, OS.AMAZON_LINUX_2022, OS.AMAZON_LINUX_2023,
                 OS.REDHAT_ENTERPRISE_LINUX, OS.CENTOS, OS.ORACLE_LINUX, OS.ROCKY_LINUX, OS.ALMA_LINUX, OS.SUSE})
# EnableNonSecurity, ApprovedPatchesEnableNonSecurity and Sources are for Linux managed nodes only.
LINUX = APT | RPM

_FILTER_KEYS: dict[frozenset[OperatingSystem], frozenset[str]] = {
    frozenset({OS.WINDOWS}): frozenset({"PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION",
                                        "MSRC_SEVERITY"}),
    APT: frozenset({"PRODUCT", "SECTION", "PRIORITY"}),
    RPM: frozenset({"PRODUCT", "CLASSIFICATION", "SEVERITY"}),
    frozenset({OS.MACOS}): frozenset({"PRODUCT", "CLASSIFICATION"}),
}


def filter_keys(os_name: OperatingSystem) -> frozenset[str]:
    """The PatchFilter keys a baseline for `os_name` may use (AWS's PatchFilter reference, per OS)."""
    for family, keys in _FILTER_KEYS.items():
        if os_name in family:
            return keys
    return frozenset()


class UnsupportedOperatingSystem(AwsError):
    code = "UnsupportedOperatingSystem"


def _major(version: str) -> str:
    return version.split(".")[0]


def _major_minor(version: str) -> str:
    parts = (version.split(".") + ["0"])[:2]
    return ".".join(parts)


# (pattern on the lower-cased PlatformName, operating system, how the PRODUCT value is made of the version)
_LINUX_PLATFORMS: tuple[tuple[str, OperatingSystem | None, str], ...] = (
    (r"^amazon linux", None, ""),  # resolved by version below: 1 (2018.03…), 2, 2022, 2023
    (r"^ubuntu", OS.UBUNTU, "Ubuntu{mm}"),
    (r"^debian", OS.DEBIAN, "Debian{major}"),
    (r"^raspbian|^raspberry", OS.RASPBIAN, "Raspbian{major}"),
    (r"^red hat", OS.REDHAT_ENTERPRISE_LINUX, "RedhatEnterpriseLinux{mm}"),
    (r"^rocky", OS.ROCKY_LINUX, "RockyLinux{mm}"),
    (r"^almalinux|^alma linux", OS.ALMA_LINUX, "AlmaLinux{mm}"),
    (r"^centos stream", OS.CENTOS, "CentOSStream{major}"),
    (r"^centos", OS.CENTOS, "CentOS{mm}"),
    (r"^oracle", OS.ORACLE_LINUX, "OracleLinux{mm}"),
    (r"^sles|^suse|^opensuse", OS.SUSE, "Suse{mm}"),
)


def _amazon_linux(version: str) -> tuple[OperatingSystem, str]:
    major = _major(version)
    if major == "2":
        return OS.AMAZON_LINUX_2, "AmazonLinux2"
    if major in ("2022", "2023"):
        return (OS.AMAZON_LINUX_2022 if major == "2022" else OS.AMAZON_LINUX_2023), f"AmazonLinux{major}"
    return OS.AMAZON_LINUX, f"AmazonLinux{version}"


def _windows(name: str) -> tuple[OperatingSystem, str]:
    found = re.search(r"windows server (\d{4})( r2)?", name.lower())
    if found is None:
        raise UnsupportedOperatingSystem(f"The operating system {name} is not supported by Patch Manager.")
    return OS.WINDOWS, f"WindowsServer{found.group(1)}{'R2' if found.group(2) else ''}"


def platform_of(platform_type: str | None, platform_name: str | None,
                platform_version: str | None) -> tuple[OperatingSystem, str]:
    """The operating system and PRODUCT value of a node, from what its heartbeat reported
    (PlatformType, PlatformName as os-release's NAME or Windows' caption, PlatformVersion)."""
    name, version = (platform_name or "").strip(), (platform_version or "").strip()
    kind = (platform_type or "").strip().lower()
    if kind == "windows":
        return _windows(name)
    if kind == "macos":
        return OS.MACOS, f"MacOS{_major_minor(version)}"
    if kind == "linux" and name and version:
        lowered = name.lower()
        for pattern, os_name, product in _LINUX_PLATFORMS:
            if re.search(pattern, lowered):
                if os_name is None:
                    return _amazon_linux(version)
                return os_name, product.format(major=_major(version), mm=_major_minor(version))
    raise UnsupportedOperatingSystem(
        f"The operating system {name or 'of the managed node'} {version} is not supported by Patch Manager."
        if name else "The managed node has not reported its operating system yet.")
