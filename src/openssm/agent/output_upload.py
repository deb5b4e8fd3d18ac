"""Uploading a running step's full stdout and stderr to OpenSSM's output endpoint, a piece each second and the
rest before the step's reply, so the service keeps what AWS's cuts leave out and readers can follow it live.
AWS's agent has no such channel; a service that lacks the endpoint is told nothing and loses nothing (the
output stays in the job's work directory), so failures here are logged, never fatal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from openssm.agent.client import CallFailed, Request, RoleCredentials, SsmClient

log = logging.getLogger(__name__)
PIECE = 256 * 1024
INTERVAL_SECONDS = 1.0
_FINAL_ATTEMPTS = 3


class StepOutput:
    """One step's two output files, uploaded as they grow."""

    def __init__(self, uploader: OutputUploader, command_id: str, plugin: str, step_dir: Path) -> None:
        self._uploader = uploader
        self._command_id = command_id
        self._plugin = plugin
        self._dir = step_dir
        self._sent = {"stdout": 0, "stderr": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=f"output-{command_id}", daemon=True)

    def __enter__(self) -> StepOutput:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for _ in range(_FINAL_ATTEMPTS):
            if self._push_all():
                return
        log.warning("the full output of %s/%s was not all uploaded; it stays on the node", self._command_id,
                    self._plugin)

    def _follow(self) -> None:
        while not self._stop.wait(INTERVAL_SECONDS):
            self._push_all()

    def _push_all(self) -> bool:
        """Upload what the files hold beyond what was sent; True when nothing is left."""
        try:
            for stream in self._sent:
                path = self._dir / stream
                while path.exists() and path.stat().st_size > self._sent[stream]:
                    with open(path, "rb") as f:
                        f.seek(self._sent[stream])
                        piece = f.read(PIECE)
                    self._sent[stream] = self._uploader.put(self._command_id, self._plugin, stream,
                                                            self._sent[stream], piece)
            return True
        except (CallFailed, OSError) as err:
            log.info("output upload for %s paused: %s", self._command_id, err)
            return False


class OutputUploader:
    def __init__(self, client: SsmClient, instance_id: str, credentials: Callable[[], RoleCredentials]) -> None:
        self._client = client
        self._instance_id = instance_id
        self._credentials = credentials

    def step(self, command_id: str, plugin: str, step_dir: Path) -> StepOutput:
        return StepOutput(self, command_id, plugin, step_dir)

    def put(self, command_id: str, plugin: str, stream: str, offset: int, data: bytes) -> int:
        """Upload a piece; answers the offset the service wants next (which a lost answer may move on)."""
        query = urlencode({"offset": str(offset), "plugin": plugin, "stream": stream}, quote_via=quote)
        url = f"{self._client.endpoint}/openssm/v1/output/{quote(command_id)}/{quote(self._instance_id)}?{query}"
        request = self._client.signed(Request("PUT", url, {"Content-Type": "application/octet-stream"}, data),
                                      self._credentials())
        try:
            return int(self._client.send(request)["nextOffset"])
        except CallFailed as err:
            if err.status == 409 and isinstance(err.detail.get("nextOffset"), int):
                return int(err.detail["nextOffset"])
            raise
