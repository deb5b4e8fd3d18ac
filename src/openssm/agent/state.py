"""The agent's state directory (default /var/lib/openssm, 0700): its registration (instance id, key,
endpoint) and the record of jobs it has run, so that a job delivered again is never run twice."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path("/var/lib/openssm")


@dataclass(frozen=True)
class Registration:
    instance_id: str
    region: str
    endpoint: str
    fingerprint: str
    private_key: str  # base64 DER, as rsa_auth writes it
    ca_bundle: str | None = None


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, name: str, data: dict[str, Any]) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.path / name
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_suffix(".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, target)  # a crash leaves the old record or the new one, never half of one

    def save_registration(self, registration: Registration) -> None:
        self._write("registration.json", asdict(registration))

    def registration(self) -> Registration | None:
        path = self.path / "registration.json"
        return Registration(**json.loads(path.read_text())) if path.exists() else None

    def job(self, job_id: str) -> dict[str, Any] | None:
        path = self.path / "jobs" / f"{job_id}.json"
        return dict(json.loads(path.read_text())) if path.exists() else None

    def record_job(self, job_id: str, record: dict[str, Any]) -> None:
        self._write(f"jobs/{job_id}.json", record)
