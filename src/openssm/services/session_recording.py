"""Session logging at the relay: a shell session's output is written on the server as it passes, as a
transcript (the raw bytes, as AWS's S3 session logs hold them) and as an asciicast v2 recording with timing
and resizes, so that killing the node's agent cannot erase what was done. Port and SSH sessions are not
recorded (seed 004: their content cannot be logged); their metadata goes to the audit trail instead.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from openssm.protocol.asciicast import Event, Header, OutputText

RECORDED_TYPES = ("Standard_Stream", "InteractiveCommands", "NonInteractiveCommands")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]+")


def recording_dir(data_dir: Path) -> Path:
    return data_dir / "session-logs"


def recording_key(session_id: str, document: Mapping[str, Any], session_type: str) -> tuple[str, str] | None:
    """(bucket, key) of a session's transcript in the S3 bucket its preferences name, if they name one."""
    inputs = document.get("inputs") or {}
    bucket, prefix = str(inputs.get("s3BucketName") or ""), str(inputs.get("s3KeyPrefix") or "").strip("/")
    if not bucket or session_type not in RECORDED_TYPES:
        return None
    return bucket, f"{prefix}/{session_id}.log" if prefix else f"{session_id}.log"


def paths(directory: Path, session_id: str) -> tuple[Path, Path]:
    """(transcript, asciicast) of a session; the id is checked, as it names files."""
    if not _SAFE_ID.fullmatch(session_id):
        raise ValueError(f"not a session id: {session_id!r}")
    return directory / f"{session_id}.log", directory / f"{session_id}.cast"


class SessionRecording:
    """Observes a relay (bus/session_relay.Observer): output is written and flushed as it arrives."""

    def __init__(self, directory: Path, session_id: str, started: dt.datetime, title: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._directory = directory
        self.transcript_path, self.cast_path = paths(directory, session_id)
        # Opened at the first output: a process that relays the session without watching it writes nothing.
        self._files: tuple[IO[bytes], IO[str]] | None = None
        self._started, self._title, self._clock = started, title, clock
        self._origin = clock()
        self._size = (80, 24)
        self._header_written = False
        self._text = OutputText()

    def _open(self) -> tuple[IO[bytes], IO[str]]:
        if self._files is None:
            self._directory.mkdir(parents=True, exist_ok=True)
            self._files = self.transcript_path.open("ab"), self.cast_path.open("a", encoding="utf-8")
        return self._files

    def _header(self) -> IO[str]:
        cast = self._open()[1]
        if not self._header_written:
            cast.write(Header(*self._size, int(self._started.timestamp()), self._title).line())
            self._header_written = True
        return cast

    def _event(self, code: str, data: str) -> None:
        cast = self._header()
        cast.write(Event(self._clock() - self._origin, code, data).line())
        cast.flush()

    def output(self, data: bytes) -> None:
        transcript = self._open()[0]
        transcript.write(data)
        transcript.flush()
        text = self._text.text(data)
        if text:
            self._event("o", text)

    def input(self, data: bytes) -> None:
        """Keystrokes are not logged (nor does AWS log them: what they echo is)."""

    def resized(self, cols: int, rows: int) -> None:
        if not self._header_written:
            self._size = (cols, rows)  # the size the client starts with becomes the recording's own
            return
        self._event("r", f"{cols}x{rows}")

    @property
    def written(self) -> bool:
        return self._files is not None

    def close(self) -> None:
        if self._files is not None:
            self._header()
            for file in self._files:
                file.close()


class Unrecorded:
    """The observer of a session whose content is not logged (Port sessions)."""

    def output(self, data: bytes) -> None:
        pass

    def input(self, data: bytes) -> None:
        pass

    def resized(self, cols: int, rows: int) -> None:
        pass

    def close(self) -> None:
        pass
