"""DescribePatchProperties' static tables: for each operating system, the properties it has and their values
(products, classifications, severities, priorities), which also bound the values a baseline's filters accept.

AWS serves these from its patch catalogue; OpenSSM keeps them here, for the releases its agent can patch.
"""

from __future__ import annotations

from collections.abc import Mapping

from openssm.errors import ValidationError
from openssm.services.patch_platforms import APT, RPM, OperatingSystem

OS = OperatingSystem
Entry = Mapping[str, str]


def _versions(prefix: str, majors: Mapping[int, int]) -> tuple[str, ...]:
    """prefix + major.minor for each major and each minor up to the last one."""
    return tuple(f"{prefix}{major}.{minor}" for major, last in majors.items() for minor in range(last + 1))


_WINDOWS_OS_PRODUCTS = ("Windows7", "Windows8", "Windows8.1", "Windows10", "Windows11", "WindowsServer2008",
                        "WindowsServer2008R2", "WindowsServer2012", "WindowsServer2012R2", "WindowsServer2016",
                        "WindowsServer2019", "WindowsServer2022", "WindowsServer2025", "MicrosoftDefenderAntivirus")
_WINDOWS_APPLICATIONS = {
    "Office": ("Office 2013", "Office 2016", "Office 2019", "Office LTSC 2021", "Microsoft 365 Apps"),
    "Exchange Server": ("Exchange Server 2016", "Exchange Server 2019"),
    "SQL Server": ("SQL Server 2016", "SQL Server 2017", "SQL Server 2019", "SQL Server 2022"),
    "Developer Tools, Runtimes, and Redistributables": ("Visual Studio 2019", "Visual Studio 2022", ".NET 6.0",
                                                        ".NET 8.0"),
    "Active Directory": ("Active Directory Rights Management Services Client 2.0",),
}
_RPM_CLASSIFICATIONS = ("Security", "Bugfix", "Enhancement", "Recommended", "Newpackage")
_RHEL_SEVERITIES = ("Critical", "Important", "Moderate", "Low")
_APT_PRIORITIES = ("Required", "Important", "Standard", "Optional", "Extra")

_PRODUCTS: dict[OperatingSystem, tuple[str, ...]] = {
    OS.AMAZON_LINUX: tuple(f"AmazonLinux{v}" for v in ("2012.03", "2012.09", "2013.03", "2013.09", "2014.03",
                                                       "2014.09", "2015.03", "2015.09", "2016.03", "2016.09",
                                                       "2017.03", "2017.09", "2018.03")),
    OS.AMAZON_LINUX_2: ("AmazonLinux2", "AmazonLinux2.0"),
    OS.AMAZON_LINUX_2022: ("AmazonLinux2022",),
    OS.AMAZON_LINUX_2023: ("AmazonLinux2023",),
    OS.REDHAT_ENTERPRISE_LINUX: _versions("RedhatEnterpriseLinux", {6: 10, 7: 9, 8: 10, 9: 6, 10: 0}),
    OS.CENTOS: (*_versions("CentOS", {6: 10, 7: 9, 8: 5}), "CentOSStream8", "CentOSStream9"),
    OS.ORACLE_LINUX: _versions("OracleLinux", {7: 9, 8: 10, 9: 6}),
    OS.ROCKY_LINUX: _versions("RockyLinux", {8: 10, 9: 6}),
    OS.ALMA_LINUX: _versions("AlmaLinux", {8: 10, 9: 6}),
    OS.SUSE: _versions("Suse", {12: 5, 15: 6}),
    OS.UBUNTU: tuple(f"Ubuntu{v}" for v in ("14.04", "16.04", "18.04", "20.04", "20.10", "21.04", "21.10",
                                            "22.04", "23.04", "23.10", "24.04", "24.10", "25.04")),
    OS.DEBIAN: tuple(f"Debian{v}" for v in range(8, 14)),
    OS.RASPBIAN: tuple(f"Raspbian{v}" for v in range(9, 13)),
    OS.MACOS: _versions("MacOS", {11: 7, 12: 7, 13: 7, 14: 7, 15: 7}),
    OS.WINDOWS: _WINDOWS_OS_PRODUCTS + tuple(p for ps in _WINDOWS_APPLICATIONS.values() for p in ps),
}

_VALUES: dict[str, dict[frozenset[OperatingSystem], tuple[str, ...]]] = {
    "CLASSIFICATION": {
        frozenset({OS.WINDOWS}): ("CriticalUpdates", "DefinitionUpdates", "Drivers", "FeaturePacks",
                                  "SecurityUpdates", "ServicePacks", "Tools", "UpdateRollups", "Updates",
                                  "Upgrades"),
        RPM - {OS.SUSE}: _RPM_CLASSIFICATIONS,
        frozenset({OS.SUSE}): ("Security", "Recommended", "Optional", "Feature", "Document", "Yast"),
        frozenset({OS.MACOS}): ("Security", "Software"),
    },
    "SEVERITY": {
        frozenset({OS.AMAZON_LINUX, OS.AMAZON_LINUX_2, OS.AMAZON_LINUX_2022, OS.AMAZON_LINUX_2023}):
            ("Critical", "Important", "Medium", "Low", "None"),
        RPM - {OS.AMAZON_LINUX, OS.AMAZON_LINUX_2, OS.AMAZON_LINUX_2022, OS.AMAZON_LINUX_2023}: _RHEL_SEVERITIES,
    },
    "PRIORITY": {APT: _APT_PRIORITIES},
    "MSRC_SEVERITY": {frozenset({OS.WINDOWS}): ("Critical", "Important", "Moderate", "Low", "Unspecified")},
    "PRODUCT_FAMILY": {frozenset({OS.WINDOWS}): ("Windows", *_WINDOWS_APPLICATIONS)},
}


def values(os_name: OperatingSystem, key: str) -> tuple[str, ...] | None:
    """The known values of a property for an operating system; None when the property is not one it has."""
    if key == "PRODUCT":
        return _PRODUCTS[os_name]
    for family, known in _VALUES.get(key, {}).items():
        if os_name in family:
            return known
    return None


def properties(os_name: OperatingSystem, key: str, patch_set: str | None) -> list[dict[str, str]]:
    """DescribePatchProperties: each value as {"Name": …} (Windows products with their ProductFamily)."""
    if patch_set and os_name is not OS.WINDOWS:
        raise ValidationError("PatchSet is only supported for the WINDOWS operating system.")
    if key == "PRODUCT" and os_name is OS.WINDOWS:
        return _windows_products(patch_set or "OS")
    if key == "PRODUCT_FAMILY" and os_name is OS.WINDOWS:
        return [{"Name": f} for f in (["Windows"] if (patch_set or "OS") == "OS" else list(_WINDOWS_APPLICATIONS))]
    known = values(os_name, key)
    if known is None:
        raise ValidationError(f"Property {key} is not supported for operating system {os_name.value}.")
    return [{"Name": v} for v in known]


def _windows_products(patch_set: str) -> list[dict[str, str]]:
    if patch_set == "OS":
        return [{"Name": p, "ProductFamily": "Windows"} for p in _WINDOWS_OS_PRODUCTS]
    return [{"Name": p, "ProductFamily": family} for family, ps in _WINDOWS_APPLICATIONS.items() for p in ps]


def product_family(product: str) -> str | None:
    """The family of a Windows product (Windows for the operating system's own)."""
    if product in _WINDOWS_OS_PRODUCTS:
        return "Windows"
    return next((family for family, ps in _WINDOWS_APPLICATIONS.items() if product in ps), None)
