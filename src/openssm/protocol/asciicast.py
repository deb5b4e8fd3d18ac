"""asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a header line of JSON, then one JSON array
per event, `[seconds since start, code, data]` with code "o" (output) or "r" (resize, "COLSxROWS"). Session
recordings are written in it so that `asciinema play` replays them as well as `openssm session replay`."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Header:
    width: int
    height: int
    timestamp: int  # the start, in seconds since the epoch
    title: str = ""

    def line(self) -> str:
        value: dict[str, object] = {"version": 2, "width": self.width, "height": self.height,
                                    "timestamp": self.timestamp, "env": {"TERM": "xterm-256color"}}
        if self.title:
            value["title"] = self.title
        return json.dumps(value) + "\n"


@dataclass(frozen=True)
class Event:
    time: float
    code: str  # "o" output, "r" resize
    data: str

    def line(self) -> str:
        return json.dumps([round(self.time, 6), self.code, self.data]) + "\n"


class OutputText:
    """Terminal bytes to text for "o" events, keeping a UTF-8 sequence cut between two messages whole."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def text(self, data: bytes) -> str:
        return self._decoder.decode(data)


class AsciicastError(ValueError):
    """A file that is not asciicast v2."""


def read(lines: Iterator[str]) -> tuple[Header, list[Event]]:
    try:
        head = json.loads(next(lines))
        if head.get("version") != 2:
            raise AsciicastError(f"asciicast version {head.get('version')!r}, expected 2")
        header = Header(int(head["width"]), int(head["height"]), int(head.get("timestamp") or 0),
                        str(head.get("title") or ""))
        events = []
        for line in lines:
            if line.strip():
                time, code, data = json.loads(line)
                events.append(Event(float(time), str(code), str(data)))
        return header, events
    except (StopIteration, ValueError, KeyError, TypeError) as err:
        if isinstance(err, AsciicastError):
            raise
        raise AsciicastError(f"not an asciicast v2 recording: {err}") from err
