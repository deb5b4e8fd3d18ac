"""State Manager on the node: the associations the service lists for it, each one's document run through the
document machinery (plugins/document.py), and the outcome reported, with the calls AWS's agent makes
(agent/association/service/service.go, processor/processor.go), signed with the node's role credentials:

- `ListInstanceAssociations {"InstanceId", "MaxResults": 20, "NextToken"?}` answered `{"Associations":
  [{"AssociationId", "AssociationVersion", "Checksum", "DetailedStatus", "DocumentVersion", "InstanceId",
  "LastExecutionDate", "Name", "OutputLocation", "Parameters": {name: [values]}, "ScheduleExpression", "Status",
  "Targets"}], "NextToken"?}`, followed until NextToken is empty;
- `GetDocument {"Name", "DocumentVersion" (when not empty)}` answered `{"Content": "<document JSON>", …}`, once
  per association and checksum; skipped when the listing carries the document in the summary's `Content` (an
  OpenSSM extension);
- `UpdateInstanceAssociationStatus {"AssociationId", "ExecutionResult": {"ErrorCode", "ExecutionDate",
  "ExecutionSummary", "Status"}, "InstanceId"}`: InProgress ("Executing association") before a run, then Success,
  Failed (ErrorCode ExecutionError) or TimedOut with AWS's summary, e.g. "1 out of 1 plugin processed, 1 success,
  0 failed, 0 timedout, 0 skipped. " (trailing space included), each failed step adding "\\nThe operation <step>
  failed because <its stderr>.", cut to 510 bytes; a document that cannot be fetched is Failed with
  ListAssocError, one that cannot be parsed Failed with InvalidAssoc. ExecutionDate is epoch seconds to the
  millisecond (JSON 1.1). AWS's agent sends no OutputUrl unless it uploaded output to S3, nor does this.

Association parameters become the document's as AWS's agent converts them (docparser.ParseParameters): a
String or StringMap parameter takes its first value, a StringList all; undeclared ones and other types are
dropped, so their defaults apply. Runs are one at a time; scripts see SSM_COMMAND_ID = the association id."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from openssm.agent.client import CallFailed, SsmCall
from openssm.agent.jobs import job_environment
from openssm.agent.plugins.document import Document, Invocation, parse_document, run_document
from openssm.agent.plugins.run_shell import ProcessHandle
from openssm.agent.plugins.steps import StepPlugin
from openssm.agent.state import StateDir
from openssm.protocol.command_payload import BadPayload
from openssm.protocol.mgs import PluginResult, send_command_payload

log = logging.getLogger(__name__)
PAGE_SIZE = 20
IN_PROGRESS_MESSAGE = "Executing association"
SUMMARY = "{} out of {} plugin{} processed, {} success, {} failed, {} timedout, {} skipped. {}"
SUMMARY_LIMIT_BYTES, TRUNCATED = 510, "--output truncated--"
EXECUTION_ERROR, LIST_ERROR, INVALID_ASSOCIATION = "ExecutionError", "ListAssocError", "InvalidAssoc"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_SUCCEEDED = frozenset({"Success", "SuccessAndReboot", "PassedAndReboot"})


@dataclass(frozen=True)
class Association:
    association_id: str
    document_name: str
    document_version: str = ""
    checksum: str = ""
    parameters: Mapping[str, tuple[str, ...]] | None = None
    content: str | None = None  # the document, when the listing carries it


@dataclass(frozen=True)
class Outcome:
    status: str  # Success | Failed | TimedOut
    error_code: str
    summary: str


def parse_association(raw: Mapping[str, Any]) -> Association:
    parameters = {str(name): tuple(str(v) for v in values if v is not None)
                  for name, values in (raw.get("Parameters") or {}).items() if isinstance(values, list)}
    content = raw.get("Content")
    return Association(str(raw.get("AssociationId") or ""), str(raw.get("Name") or ""),
                       str(raw.get("DocumentVersion") or ""), str(raw.get("Checksum") or ""), parameters,
                       content if isinstance(content, str) else (json.dumps(content) if content else None))


def run_parameters(given: Mapping[str, tuple[str, ...]], declared: Mapping[str, Any]) -> dict[str, Any]:
    """The association's parameters as the document's (docparser.ParseParameters)."""
    converted: dict[str, Any] = {}
    for name, values in given.items():
        definition = declared.get(name)
        kind = definition.get("type") if isinstance(definition, Mapping) else None
        if kind in ("String", "StringMap"):
            converted[name] = values[0] if values else ""
        elif kind == "StringList":
            converted[name] = list(values)
    return converted


def execution_summary(results: Sequence[PluginResult], total: int) -> str:
    """AWS's ExecutionSummary (processor.go buildOutput), cut as ReadPrefix cuts it."""
    failed = [r for r in results if r.status == "Failed"]
    report = "".join(f"\nThe operation {r.name} failed because {r.standard_error}." for r in failed)
    text = SUMMARY.format(len([r for r in results if r.status]), total, "s" if total > 1 else "",
                          len([r for r in results if r.status in _SUCCEEDED]), len(failed),
                          len([r for r in results if r.status == "TimedOut"]),
                          len([r for r in results if r.status == "Skipped"]), report)
    data = text.encode()
    if len(data) < SUMMARY_LIMIT_BYTES:
        return text
    return data[:SUMMARY_LIMIT_BYTES - len(TRUNCATED)].decode(errors="ignore") + TRUNCATED


