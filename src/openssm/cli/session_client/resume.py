"""Getting a dropped data channel back, as AWS's plugin does: ResumeSession for a new token (and stream URL),
retried with its backoff (src/retry/retryer.go, src/config/config.go): a first delay of 100–199 ms doubled at
each attempt and started over past 5 s, at most 5 retries after the first try."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.session import Session

RETRY_BASE = 2
MAX_RETRIES = 5
INITIAL_DELAY_MS = 100
MAX_DELAY_MS = 5000


@dataclass(frozen=True)
class RetryPolicy:
    """AWS's RepeatableExponentialRetryer for the data channel; `delays()` are the sleeps between tries."""

    initial_ms: int
    ratio: float = RETRY_BASE
    max_delay_ms: int = MAX_DELAY_MS
    max_retries: int = MAX_RETRIES

    @classmethod
    def aws(cls, rand: Callable[[int], int] = random.randrange) -> RetryPolicy:
        return cls(INITIAL_DELAY_MS + rand(INITIAL_DELAY_MS))

    def delays(self) -> Iterator[float]:
        attempt = 0
        for _ in range(self.max_retries):
            sleep = self.initial_ms * self.ratio ** attempt
            if sleep > self.max_delay_ms:
                attempt, sleep = 0, self.initial_ms
            yield sleep / 1000
            attempt += 1


@dataclass(frozen=True)
class Resumed:
    """ResumeSession's answer; an empty token means the session is over (AWS: "Session: … timed out.")."""

    token: str
    stream_url: str


class Resumer(Protocol):
    async def resume(self, session_id: str) -> Resumed: ...


@dataclass(frozen=True)
class SsmResumer:
    """ResumeSession through botocore, with the plugin's profile (empty: the default chain), region and endpoint."""

    region: str
    profile: str = ""
    endpoint_url: str | None = None

    @functools.cached_property
    def _client(self) -> Any:
        session = Session(profile=self.profile or None)
        return session.create_client("ssm", region_name=self.region or None, endpoint_url=self.endpoint_url or None)

    async def resume(self, session_id: str) -> Resumed:
        def call() -> Resumed:
            answer = self._client.resume_session(SessionId=session_id)
            return Resumed(str(answer.get("TokenValue") or ""), str(answer.get("StreamUrl") or ""))

        return await asyncio.to_thread(call)
