"""A document's steps run one after another, for Run Command's jobs and State Manager's associations alike: the
SendCommandPayload parsed as protocol/command_payload.py parses it, each step given its inputs with the
parameters substituted (the plugins past the shell ones read more than commands)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openssm.agent.output_upload import OutputUploader
from openssm.agent.plugins.run_shell import ProcessHandle
from openssm.agent.plugins.steps import StepPlugin, StepRun, run_step, step_dir

# The parameter defaults are filled exactly as for the steps' commands; _parameters is private there until
# Step carries its own inputs.
from openssm.protocol.command_payload import Job, _parameters, parse, substitute
from openssm.protocol.mgs import PluginResult


@dataclass(frozen=True)
class Document:
    job: Job
    inputs: tuple[Mapping[str, Any], ...]  # each step's, in step order


@dataclass(frozen=True)
class Invocation:
    """Who runs a document, and where: `run_id` names the run for output uploads (the command's id)."""

    run_id: str
    work_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    association_id: str = ""
    current_associations: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # plugin -> associations


def parse_document(content: str) -> Document:
    """The payload's steps and their inputs; BadPayload when it is not a SendCommandPayload."""
    job = parse(content)
    payload = json.loads(content)
    document = payload.get("DocumentContent") or {}
    if isinstance(document, str):
        document = json.loads(document)
    parameters = _parameters(payload, document)
    if "mainSteps" in document:
        raw = [step.get("inputs") for step in document["mainSteps"]]
    else:  # schema 1.2: runtimeConfig {action: {properties: [inputs, ...]}}
        raw = [inputs for config in (document.get("runtimeConfig") or {}).values()
               for inputs in (config.get("properties") or [{}])]
    return Document(job, tuple(substitute(i, parameters) if isinstance(i, dict) else {} for i in raw))


def run_document(document: Document, invocation: Invocation, handle: ProcessHandle,
                 plugins: Mapping[str, StepPlugin] | None = None,
                 output: OutputUploader | None = None) -> tuple[PluginResult, ...]:
    """Each step's result, in order, until the run is cancelled; with `output`, each step's full output uploaded
    as it is written."""
    results: list[PluginResult] = []
    for step, inputs in zip(document.job.steps, document.inputs, strict=True):
        if handle.cancelled:
            break
        run = StepRun(step, invocation.work_dir, handle, invocation.env, inputs, invocation.association_id,
                      invocation.current_associations.get(step.action, ()))
        if output is None:
            results.append(run_step(run, plugins))
            continue
        with output.step(invocation.run_id, step.name or step.action, step_dir(step, invocation.work_dir)):
            results.append(run_step(run, plugins))
    return tuple(results)
