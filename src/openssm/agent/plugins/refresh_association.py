"""aws:refreshAssociation, the step of AWS-RefreshAssociation (input `associationIds`: a list of ids, empty or
[""] for all). AWS's agent marks the chosen associations Pending and wakes its scheduler
(agent/association/processor/refreshassociation.go); this agent has no scheduler of its own, so it runs them
here, one after another, each reported to State Manager as it ends (associations.py). As at AWS the step's
status is Success even when something went wrong: the associations could not be listed, a document could not
be fetched, or the input was not a list; then its code is 1 and stderr says why. An association that fails is
reported Failed to State Manager and does not fail the step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from openssm.agent.associations import INVALID_ASSOCIATION, LIST_ERROR, Association, Associations, Outcome
from openssm.agent.client import CallFailed
from openssm.agent.plugins.document import Document
from openssm.agent.plugins.steps import STDERR_LIMIT, STDOUT_LIMIT, StepRun, cut, stamp
from openssm.protocol.command_payload import BadPayload
from openssm.protocol.mgs import PluginResult

NAME = "aws:refreshAssociation"
ALL_REQUESTED = "All associations have been requested to execute immediately"
SOME_REQUESTED = "Associations [{}] have been requested to execute immediately"  # Go's %v of a []string


def requested_ids(inputs: Mapping[str, Any]) -> list[str]:
    """The associationIds input (any case); [] for all. ValueError when it is not a list of strings."""
    value = next((v for k, v in inputs.items() if str(k).lower() == "associationids"), None)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"Invalid format in plugin properties {dict(inputs)};\nerror associationIds must be a list "
                         "of strings")
    return [] if value == [""] else list(value)


def plugins_in_use(documents: Mapping[str, Document]) -> dict[str, tuple[str, ...]]:
    """Each plugin and the associations whose documents use it (AWS's agent: CurrentAssociations)."""
    users: dict[str, list[str]] = {}
    for association_id, document in documents.items():
        for action in dict.fromkeys(step.action for step in document.job.steps):
            users.setdefault(action, []).append(association_id)
    return {action: tuple(ids) for action, ids in users.items()}


class RefreshAssociation:
    def __init__(self, associations: Associations,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self._associations = associations
        self._clock = clock

    def __call__(self, run: StepRun) -> PluginResult:
        start, errors = self._clock(), list[str]()
        try:
            ids = requested_ids(run.inputs)
            listed = self._associations.listed()
        except ValueError as err:
            return self._result(run, start, "", [str(err)])
        except CallFailed as err:
            return self._result(run, start, "", [f"failed to list instance associations, {err}"])
        documents = self._documents(listed, ids, errors)
        current = plugins_in_use(documents)  # over all the node's associations, as AWS's CurrentAssociations
        lines = [SOME_REQUESTED.format(" ".join(ids)) if ids else ALL_REQUESTED]
        for association in listed:
            document = documents.get(association.association_id)
            if document is None or (ids and association.association_id not in ids) or run.handle.cancelled:
                continue
            ran = self._associations.apply(association, document, run.handle, current)
            lines.append(f"{association.association_id} ({association.document_name}): {ran.status}")
        return self._result(run, start, "\n".join(lines), errors)

    def _documents(self, listed: list[Association], ids: list[str], errors: list[str]) -> dict[str, Document]:
        """Every association's document ready to run; one that cannot be fetched is reported Failed (and
        named in `errors`), one that cannot be parsed is reported only if it was to run now."""
        documents = {}
        for association in listed:
            content = self._content(association, errors)
            if content is None:
                continue
            try:
                documents[association.association_id] = self._associations.prepare(association, content)
            except BadPayload as err:
                if not ids or association.association_id in ids:
                    message = f"Encountered error while parsing association {association.association_id}, {err}"
                    self._associations.report(association.association_id,
                                              Outcome("Failed", INVALID_ASSOCIATION, message))
        return documents

    def _content(self, association: Association, errors: list[str]) -> str | None:
        try:
            return self._associations.document(association)
        except (CallFailed, KeyError) as err:
            message = f"Encountered error while loading association {association.association_id} contents, {err}"
            self._associations.report(association.association_id, Outcome("Failed", LIST_ERROR, message))
            errors.append(message)
            return None

    def _result(self, run: StepRun, start: dt.datetime, stdout: str, errors: list[str]) -> PluginResult:
        """Success, as AWS's agent reports this step whatever happened; code 1 when something failed."""
        return PluginResult(run.step.name or run.step.action, "Success", 1 if errors else 0, cut(stdout, STDOUT_LIMIT),
                            cut("\n".join(errors), STDERR_LIMIT), stamp(start), stamp(self._clock()),
                            run.step.action)
