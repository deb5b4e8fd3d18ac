"""The rules a patch baseline obeys, per operating system, as CreatePatchBaseline and UpdatePatchBaseline apply
them: filter keys and values, approval delay or cut-off date, non-security updates, approved and rejected patch
name formats, sources; and DescribePatchBaselines' filters."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from openssm.errors import ValidationError
from openssm.services import patch_properties
from openssm.services.patch_baseline_model import BaselineSpec, PatchBaseline, PatchFilter, PatchRule
from openssm.services.patch_platforms import APT, LINUX, OperatingSystem, filter_keys

OS = OperatingSystem
_WINDOWS_PATCH = re.compile(r"^(KB\d{6,8}|MS\d{2}-\d{3})$", re.IGNORECASE)
# rpm and dpkg names, optionally with epoch, version, release and architecture, and * wildcards.
_PACKAGE = re.compile(r"^[A-Za-z0-9_.+~:*\-]+$")
_MACOS_PACKAGE = re.compile(r"^[A-Za-z0-9_.+~:*\- ]+$")
_FREE_VALUES = {"SECTION"}  # Debian/Ubuntu sections are the archive's own (admin, libs, python…)
_PATCH_SETS = ("OS", "APPLICATION")


def _check_filters(os_name: OperatingSystem, filters: Sequence[PatchFilter], where: str) -> None:
    allowed = filter_keys(os_name)
    seen: set[str] = set()
    for f in filters:
        if f.key not in allowed:
            raise ValidationError(f"Invalid Filter Key: {f.key} in {where} for OperatingSystem: {os_name.value}, "
                                  f"valid keys are: {', '.join(sorted(allowed))}")
        if f.key in seen:
            raise ValidationError(f"The filter key {f.key} is specified more than once in {where}.")
        seen.add(f.key)
        _check_values(os_name, f)
    _check_families(filters)


def _check_families(filters: Sequence[PatchFilter]) -> None:
    """Windows: each product named must belong to one of the product families named beside it."""
    given = {f.key: f.values for f in filters}
    families, products = given.get("PRODUCT_FAMILY", ("*",)), given.get("PRODUCT", ("*",))
    if "*" in families:
        return
    for product in products:
        family = patch_properties.product_family(product)
        if product != "*" and family not in families:
            raise ValidationError(f"The product {product} isn't a member of the product families "
                                  f"{', '.join(families)}. Specify the product family it belongs to "
                                  f"({family}).")


def _check_values(os_name: OperatingSystem, f: PatchFilter) -> None:
    if f.key in _FREE_VALUES:
        return
    known = _PATCH_SETS if f.key == "PATCH_SET" else patch_properties.values(os_name, f.key) or ()
    for value in f.values:
        if value != "*" and value not in known:
            # AWS's wording, as its answers to Terraform users show it.
            raise ValidationError(f"Invalid Filter Value: {value} for Key: {f.key}, valid values are: "
                                  f"{', '.join(known)}")


def _is_date(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_rule(os_name: OperatingSystem, rule: PatchRule, n: int) -> None:
    _check_filters(os_name, rule.filters, f"approval rule {n}")
    after, until = rule.approve_after_days, rule.approve_until_date
    if after is not None and until is not None:
        raise ValidationError(f"Approval rule {n} must specify either ApproveAfterDays or ApproveUntilDate, "
                              "but not both.")
    # APT repositories publish no reliable release dates, so AWS requires neither there (its own
    # AWS-UbuntuDefaultPatchBaseline carries ApproveAfterDays 7, which has no effect).
    if os_name not in APT and after is None and until is None:
        raise ValidationError(f"Approval rule {n} must specify either ApproveAfterDays or ApproveUntilDate, "
                              "but not both.")
    if until is not None and not _is_date(until):
        raise ValidationError(f"ApproveUntilDate {until} isn't valid. Specify a date in the format YYYY-MM-DD, "
                              "for example 2026-12-31.")
    if rule.enable_non_security and os_name not in LINUX:
        raise ValidationError(f"EnableNonSecurity is supported for Linux operating systems only, not "
                              f"{os_name.value}.")


def _check_patch_names(os_name: OperatingSystem, names: Sequence[str], member: str) -> None:
    pattern = _WINDOWS_PATCH if os_name is OS.WINDOWS else _MACOS_PACKAGE if os_name is OS.MACOS else _PACKAGE
    # An entry may carry several names separated by commas: the user guide's own create-patch-baseline example
    # sends "KB2032276,MS10-048" as one entry, and AWS accepts it.
    for name in (part.strip() for entry in names for part in entry.split(",")):
        if not pattern.match(name):
            expected = ("a KB article (KB2032276) or an MS bulletin (MS10-047)" if os_name is OS.WINDOWS
                        else "a package name, optionally with version, release and architecture")
            raise ValidationError(f"The patch {name} in {member} isn't valid for operating system "
                                  f"{os_name.value}: specify {expected}.")
    if len(set(names)) != len(names):
        raise ValidationError(f"{member} contains duplicate patches.")


def _check_sources(spec: BaselineSpec) -> None:
    os_name = spec.operating_system
    if spec.sources and os_name not in LINUX:
        raise ValidationError(f"Sources are supported for Linux operating systems only, not {os_name.value}.")
    names = [s.name for s in spec.sources]
    if len(set(names)) != len(names):
        raise ValidationError("Each patch source must have a unique Name.")
    known = patch_properties.values(os_name, "PRODUCT") or ()
    for source in spec.sources:
        for product in source.products:
            if product != "*" and product not in known:
                raise ValidationError(f"The product {product} of patch source {source.name} isn't valid for "
                                      f"operating system {os_name.value}.")


def check(spec: BaselineSpec) -> None:
    """Every rule, in the order AWS reports them: filters, approval rules, patch lists, sources."""
    os_name = spec.operating_system
    _check_filters(os_name, spec.global_filters, "GlobalFilters")
    for n, rule in enumerate(spec.approval_rules, 1):
        _check_rule(os_name, rule, n)
    _check_patch_names(os_name, spec.approved_patches, "ApprovedPatches")
    _check_patch_names(os_name, spec.rejected_patches, "RejectedPatches")
    if spec.approved_patches_enable_non_security and os_name not in LINUX:
        raise ValidationError(f"ApprovedPatchesEnableNonSecurity is supported for Linux operating systems only, "
                              f"not {os_name.value}.")
    if spec.available_security_updates_compliance_status and os_name is not OS.WINDOWS:
        raise ValidationError("AvailableSecurityUpdatesComplianceStatus is supported for the WINDOWS operating "
                              "system only.")
    _check_sources(spec)


BASELINE_FILTER_KEYS = ("NAME_PREFIX", "OWNER", "OPERATING_SYSTEM")


def check_os_values(key: str, values: Sequence[str]) -> None:
    """An OPERATING_SYSTEM filter names AWS's operating systems only."""
    unknown = [v for v in values if v not in OperatingSystem.__members__] if key == "OPERATING_SYSTEM" else []
    if unknown:
        raise ValidationError(f"Invalid value {unknown[0]} for filter OPERATING_SYSTEM. Valid values: "
                              f"{', '.join(OperatingSystem.__members__)}.")


def matches(filters: Sequence[tuple[str, Sequence[str]]], baseline: PatchBaseline) -> bool:
    """DescribePatchBaselines' filters: all must match; within one, any value."""
    for key, values in filters:
        if key not in BASELINE_FILTER_KEYS:
            raise ValidationError(f"Invalid filter key {key}. Valid filter keys are "
                                  f"{', '.join(BASELINE_FILTER_KEYS)}.")
        if not values:
            raise ValidationError(f"Filter {key} needs at least one value.")
        check_os_values(key, values)
        if key == "NAME_PREFIX" and not any(baseline.spec.name.startswith(v) for v in values):
            return False
        # OWNER: AWS | Self | All (the user guide lists every baseline with Values=[All]).
        if key == "OWNER" and not {baseline.owner.lower(), "all"} & {v.lower() for v in values}:
            return False
        if key == "OPERATING_SYSTEM" and baseline.spec.operating_system.value not in values:
            return False
    return True
