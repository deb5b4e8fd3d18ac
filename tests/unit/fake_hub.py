"""A command hub for unit tests of the schedulers: a process that holds no control channel."""

from __future__ import annotations

from dataclasses import dataclass, field

from openssm.protocol.mgs import AgentJob


@dataclass
class FakeHub:
    """The control channels of a process that holds none: every node is only notified."""

    notified: list[str] = field(default_factory=list)
    offered: list[tuple[str, AgentJob]] = field(default_factory=list)

    def connected(self, instance_id: str) -> bool:
        return False

    def offer(self, instance_id: str, job: AgentJob) -> None:
        self.offered.append((instance_id, job))

    def notify(self, instance_id: str) -> None:
        self.notified.append(instance_id)
