"""Running Run Command jobs exactly once per (CommandId, node), whichever channel brings them.

A job is recorded as started in the state directory before it runs and with its final reply after. A job
delivered again once answered is answered from the record; one found started but unanswered (the agent died
while it ran) is reported Failed rather than run again, as AWS's agent does not re-run it either; within one
process a job delivered again while it runs joins the running one. Each job runs on its own thread.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from openssm.agent.output_upload import OutputUploader
from openssm.agent.plugins.document import Invocation, parse_document, run_document
from openssm.agent.plugins.run_shell import ProcessHandle
from openssm.agent.plugins.steps import StepPlugin, failed
from openssm.agent.state import StateDir
from openssm.protocol.command_payload import BadPayload, Step
from openssm.protocol.mgs import JobReply, PluginResult

log = logging.getLogger(__name__)
LOST_MESSAGE = "The agent stopped while the command ran; it was not run again."


def document_status(results: tuple[PluginResult, ...]) -> str:
    statuses = {r.status for r in results} - {"Skipped"}
    if statuses <= {"Success"}:
        return "Success"
    return next((s for s in ("Cancelled", "TimedOut") if s in statuses), "Failed")


def reply_to_record(reply: JobReply) -> dict[str, Any]:
    return {"job_id": reply.job_id, "status": reply.document_status, "plugins": [vars(p) for p in reply.plugins]}


def reply_from_record(data: dict[str, Any]) -> JobReply:
    return JobReply(data["job_id"], data["status"], tuple(PluginResult(**p) for p in data["plugins"]))


def job_environment(command_id: str, state: StateDir) -> dict[str, str]:
    """What AWS's agent sets for a command's scripts: the node and its region (executers.go) and the command's
    id (runscript.go: SSM_COMMAND_ID)."""
    env = {"SSM_COMMAND_ID": command_id} if command_id else {}
    registration = state.registration()
    if registration is not None:
        env.update(AWS_SSM_INSTANCE_ID=registration.instance_id, AWS_SSM_REGION_NAME=registration.region)
    return env


class Jobs:
    def __init__(self, state: StateDir, output: OutputUploader | None = None,
                 plugins: Mapping[str, StepPlugin] | None = None) -> None:
        """`plugins`: the plugins past the built-in shell ones (steps.run_step)."""
        self._state = state
        self._output = output
        self._plugins = plugins
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Future[JobReply], ProcessHandle]] = {}

    def answered(self, job_id: str) -> JobReply | None:
        """The recorded final reply of a job that has run."""
        recorded = self._state.job(job_id)
        return reply_from_record(recorded["reply"]) if recorded and "reply" in recorded else None

    def submit(self, job_id: str, content: str) -> Future[JobReply]:
        """The job's final reply, once; starting it only if it has neither run nor is running."""
        with self._lock:
            if job_id in self._running:
                return self._running[job_id][0]
            done = self.answered(job_id)
            future: Future[JobReply] = Future()
            if done is not None:
                future.set_result(done)
                return future
            handle = ProcessHandle()
            self._running[job_id] = (future, handle)
        threading.Thread(target=self._run, args=(job_id, content, future, handle), name=f"job-{job_id}",
                         daemon=True).start()
        return future

    def run(self, job_id: str, content: str) -> JobReply:
        return self.submit(job_id, content).result()

    def cancel(self, job_id: str) -> bool:
        """Kill a running job's process group; False if it is not running here."""
        with self._lock:
            running = self._running.get(job_id)
        if running is None:
            return False
        running[1].cancel()
        return True

    def _run(self, job_id: str, content: str, future: Future[JobReply], handle: ProcessHandle) -> None:
        try:
            reply = self._execute(job_id, content, handle)
        except Exception as err:  # a bug or a full disk must still answer the service
            log.exception("job %s failed in the agent", job_id)
            reply = JobReply(job_id, "Failed", (PluginResult("aws:runShellScript", "Failed", 1, "", str(err), "", "",
                                                             "aws:runShellScript"),))
        with self._lock:
            self._running.pop(job_id, None)
        future.set_result(reply)

    def _execute(self, job_id: str, content: str, handle: ProcessHandle) -> JobReply:
        recorded = self._state.job(job_id)
        if recorded is not None and "reply" in recorded:
            return reply_from_record(recorded["reply"])
        if recorded is not None:
            reply = JobReply(job_id, "Failed", (failed(Step("aws:runShellScript", "", (), "", 0), LOST_MESSAGE),))
        else:
            self._state.record_job(job_id, {"started": dt.datetime.now(dt.UTC).isoformat()})
            reply = self._steps(job_id, content, handle)
        self._state.record_job(job_id, {"reply": reply_to_record(reply)})
        return reply

    def _steps(self, job_id: str, content: str, handle: ProcessHandle) -> JobReply:
        try:
            document = parse_document(content)
        except BadPayload as err:
            return JobReply(job_id, "Failed", (failed(Step("aws:runShellScript", "", (), "", 0), str(err)),))
        command_id = document.job.command_id
        invocation = Invocation(command_id or job_id, self._state.work_dir(job_id),
                                job_environment(command_id, self._state))
        plugins = run_document(document, invocation, handle, self._plugins, self._output)
        return JobReply(job_id, "Cancelled" if handle.cancelled else document_status(plugins), plugins)
