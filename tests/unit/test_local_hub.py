"""The in-process hub between SendCommand, the store watcher and control channels."""

from __future__ import annotations

import asyncio

from openssm.bus.local import LocalHub
from openssm.protocol.mgs import AgentJob


def test_only_channels_held_here_with_something_unsent_are_asked_to_look() -> None:
    async def scenario() -> None:
        hub = LocalHub()
        loop = asyncio.get_running_loop()
        one, two = hub.register("mi-1", loop), hub.register("mi-2", loop)
        one.sent.add("job-a")
        assert sorted(hub.held()) == ["mi-1", "mi-2"]
        work = {"mi-1": {"job-a"}, "mi-2": {"job-b"}, "mi-elsewhere": {"job-c"}}
        assert hub.unsent(work) == ["mi-2"]
        hub.notify("mi-2")
        hub.offer("mi-1", AgentJob("job-d", "{}"))
        await asyncio.sleep(0)
        assert two.take() == ([], True)
        jobs, look = one.take()
        assert [j.job_id for j in jobs] == ["job-d"] and look is False
        hub.unregister("mi-2", two)
        assert hub.unsent(work) == [] and hub.held() == ["mi-1"]

    asyncio.run(scenario())
