"""In-process delivery wake-ups: a control channel waits on its node's event; SendCommand (on a worker
thread) sets it. Across worker processes and replicas the channel also polls the store, so a wake-up lost
to another process costs at most a poll interval (NATS replaces the poll in scale-out, DESIGN §1)."""

from __future__ import annotations

import asyncio
import threading


class LocalHub:
    def __init__(self) -> None:
        self._waiting: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._lock = threading.Lock()

    def register(self, instance_id: str, loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
        with self._lock:
            self._waiting[instance_id] = (loop, event)

    def unregister(self, instance_id: str, event: asyncio.Event) -> None:
        with self._lock:
            if self._waiting.get(instance_id, (None, None))[1] is event:
                del self._waiting[instance_id]

    def notify(self, instance_id: str) -> None:
        """Wake the node's channel if this process holds it; safe from any thread."""
        with self._lock:
            waiting = self._waiting.get(instance_id)
        if waiting is not None:
            loop, event = waiting
            loop.call_soon_threadsafe(event.set)

    def connected(self, instance_id: str) -> bool:
        with self._lock:
            return instance_id in self._waiting
