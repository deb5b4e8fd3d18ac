"""Where each statement sits in a policy's source text, for the simulator's Start/EndPosition.

The json module reports no positions, so the Statement value is walked with `raw_decode`, which does
report where each element ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_DECODER = json.JSONDecoder()
_STATEMENT_KEY = re.compile(r'"Statement"\s*:\s*')


@dataclass(frozen=True)
class Position:
    line: int
    column: int


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Position(line, column)


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def statement_spans(text: str) -> list[tuple[Position, Position]]:
    """(start, end) of each statement, in order: the positions of its opening and closing braces."""
    match = _STATEMENT_KEY.search(text)
    if match is None:
        return []
    index = match.end()
    if text[index:index + 1] != "[":
        _, end = _DECODER.raw_decode(text, index)
        return [(_position(text, index), _position(text, end - 1))]
    spans = []
    index = _skip_space(text, index + 1)
    while index < len(text) and text[index] != "]":
        _, end = _DECODER.raw_decode(text, index)
        spans.append((_position(text, index), _position(text, end - 1)))
        index = _skip_space(text, end)
        if text[index:index + 1] == ",":
            index = _skip_space(text, index + 1)
    return spans
