"""In-process delivery: a control channel waits on its node's mailbox; SendCommand (on a worker thread) either
hands it the job itself (a node whose job it has just started, so the channel need not read the store) or
asks it to look (anything else). Across worker processes and replicas one watcher per process reads the
store's open work for all its channels (api/mgs.py StoreWatcher) and asks those with something unsent to
look, so a wake-up lost to another process costs at most a poll interval. (Sessions' data channels cross
processes over NATS: bus/session_links.py.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from openssm.protocol.agent_message import AgentMessage


class Deliverable(Protocol):
    """What a control channel sends a node: a Run Command job (mgs.AgentJob) or a session task
    (session_tasks.SessionTask), each sent once per connection by its id."""

    @property
    def job_id(self) -> str: ...

    @property
    def topic(self) -> str: ...

    def message(self, now_ms: int) -> AgentMessage: ...


@dataclass
class Mailbox:
    """What a channel is handed between two looks at the store."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event = field(default_factory=asyncio.Event)
    jobs: list[Deliverable] = field(default_factory=list)
    look: bool = False  # something happened that only the store can tell
    sent: set[str] = field(default_factory=set)  # job ids the channel has sent on this connection
    closing: bool = False  # the node was cut off or deregistered: the channel must close

    def take(self) -> tuple[list[Deliverable], bool]:
        """The jobs handed over and whether to look at the store; clears both (on the channel's loop)."""
        jobs, look = self.jobs, self.look
        self.jobs, self.look = [], False
        self.event.clear()
        return jobs, look


class LocalHub:
    def __init__(self) -> None:
        self._boxes: dict[str, Mailbox] = {}
        self._lock = threading.Lock()

    def register(self, instance_id: str, loop: asyncio.AbstractEventLoop) -> Mailbox:
        box = Mailbox(loop)
        with self._lock:
            self._boxes[instance_id] = box
        return box

    def unregister(self, instance_id: str, box: Mailbox) -> None:
        with self._lock:
            if self._boxes.get(instance_id) is box:
                del self._boxes[instance_id]

    def _post(self, instance_id: str, job: Deliverable | None) -> None:
        with self._lock:
            box = self._boxes.get(instance_id)
        if box is None:
            return

        def deliver() -> None:  # on the channel's loop, so the mailbox is only touched there
            if job is None:
                box.look = True
            else:
                box.jobs.append(job)
            box.event.set()

        box.loop.call_soon_threadsafe(deliver)

    def notify(self, instance_id: str) -> None:
        """Have the node's channel look at the store, if this process holds it; safe from any thread."""
        self._post(instance_id, None)

    def close(self, instance_id: str) -> None:
        """Have the node's channel close, if this process holds it; safe from any thread."""
        with self._lock:
            box = self._boxes.get(instance_id)
        if box is not None:
            def close() -> None:
                box.closing = True
                box.event.set()

            box.loop.call_soon_threadsafe(close)

    def offer(self, instance_id: str, job: Deliverable) -> None:
        """Hand a started job to the node's channel, if this process holds it; safe from any thread."""
        self._post(instance_id, job)

    def held(self) -> list[str]:
        """The nodes whose channel this process holds."""
        with self._lock:
            return list(self._boxes)

    def unsent(self, work: Mapping[str, Iterable[str]]) -> list[str]:
        """The nodes held here that `work` (node -> job ids) owes something their channel has not sent."""
        with self._lock:
            boxes = [(node, self._boxes.get(node)) for node in work]
        # Read off the channels' loops: a set's membership test is safe while the loop adds to it.
        return [node for node, box in boxes if box is not None and not set(work[node]) <= box.sent]

    def connected(self, instance_id: str) -> bool:
        with self._lock:
            return instance_id in self._boxes
