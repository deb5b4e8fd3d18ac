"""AgentMessage byte-exact against the frames AWS's plugin and agent sent (tests/golden/captures)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from openssm.protocol.agent_message import AgentMessage, AgentMessageError, Flags, PayloadType

CAPTURES = Path(__file__).parents[2] / "golden" / "captures"


def binary_frames() -> list[tuple[str, dict[str, Any]]]:
    frames = []
    for name in ("shell.json", "ssh-stream.json", "port-mux.json"):
        for i, frame in enumerate(json.loads((CAPTURES / name).read_text())["frames"]):
            if frame.get("websocket") == "binary":
                frames.append((f"{name}#{i}", frame))
    agent = json.loads((CAPTURES / "amazon-ssm-agent.json").read_text())
    for i, event in enumerate(agent["events"]):
        if event.get("kind") == "ws-binary":
            frames.append((f"amazon-ssm-agent.json#{i}", event))
    return frames


FRAMES = binary_frames()


def test_the_captures_hold_frames_of_both_programs() -> None:
    assert sum(1 for name, _ in FRAMES if name.startswith("amazon-ssm-agent")) >= 3
    assert len(FRAMES) >= 20


@pytest.mark.parametrize(("name", "frame"), FRAMES, ids=[n for n, _ in FRAMES])
def test_captured_frames_decode_and_encode_back_byte_for_byte(name: str, frame: dict[str, Any]) -> None:
    raw = bytes.fromhex(frame["hex"])
    message = AgentMessage.decode(raw)
    decoded = frame.get("decoded")
    if decoded:
        assert message.message_type == decoded["MessageType"]
        assert message.sequence_number == decoded["SequenceNumber"]
        assert message.flags == decoded["Flags"]
        assert str(message.message_id) == decoded["MessageId"]
        assert message.payload_type == decoded["PayloadType"]
        assert message.created_date == decoded["CreatedDate"]
    assert message.encode() == raw


def test_a_corrupted_payload_is_refused() -> None:
    raw = bytearray(bytes.fromhex(FRAMES[0][1]["hex"]))
    raw[-1] ^= 0xFF
    with pytest.raises(AgentMessageError, match="digest"):
        AgentMessage.decode(bytes(raw))


def test_truncated_and_mislabelled_frames_are_refused() -> None:
    raw = bytes.fromhex(FRAMES[0][1]["hex"])
    with pytest.raises(AgentMessageError):
        AgentMessage.decode(raw[:50])
    with pytest.raises(AgentMessageError):
        AgentMessage.decode(raw[:-1])
    with pytest.raises(AgentMessageError):
        AgentMessage.decode(b"\x00\x00\x00\x75" + raw[4:])


def test_a_new_message_round_trips() -> None:
    message = AgentMessage("input_stream_data", 7, Flags.NONE, uuid.uuid4(), PayloadType.SIZE,
                           b'{"cols":120,"rows":40}', 1795344784254)
    assert AgentMessage.decode(message.encode()) == message
