"""Java regular expressions, as AWS's service models write them, compiled for Python.

AWS's servers check `pattern` traits with `java.util.regex`, matched against the whole value. Python's `re`
cannot read them (`\\p{L}`, `[\\w-\\/]`), and even where it can, the meaning differs: in Java `\\w`, `\\d`,
`\\s` and the POSIX classes are ASCII-only, `.` stops at every line terminator (not just `\\n`), and a
surrogate pair written as two `\\uXXXX` escapes is one supplementary code point. This module rewrites
those constructs and compiles with the `regex` package in version-1 mode, whose nested character classes
and `&&` intersections follow Java's.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Protocol

import regex

_CLASS_WORD = "a-zA-Z0-9_"
_CLASS_DIGIT = "0-9"
_CLASS_SPACE = " \\t\\n\\x0B\\f\\r"

# Java's shorthand classes (ASCII unless UNICODE_CHARACTER_CLASS, which no model sets).
_SHORTHAND = {"w": _CLASS_WORD, "d": _CLASS_DIGIT, "s": _CLASS_SPACE}

# Java's POSIX property classes are US-ASCII only; `regex` would read them as Unicode properties.
_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": "\\x00-\\x7F", "Alpha": "a-zA-Z", "Digit": "0-9",
    "Alnum": "a-zA-Z0-9", "Punct": "!-/:-@\\[-`{-~", "Graph": "!-~", "Print": " -~", "Blank": " \\t",
    "Cntrl": "\\x00-\\x1F\\x7F", "XDigit": "0-9a-fA-F", "Space": _CLASS_SPACE,
}

# Without DOTALL, Java's `.` excludes all of its line terminators, Python's only `\n`.
_JAVA_DOT = "[^\\n\\r\\x85\\u2028\\u2029]"


class Matcher(Protocol):
    def fullmatch(self, string: str) -> object | None: ...


class JavaRegexError(ValueError):
    """A model pattern that cannot be translated or compiled."""


def _set(body: str, negated: bool, in_class: bool) -> str:
    """A class for `body`; inside another class version-1 mode nests it, which is Java's union."""
    return f"[{'^' if negated else ''}{body}]" if negated or not in_class else body


def _hex4(pattern: str, at: int) -> int | None:
    digits = pattern[at:at + 4]
    if len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
        return int(digits, 16)
    return None


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int, bool]:
    """Translate the escape at `pattern[i]`; return its text, the next index and whether it is a class."""
    if i + 1 >= len(pattern):
        raise JavaRegexError("pattern ends with a lone backslash")
    letter = pattern[i + 1]
    if letter.lower() in _SHORTHAND:
        return _set(_SHORTHAND[letter.lower()], letter.isupper(), in_class), i + 2, True
    if letter in "pP" and pattern[i + 2:i + 3] == "{":
        end = pattern.find("}", i + 3)
        if end < 0:
            raise JavaRegexError("unterminated \\p{...}")
        name = pattern[i + 3:end]
        posix = _POSIX.get(name)
        if posix is not None:
            return _set(posix, letter == "P", in_class), end + 1, True
        return pattern[i:end + 1], end + 1, True
    if letter == "u":
        high = _hex4(pattern, i + 2)
        if high is not None and 0xD800 <= high <= 0xDBFF and pattern[i + 6:i + 8] == "\\u":
            low = _hex4(pattern, i + 8)
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                point = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                return f"\\U{point:08X}", i + 12, False
    return pattern[i:i + 2], i + 2, False


def translate(pattern: str) -> str:
    """Rewrite a Java pattern into one the `regex` package (version 1) reads with Java's meaning."""
    out: list[str] = []
    depth = 0  # nesting of character classes
    dotall = "(?s" in pattern
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            text, i, is_class = _escape(pattern, i, depth > 0)
            out.append(text)
            # In Java a '-' right after a class escape inside a class is a literal, never a range.
            if depth > 0 and is_class and pattern[i:i + 1] == "-":
                out.append("\\-")
                i += 1
            continue
        if char == "[":
            depth += 1
            out.append(char)
        elif char == "]" and depth > 0:
            depth -= 1
            out.append(char)
        elif char == "." and depth == 0 and not dotall:
            out.append(_JAVA_DOT)
        elif depth > 0 and char in "|~-" and pattern[i + 1:i + 2] == char:
            # Doubled, these are set operations in version-1 mode but literals in Java (`&&` means the same).
            out.append("\\" + char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _plain(text: str) -> bool:
    """Whether a translated pattern means the same to `re` (no \\p{…}, nested classes or `&&`)."""
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if text[i + 1:i + 2] in ("p", "P"):
                return False
            i += 2
            continue
        if char == "[":
            if depth:
                return False
            depth = 1
        elif char == "]":
            depth = 0
        elif char == "&" and depth and text[i + 1:i + 2] == "&":
            return False
        i += 1
    return True


@cache
def compile_java(pattern: str) -> Matcher:
    """Compile a model pattern once; raise JavaRegexError if it has no Python equivalent.

    Patterns `re` reads alike are compiled with `re`, which matches about three times faster.
    """
    text = translate(pattern)
    if _plain(text):
        try:
            return re.compile(text)
        except re.error:
            pass
    try:
        compiled: Matcher = regex.compile(text, regex.V1)
    except regex.error as err:
        raise JavaRegexError(f"cannot compile pattern {pattern!r}: {err}") from err
    return compiled


def full_match(pattern: str, value: str) -> bool:
    """Whether `value` matches all of `pattern`, as Java's `Pattern.matches` decides."""
    return compile_java(pattern).fullmatch(value) is not None
