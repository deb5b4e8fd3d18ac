"""Streaming reader of Debian control-file stanzas (dpkg's status, apt's Packages indexes and Release files,
`apt-get indextargets`): one stanza at a time, only the fields asked for, so that a large index is never held
in memory whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def stanzas(lines: Iterable[str], fields: frozenset[str] | None = None) -> Iterator[dict[str, str]]:
    """Each stanza's fields (all, or only `fields`), continuation lines left out: none of the fields the
    patching code reads spans lines."""
    current: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            if current:
                yield current
                current = {}
            continue
        if line[0] in " \t":
            continue
        name, sep, value = line.partition(":")
        if sep and (fields is None or name in fields):
            current[name] = value.strip()
    if current:
        yield current
