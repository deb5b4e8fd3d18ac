"""AWS:File: the files an association's `files` parameter names, found and limited as AWS's agent finds them
(gatherers/file/dataProvider.go): each filter's Path expanded as Go's os.Expand does, its Pattern globs matched
as Go's filepath.Match, the tree walked when Recursive (not into symbolic links), at most 500 files in all and
DirScanLimit directories (default 5000) per filter, either limit failing the step.

On Linux AWS's agent fills Name, Size, ModificationTime and InstalledDir and leaves the other attributes empty.
OpenSSM adds the file's SHA-256, for integrity monitoring, as `Description: "sha256:<hex>"`: AWS:File has no
attribute for a digest, and Description is free text AWS leaves empty here, so the service's schema takes it.
LastAccessTime stays empty as at AWS: reading the file to hash it would move it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from openssm.agent.inventory.model import FILE, Entry, GathererError, json_member, rfc3339

FILE_COUNT_LIMIT = 500
DIR_SCAN_LIMIT = 5000
FILE_COUNT_EXCEEDED = "File Count Limit Exceeded"
DIR_SCAN_EXCEEDED = "Directory Scan Limit Exceeded"
DIGEST_PREFIX = "sha256:"
_CHUNK = 1 << 20
_SPECIAL_VARIABLE = "*#$@!?-0123456789"


@dataclass(frozen=True)
class Filter:
    path: str
    patterns: tuple[str, ...]
    recursive: bool = False
    dir_scan_limit: int = DIR_SCAN_LIMIT


def _filter(raw: Any) -> Filter:
    path, patterns = json_member(raw, "Path") or "", json_member(raw, "Pattern") or []
    recursive, limit = json_member(raw, "Recursive") or False, json_member(raw, "DirScanLimit")
    if not isinstance(path, str) or not isinstance(recursive, bool):
        raise ValueError("Path must be a string and Recursive a boolean")
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValueError("Pattern must be a list of strings")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
        raise ValueError("DirScanLimit must be an integer")
    return Filter(path, tuple(patterns), recursive, DIR_SCAN_LIMIT if limit is None else limit)


def parse_filters(text: str) -> tuple[Filter, ...]:
    """The `files` parameter: a JSON list of {Path, Pattern, Recursive, DirScanLimit}, typed as Go reads it. Like
    AWS's agent, every backslash becomes a slash first (Windows paths)."""
    try:
        raw = json.loads(text.replace("\\", "/"))
        if not isinstance(raw, list):
            raise ValueError("not a list of filters")
        return tuple(_filter(each) for each in raw)
    except (ValueError, TypeError, AttributeError) as err:
        raise GathererError(f"invalid files filter: {err}") from err


def _shell_name(text: str) -> tuple[str, int]:
    """Go's os.getShellName: the variable after a `$` and how many characters it spans."""
    if text[0] == "{":
        if len(text) > 2 and text[1] in _SPECIAL_VARIABLE and text[2] == "}":
            return text[1], 3
        end = text.find("}", 1)
        if end == 1:
            return "", 2
        return (text[1:end], end + 1) if end > 0 else ("", 1)
    if text[0] in _SPECIAL_VARIABLE:
        return text[0], 1
    match = re.match(r"[A-Za-z0-9_]*", text)
    name = match.group(0) if match else ""
    return name, len(name)


def expand(text: str, environ: Mapping[str, str]) -> str:
    """Go's os.Expand with os.Getenv: $NAME and ${NAME} replaced (unset ones by nothing)."""
    out, start, j = [], 0, 0
    while j < len(text):
        if text[j] == "$" and j + 1 < len(text):
            out.append(text[start:j])
            name, width = _shell_name(text[j + 1:])
            if name:
                out.append(environ.get(name, ""))
            elif width == 0:
                out.append("$")
            j += width
            start = j + 1
        j += 1
    out.append(text[start:])
    return "".join(out)


def _class_char(pattern: str, j: int) -> tuple[str, int]:
    """Go's getEsc: one character of a class, `\\` escaping; an unescaped `-` or `]` there is a bad pattern."""
    if j >= len(pattern) or pattern[j] in "-]":
        raise ValueError("bad pattern")
    if pattern[j] == "\\":
        j += 1
        if j >= len(pattern):
            raise ValueError("bad pattern")
    return pattern[j], j + 1


