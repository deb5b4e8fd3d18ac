"""The patching facts' pure parsers against golden outputs (tests/golden/patching/<fact>/<case>.json: the
command, its raw output and what the parser must make of it), and the package managers' version orders."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from openssm.agent.patching import debian_facts, rpm_facts
from openssm.agent.patching.node_os import UnsupportedOs, parse_os_release
from openssm.agent.patching.versions import compare_deb, compare_rpm

GOLDEN = Path(__file__).parent.parent / "golden" / "patching"
# The security index the apt_packages cases are read as coming from.
SECURITY_TARGET = debian_facts.IndexTarget(
    "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_updates_main_binary-amd64_Packages",
    "Debian", "Debian-Security", "stable-security", "bookworm-security", "updates/main")


def plain(value: Any) -> Any:
    """A parsed value as the golden files spell it: dataclasses as dicts without their empty fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()
                if v not in ("", (), None, [], False) or k == "epoch"}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _dpkg_status(output: str) -> Any:
    return list(debian_facts.parse_status(output.splitlines(True)).values())


def _apt_packages(output: str) -> Any:
    status = json.loads((GOLDEN / "dpkg_status" / "bookworm.json").read_text())["output"]
    installed = debian_facts.parse_status(status.splitlines(True))
    return [{"installed": f"{a.name}:{a.arch} {a.evr}", "available": b}
            for a, b in debian_facts.upgrades(output.splitlines(True), SECURITY_TARGET, installed)]


def _updateinfo_list(output: str) -> Any:
    return [{"advisory": a, "classification": c, "severity": s, "package": p}
            for a, c, s, p in rpm_facts.parse_updateinfo_list(output)]


PARSERS: dict[str, Callable[[str], Any]] = {
    "dpkg_status": _dpkg_status,
    "apt_indextargets": debian_facts.parse_index_targets,
    "apt_packages": _apt_packages,
    "os_release": parse_os_release,
    "rpm_query": lambda output: list(rpm_facts.parse_rpm_query(output).values()),
    "dnf_check_update": rpm_facts.parse_check_update,
    "dnf_updateinfo_list": _updateinfo_list,
    "dnf_updateinfo_info": rpm_facts.parse_updateinfo_info,
}
CASES = sorted(GOLDEN.glob("*/*.json"))


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fact_parser_gives_the_golden_result(path: Path) -> None:
    case = json.loads(path.read_text())
    assert plain(PARSERS[path.parent.name](case["output"])) == case["parsed"]


def test_every_fact_has_golden_cases() -> None:
    assert {p.parent.name for p in CASES} == set(PARSERS)


def test_dpkg_status_keeps_only_installed_packages() -> None:
    case = json.loads((GOLDEN / "dpkg_status" / "bookworm.json").read_text())
    names = {p.name for p in _dpkg_status(case["output"])}
    assert "old-tool" not in names and "unzip" not in names  # config-files only; half-configured
    assert "apt" in names  # held packages are installed


def test_security_suites_are_recognised_by_suite_codename_or_label() -> None:
    assert debian_facts.IndexTarget("f", suite="jammy-security").security
    assert debian_facts.IndexTarget("f", codename="bookworm-security", suite="stable-security").security
    assert debian_facts.IndexTarget("f", label="Debian-Security", suite="oldoldstable").security
    assert not debian_facts.IndexTarget("f", suite="stable-updates", codename="bookworm-updates").security


def test_unknown_operating_system_is_refused() -> None:
    with pytest.raises(UnsupportedOs, match="gentoo"):
        parse_os_release("ID=gentoo\nVERSION_ID=2.14\n")


def test_nevra_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a package NEVRA"):
        rpm_facts.parse_nevra("openssl")


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("1.0-1", "2.0-1", -1), ("1:0.9", "2.0", 1), ("1.0~rc1", "1.0", -1), ("1.0", "1.0+b1", -1),
    ("1.0a", "1.0.1", -1), ("2.30-1", "2.4-1", 1), ("1.0-1", "1.0-1", 0), ("1.0", "1.0-0", 0),
    ("0:1.2", "1.2", 0), ("1.2-3ubuntu1", "1.2-3", 1), ("3.0.13-1~deb12u1", "3.0.11-1~deb12u2", 1),
    ("1.0~~", "1.0~", -1), ("1.0-1~bpo1", "1.0-1", -1)])
def test_debian_versions_order_as_dpkg_orders_them(a: str, b: str, expected: int) -> None:
    assert compare_deb(a, b) == expected
    assert compare_deb(b, a) == -expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    (("0", "1.0", "1.el9"), ("0", "1.0", "2.el9"), -1), (("", "1.0~rc1", "1"), ("", "1.0", "1"), -1),
    (("1", "1.0", "1"), ("0", "9", "1"), 1), (("", "1.0^post1", "1"), ("", "1.0", "1"), 1),
    (("", "1.0^post1", "1"), ("", "1.0.1", "1"), -1), (("", "1.10", "1"), ("", "1.9", "1"), 1),
    (("", "1.0a", "1"), ("", "1.0.1", "1"), -1), (("", "2023c", "1.el9"), ("", "2023d", "1.el9"), -1),
    (("", "5.14.0", "362.13.1.el9_3"), ("", "5.14.0", "362.8.1.el9_3"), 1), (("", "1.0", "1"), ("0", "1.0", "1"), 0)])
def test_rpm_versions_order_as_rpm_orders_them(a: tuple[str, str, str], b: tuple[str, str, str],
                                               expected: int) -> None:
    assert compare_rpm(a, b) == expected
    assert compare_rpm(b, a) == -expected
