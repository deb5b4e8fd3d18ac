"""Links between the server processes that hold a session's two ends (DESIGN §1: NATS in scale-out). A frame for
an end this process does not hold is published on the session's subject for that end; the process holding that
end subscribes to it. Core NATS, not JetStream: a frame published while the end is between connections is lost
like any frame on a dropped socket, and the sender's retransmission (DESIGN §4) brings it again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)
Deliver = Callable[[bytes], Awaitable[None]]
Unsubscribe = Callable[[], Awaitable[None]]


class SessionLinks(Protocol):
    @property
    def enabled(self) -> bool: ...

    async def publish(self, session_id: str, side: str, frame: bytes) -> None: ...

    async def subscribe(self, session_id: str, side: str, deliver: Deliver) -> Unsubscribe: ...


def subject(session_id: str, side: str) -> str:
    # Session ids may hold dots, NATS's token separator: hex keeps a subject one token per part.
    return f"openssm.session.{session_id.encode().hex()}.{side}"


class NoLinks:
    """One process serves everything: both ends of every session meet in it."""

    enabled = False

    async def publish(self, session_id: str, side: str, frame: bytes) -> None:
        pass

    async def subscribe(self, session_id: str, side: str, deliver: Deliver) -> Unsubscribe:
        async def nothing() -> None:
            pass
        return nothing


class NatsLinks:
    """Links over a NATS server; connected on the event loop that serves the data channels."""

    enabled = True

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Any = None

    async def connect(self) -> None:
        import nats  # imported here: a server without --nats-url never loads the client

        self._client = await nats.connect(self._url, name="openssm-server", max_reconnect_attempts=-1)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.drain()

    async def publish(self, session_id: str, side: str, frame: bytes) -> None:
        try:
            await self._client.publish(subject(session_id, side), frame)
        except Exception as err:  # NATS away for a moment: the frame's sender will resend it
            log.warning("session %s: a frame for the %s could not be published: %s", session_id, side, err)

    async def subscribe(self, session_id: str, side: str, deliver: Deliver) -> Unsubscribe:
        async def handler(message: Any) -> None:
            await deliver(bytes(message.data))
        subscription = await self._client.subscribe(subject(session_id, side), cb=handler)

        async def unsubscribe() -> None:
            try:
                await subscription.unsubscribe()
            except Exception as err:
                log.info("session %s: leaving its %s subject: %s", session_id, side, err)
        return unsubscribe