def outcome(results: Sequence[PluginResult], total: int, cancelled: bool) -> Outcome:
    """The association's final status from its steps' (contracts/aggregator.go: Failed over TimedOut); a run
    cancelled before its end is Failed."""
    statuses = {r.status for r in results}
    summary = execution_summary(results, total)
    if "Failed" in statuses or cancelled or "Cancelled" in statuses or len(results) < total:
        return Outcome("Failed", EXECUTION_ERROR, summary)
    return Outcome("TimedOut" if "TimedOut" in statuses else "Success", "", summary)


def _epoch_seconds(when: dt.datetime) -> float | int:
    """A JSON 1.1 timestamp as AWS's SDK writes it: seconds to the millisecond, no fraction when whole."""
    millis = (when - _EPOCH) // dt.timedelta(milliseconds=1)
    return millis // 1000 if millis % 1000 == 0 else millis / 1000


class Associations:
    def __init__(self, call: SsmCall, instance_id: str, state: StateDir,
                 plugins: Mapping[str, StepPlugin] | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        """`plugins`: those an association's document may use past the shell ones (aws:softwareInventory)."""
        self._call = call
        self._instance_id = instance_id
        self._state = state
        self._plugins = plugins
        self._clock = clock
        self._documents: dict[tuple[str, str, str], str] = {}
        self._run_lock = threading.Lock()

    def listed(self) -> list[Association]:
        """Every association of this node (CallFailed when the service cannot be asked)."""
        found: list[Association] = []
        token = ""
        while True:
            body: dict[str, Any] = {"InstanceId": self._instance_id, "MaxResults": PAGE_SIZE}
            if token:
                body["NextToken"] = token
            answer = self._call("ListInstanceAssociations", body)
            found.extend(parse_association(raw) for raw in answer.get("Associations") or ())
            token = str(answer.get("NextToken") or "")
            if not token:
                return found

    def document(self, association: Association) -> str:
        """The association's document (GetDocument, kept per association, version and checksum)."""
        if association.content is not None:
            return association.content
        key = (association.association_id, association.document_version, association.checksum)
        if key not in self._documents:
            body = {"Name": association.document_name}
            if association.document_version:
                body["DocumentVersion"] = association.document_version
            content = str(self._call("GetDocument", body)["Content"])
            for stale in [k for k in self._documents if k[0] == association.association_id]:
                del self._documents[stale]  # the association changed: its old document is not needed again
            self._documents[key] = content
        return self._documents[key]

    def prepare(self, association: Association, content: str) -> Document:
        """The association's document with its parameters as a run; BadPayload when it cannot be read."""
        try:
            document = json.loads(content)
            declared = document.get("parameters") or {}
        except (ValueError, AttributeError) as err:
            raise BadPayload(f"not a document: {err}") from err
        payload = send_command_payload(association.association_id, association.document_name, document,
                                       run_parameters(association.parameters or {}, declared))
        return parse_document(payload)

    def apply(self, association: Association, document: Document, handle: ProcessHandle,
              current: Mapping[str, tuple[str, ...]]) -> Outcome:
        """Run the association now and report it, InProgress first."""
        association_id = association.association_id
        with self._run_lock:
            self.report(association_id, Outcome("InProgress", "", IN_PROGRESS_MESSAGE))
            invocation = Invocation(association_id, self._state.work_dir(f"association-{association_id}"),
                                    job_environment(association_id, self._state), association_id, current)
            try:
                results = run_document(document, invocation, handle, self._plugins)
                final = outcome(results, len(document.job.steps), handle.cancelled)
            except Exception as err:  # a bug or a full disk must still end the run for State Manager
                log.exception("association %s failed in the agent", association_id)
                final = Outcome("Failed", EXECUTION_ERROR, f"Encountered error while running association "
                                                           f"{association_id}, {err}"[:SUMMARY_LIMIT_BYTES])
            self.report(association_id, final)
            return final

    def report(self, association_id: str, result: Outcome) -> None:
        """UpdateInstanceAssociationStatus; a failure is logged, as AWS's agent logs it."""
        execution = {"ErrorCode": result.error_code, "ExecutionDate": _epoch_seconds(self._clock()),
                     "ExecutionSummary": result.summary, "Status": result.status}
        try:
            self._call("UpdateInstanceAssociationStatus", {"AssociationId": association_id,
                                                           "ExecutionResult": execution,
                                                           "InstanceId": self._instance_id})
        except CallFailed as err:
            log.warning("association %s: status %s not reported: %s", association_id, result.status, err)
