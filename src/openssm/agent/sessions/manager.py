"""The node's sessions by id: each task runs once however often the service sends it (a control channel that
reconnects sends it again), its outcome is kept for a while so that a repeated task can be answered again,
and the service can end a running session by id."""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Callable

from openssm.agent.sessions.data_channel import Connect
from openssm.agent.sessions.runner import SessionOutcome, SessionRunner, SessionSettings
from openssm.agent.sessions.users import SessionUsers
from openssm.protocol.session_tasks import SessionTask

REMEMBERED = 1000  # finished sessions whose outcome is kept


class Sessions:
    def __init__(self, connector: Callable[[str, str], Connect], *, agent_version: str,
                 users: SessionUsers | None = None, settings: SessionSettings | None = None) -> None:
        """`connector(session_id, client_id)` opens that session's data channel."""
        self._connector = connector
        self._agent_version = agent_version
        self._users = users or SessionUsers()
        self._settings = settings or SessionSettings()
        self._runners: dict[str, SessionRunner] = {}
        self._tasks: OrderedDict[str, asyncio.Task[SessionOutcome]] = OrderedDict()

    def start(self, task: SessionTask) -> tuple[asyncio.Task[SessionOutcome], bool]:
        """The session's run (a task whose result is its outcome), and whether it started now."""
        known = self._tasks.get(task.session_id)
        if known is not None:
            return known, False
        runner = SessionRunner(task, self._connector(task.session_id, str(uuid.uuid4())),
                               agent_version=self._agent_version, users=self._users, settings=self._settings)
        self._runners[task.session_id] = runner
        run = self._tasks[task.session_id] = asyncio.create_task(runner.run(), name=f"session {task.session_id}")
        run.add_done_callback(lambda _: self._runners.pop(task.session_id, None))
        self._forget_old()
        return run, True

    def _forget_old(self) -> None:
        for session_id in list(self._tasks):
            if len(self._tasks) <= REMEMBERED:
                return
            if self._tasks[session_id].done():
                del self._tasks[session_id]

    def terminate(self, session_id: str) -> bool:
        """End a running session (its outcome: Terminated); False when it is not running here."""
        runner = self._runners.get(session_id)
        if runner is None:
            return False
        runner.terminate()
        return True

    @property
    def running(self) -> list[str]:
        return list(self._runners)

    async def close(self) -> None:
        """Terminate every running session and wait for them to end."""
        for runner in list(self._runners.values()):
            runner.terminate()
        running = [t for t in self._tasks.values() if not t.done()]
        if running:
            await asyncio.wait(running)
