"""`openssm session replay <id>`: play back a shell session the server recorded at its relay (asciicast v2 in
<data-dir>/session-logs), with its timing, or print its transcript."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from openssm.protocol.asciicast import AsciicastError, read
from openssm.services.session_recording import paths, recording_dir


@click.group()
def session() -> None:
    """Session Manager sessions recorded by this server."""


@session.command("replay")
@click.argument("session_id")
@click.option("--data-dir", default=".openssm", show_default=True, type=click.Path(path_type=Path, exists=True))
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Playback speed (2 = twice as fast).")
@click.option("--max-wait", default=2.0, show_default=True, type=click.FloatRange(min=0),
              help="Longest pause between two outputs, in seconds (idle stretches are cut to it).")
@click.option("--transcript", is_flag=True, help="Print the session's output at once, without timing.")
def replay(session_id: str, data_dir: Path, speed: float, max_wait: float, transcript: bool) -> None:
    """Replay SESSION_ID's recording on this terminal."""
    try:
        transcript_path, cast_path = paths(recording_dir(data_dir), session_id)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="SESSION_ID") from err
    if not cast_path.exists():
        raise click.ClickException(f"no recording of session {session_id} in {recording_dir(data_dir)} (only "
                                   "shell and command sessions are recorded; SSH and port sessions are not)")
    out = sys.stdout.buffer
    if transcript:
        out.write(transcript_path.read_bytes())
        out.flush()
        return
    with cast_path.open(encoding="utf-8") as lines:
        try:
            header, events = read(iter(lines))
        except AsciicastError as err:
            raise click.ClickException(f"{cast_path}: {err}") from err
    click.echo(f"Replaying session {session_id} ({header.width}x{header.height}).", err=True)
    previous = 0.0
    for event in events:
        time.sleep(min(max(event.time - previous, 0.0), max_wait) / speed)
        previous = event.time
        if event.code == "o":
            out.write(event.data.encode())
            out.flush()
