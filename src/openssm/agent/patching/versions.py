"""Version ordering as the package managers order versions: dpkg's (deb-version(7): epoch, then upstream and
revision compared part by part, `~` before everything, letters before other symbols) and rpm's rpmvercmp."""

from __future__ import annotations

import re
from functools import cmp_to_key

_DIGITS = re.compile(r"\d+")
_RPM_SEGMENT = re.compile(r"([A-Za-z]+|\d+|~|\^)")


def _order(char: str) -> int:
    """dpkg's weight of a non-digit character: `~` sorts first, then the end of a part, letters, others."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ca = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            cb = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ca != cb:
                return -1 if ca < cb else 1
            i, j = i + 1, j + 1
        da = _DIGITS.match(a, i)
        db = _DIGITS.match(b, j)
        na = int(da.group()) if da else 0
        nb = int(db.group()) if db else 0
        if na != nb:
            return -1 if na < nb else 1
        i = da.end() if da else i
        j = db.end() if db else j
    return 0


def split_deb(version: str) -> tuple[int, str, str]:
    """(epoch, upstream, revision) of a Debian version string."""
    epoch, _, rest = version.rpartition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(epoch or 0), upstream, revision


def compare_deb(a: str, b: str) -> int:
    """-1, 0 or 1 as dpkg --compare-versions orders a and b."""
    ea, ua, ra = split_deb(a)
    eb, ub, rb = split_deb(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def _rpmvercmp(a: str, b: str) -> int:
    if a == b:
        return 0
    sa, sb = _RPM_SEGMENT.findall(a), _RPM_SEGMENT.findall(b)
    for x, y in zip(sa, sb, strict=False):
        if "~" in (x, y) or "^" in (x, y):
            if x == y:
                continue
            mark = "~" if "~" in (x, y) else "^"  # both sort before any other segment, `~` also before the end
            return -1 if x == mark else 1
        if x.isdigit() != y.isdigit():
            return 1 if x.isdigit() else -1  # a numeric segment is newer than an alphabetic one
        if x.isdigit():
            diff = int(x) - int(y)
        else:
            diff = (x > y) - (x < y)
        if diff:
            return 1 if diff > 0 else -1
    rest_a, rest_b = sa[len(sb):], sb[len(sa):]
    if rest_a:
        return -1 if rest_a[0] == "~" else 1
    if rest_b:
        return 1 if rest_b[0] == "~" else -1
    return 0


def compare_rpm(a: tuple[str, str, str], b: tuple[str, str, str]) -> int:
    """-1, 0 or 1 ordering two (epoch, version, release) as rpm does; an empty epoch is 0."""
    ea, eb = int(a[0] or 0), int(b[0] or 0)
    if ea != eb:
        return -1 if ea < eb else 1
    return _rpmvercmp(a[1], b[1]) or _rpmvercmp(a[2], b[2])


deb_key = cmp_to_key(compare_deb)