def _class(pattern: str, i: int) -> tuple[str, int]:
    """A Go character class `[...]` (negated with ^) as a regex class; the index after it."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] == "^"
    j += 1 if negate else 0
    parts: list[str] = []
    while not (j < len(pattern) and pattern[j] == "]" and parts):
        low, j = _class_char(pattern, j)
        high = low
        if j < len(pattern) and pattern[j] == "-":
            high, j = _class_char(pattern, j + 1)
            if high < low:
                raise ValueError("bad range")
        parts.append(f"{re.escape(low)}-{re.escape(high)}")
    return ("[^" if negate else "[") + "".join(parts) + "]", j + 1


def glob_regex(pattern: str) -> re.Pattern[str]:
    """Go's filepath.Match pattern as a regex (ValueError for Go's ErrBadPattern)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            regex, i = _class(pattern, i)
            out.append(regex)
            continue
        elif char == "\\":
            if i + 1 >= len(pattern):
                raise ValueError("trailing backslash")
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(glob_regex(pattern))
        except ValueError:
            continue  # AWS's agent logs a bad pattern and tries the others
    return lambda name: any(regex.fullmatch(name) for regex in compiled)


def _walk(root: str, matches: Callable[[str], bool], file_limit: int, dir_limit: int) -> list[str]:
    """Go's filepath.Walk: depth first, names in order, not into symbolic links, counting every directory."""
    found: list[str] = []
    stack: list[Iterator[os.DirEntry[str]]] = []
    directories = 0

    def enter(path: str) -> None:
        nonlocal directories
        directories += 1
        if directories > dir_limit:
            raise GathererError(DIR_SCAN_EXCEEDED)
        try:
            with os.scandir(path) as listing:
                stack.append(iter(sorted(listing, key=lambda e: e.name)))
        except OSError:
            pass  # AWS's agent logs an unreadable directory and walks on

    if os.path.islink(root) or not os.path.isdir(root):  # Walk visits such a root as a file
        return [root] if matches(os.path.basename(root)) else []
    enter(root)
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif entry.is_dir(follow_symlinks=False):
            enter(entry.path)
        elif matches(entry.name):
            found.append(entry.path)
            if len(found) > file_limit:
                raise GathererError(FILE_COUNT_EXCEEDED)
    return found


def _listing(directory: str, matches: Callable[[str], bool], file_limit: int) -> list[str]:
    """The directory's own files (a symbolic link to a directory counts as a file, as in AWS's agent)."""
    try:
        with os.scandir(directory) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        return []
    found = [e.path for e in entries if not e.is_dir(follow_symlinks=False) and matches(e.name)]
    if len(found) > file_limit:
        raise GathererError(FILE_COUNT_EXCEEDED)
    return found


def find(filters: tuple[Filter, ...], environ: Mapping[str, str]) -> list[str]:
    """The paths the filters select, each once, in the order found; a filter whose path is missing finds none."""
    paths: list[str] = []
    for each in filters:
        root = os.path.normpath(expand(each.path, environ)) if each.path else ""
        if not root or not os.path.exists(root):
            continue
        matches, limit = _matcher(each.patterns), FILE_COUNT_LIMIT - len(paths)
        found = _walk(root, matches, limit, each.dir_scan_limit) if each.recursive else _listing(root, matches, limit)
        seen = set(paths)
        paths.extend(p for p in found if p not in seen)
    return paths


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(path: str) -> Entry | None:
    """AWS's attributes for one file (Stat follows links); None when it is gone."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    try:
        description = DIGEST_PREFIX + sha256(path)
    except OSError:
        description = ""  # a directory behind a link, or a file this agent may not read
    modified = dt.datetime.fromtimestamp(info.st_mtime).astimezone()
    return FILE.entry(Name=os.path.basename(path), Size=str(info.st_size), Description=description,
                      ModificationTime=rfc3339(modified), InstalledDir=os.path.dirname(path))


def files(filters_text: str, environ: Mapping[str, str]) -> tuple[Entry, ...]:
    """AWS:File for the `files` parameter; GathererError for a bad filter list or a limit passed."""
    entries = (file_entry(path) for path in find(parse_filters(filters_text), environ))
    return tuple(entry for entry in entries if entry is not None)
