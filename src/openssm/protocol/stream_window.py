"""Reliable, ordered streams over a data channel (DESIGN §4), pure: the caller passes the time in.

Each direction numbers its stream messages from 0. The receiver acknowledges every message (duplicates
again, since the first acknowledgement may have been lost), delivers in order and buffers what arrives
early. The sender keeps what is unacknowledged and resends it after a retransmission timeout estimated as
RFC 6298 does (from 200 ms, capped at 1 s), as AWS's agent and plugin do.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from openssm.protocol.agent_message import AgentMessage

INITIAL_RTO = 0.2
MIN_RTO = 0.2
MAX_RTO = 1.0
_ALPHA, _BETA, _K = 0.125, 0.25, 4


@dataclass
class _Sent:
    message: AgentMessage
    first_sent: float
    last_sent: float
    resent: bool = False


class OutgoingStream:
    """Numbers outgoing messages, keeps them until acknowledged and says which are due again."""

    def __init__(self) -> None:
        self.next_sequence = 0
        self._unacked: OrderedDict[int, _Sent] = OrderedDict()
        self._srtt: float | None = None
        self._rttvar = 0.0
        self.rto = INITIAL_RTO

    def take_sequence(self) -> int:
        sequence = self.next_sequence
        self.next_sequence += 1
        return sequence

    def sent(self, message: AgentMessage, now: float) -> None:
        self._unacked[message.sequence_number] = _Sent(message, now, now)

    def acknowledged(self, sequence: int, now: float) -> bool:
        """Forget the message; False when it was not outstanding (a late duplicate acknowledgement)."""
        entry = self._unacked.pop(sequence, None)
        if entry is None:
            return False
        if not entry.resent:  # Karn's rule: a resent message's round trip is ambiguous
            self._sample(now - entry.first_sent)
        return True

    def due(self, now: float) -> list[AgentMessage]:
        """Messages whose timeout has passed, marked as resent now; oldest first."""
        again = []
        for entry in self._unacked.values():
            if now - entry.last_sent >= self.rto:
                entry.last_sent, entry.resent = now, True
                again.append(entry.message)
        return again

    @property
    def outstanding(self) -> int:
        return len(self._unacked)

    def _sample(self, rtt: float) -> None:
        if self._srtt is None:
            self._srtt, self._rttvar = rtt, rtt / 2
        else:
            self._rttvar = (1 - _BETA) * self._rttvar + _BETA * abs(self._srtt - rtt)
            self._srtt = (1 - _ALPHA) * self._srtt + _ALPHA * rtt
        self.rto = min(MAX_RTO, max(MIN_RTO, self._srtt + _K * self._rttvar))


@dataclass(frozen=True)
class Receipt:
    """What a received message made deliverable, and whether to acknowledge it (an early message that
    did not fit the buffer is not: its sender will resend it)."""

    ready: tuple[AgentMessage, ...]
    acknowledge: bool


class IncomingStream:
    """Orders incoming messages: each `receive()` returns those now deliverable, in sequence order."""

    def __init__(self, max_buffered: int = 10_000) -> None:
        self.expected = 0
        self._early: dict[int, AgentMessage] = {}
        self._max_buffered = max_buffered

    def receive(self, message: AgentMessage) -> Receipt:
        sequence = message.sequence_number
        if sequence < self.expected or sequence in self._early:
            return Receipt((), True)  # a duplicate: its acknowledgement may have been lost
        if sequence > self.expected:
            if len(self._early) >= self._max_buffered:
                return Receipt((), False)
            self._early[sequence] = message
            return Receipt((), True)
        ready = [message]
        self.expected += 1
        while self.expected in self._early:
            ready.append(self._early.pop(self.expected))
            self.expected += 1
        return Receipt(tuple(ready), True)
