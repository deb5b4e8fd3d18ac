"""Model patterns keep their Java meaning in Python."""

from __future__ import annotations

import botocore.session
import pytest

from openssm.protocol.java_regex import JavaRegexError, compile_java, full_match
from openssm.protocol.service_models import SERVED_SERVICES


def served_patterns() -> list[str]:
    loader = botocore.session.get_session().get_component("data_loader")
    patterns = set()
    for service in SERVED_SERVICES:
        for shape in loader.load_service_model(service, "service-2")["shapes"].values():
            if "pattern" in shape:
                patterns.add(shape["pattern"])
    return sorted(patterns)


def test_every_pattern_of_the_served_models_compiles() -> None:
    for pattern in served_patterns():
        compile_java(pattern)


@pytest.mark.parametrize(("pattern", "value", "matches"), [
    # \w, \d and \s are ASCII in Java.
    (r"[\w+=,.@-]+", "bob", True),
    (r"[\w+=,.@-]+", "bøb", False),
    (r"\d{12}", "١٢٣٤٥٦٧٨٩٠١٢", False),
    (r"[\s\S]*", "any\nthing\r", True),
    # \p{L} and friends are Unicode; the POSIX names are ASCII.
    (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "ünïcode tag", True),
    (r"\p{Alpha}+", "abc", True),
    (r"\p{Alpha}+", "é", False),
    (r"\P{ASCII}", "é", True),
    # Two \u escapes forming a surrogate pair are one code point.
    (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "x😀y", True),
    (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "x\x01", False),
    # \u takes four digits: STS's `\u10000-\u10FFFF` is U+1000, then '0'-U+10FF, then 'F'.
    (r"[\u0020-\u007E\u10000-\u10FFFF]+", "😀", False),
    # A '-' after a class escape inside a class is a literal.
    (r"^arn:aws[a-z0-9-]*:iam::\d{12}:role\/[\w-\/.@+=,]{1,1017}$", "arn:aws:iam::123456789012:role/a-b/c", True),
    # `.` stops at every Java line terminator unless DOTALL.
    (r".*", "a\rb", False),
    (r".*", "a b", True),
    (r"(?s).*", "a\rb", True),
    (r"(?i)all|[0-9]{12}", "ALL", True),
    # Matched whole, as Pattern.matches does.
    (r"[a-z]+", "abc1", False),
    (r"^(tag:.+|Name|Type)$", "", False),
    # Doubled '|' in a class is two literals in Java, an operator in regex's version 1.
    (r"[a||b]+", "a|b", True),
    (r"[\w|\d|\.|_]+", "a|b", True),
])
def test_patterns_match_as_java_matches(pattern: str, value: str, matches: bool) -> None:
    assert full_match(pattern, value) is matches


def test_a_pattern_without_python_equivalent_is_reported() -> None:
    with pytest.raises(JavaRegexError):
        compile_java("[unclosed")
