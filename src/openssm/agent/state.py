"""The agent's state directory (default /var/lib/openssm, mode 0700, every file 0600): its registration
(instance id, region, endpoint, fingerprint, private key; a hybrid node's or an EC2 instance's) and the record
of every job it has run, so that a job delivered again is never run twice. Deleting it loses the node's
identity, as at AWS."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

DEFAULT_STATE_DIR = Path("/var/lib/openssm")
REGISTRATION_FILE = "registration.json"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class IdentityType(StrEnum):
    """How the node was registered (AWS's agent's names): an activation, or EC2 Default Host Management."""

    ON_PREM = "OnPrem"
    EC2 = "EC2"


@dataclass(frozen=True)
class Registration:
    instance_id: str
    region: str
    endpoint: str
    fingerprint: str
    private_key: str  # base64 DER PKCS#1, as AWS's agent stores it
    ca_bundle: str | None = None
    # A key being rotated in: kept until the service has it and it is saved as private_key, so that a crash
    # between the two steps cannot leave the node with a key the service does not know.
    next_private_key: str | None = None
    identity_type: str = IdentityType.ON_PREM  # files written before EC2 registrations existed are hybrid
    # False while an EC2 registration's key is kept but not yet accepted by the service: AWS's agent keeps the
    # key before it registers, so a crash in between retries with the same key instead of losing the node.
    confirmed: bool = True

    @property
    def is_ec2(self) -> bool:
        return self.identity_type == IdentityType.EC2


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _ensure(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is masked by the umask

    def _write(self, relative: str, data: dict[str, Any]) -> None:
        target = self.path / relative
        self._ensure(self.path)
        self._ensure(target.parent)
        partial = target.with_name(target.name + ".tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, target)  # a crash leaves the old record or the new one, never half of one

    def save(self, relative: str, data: dict[str, Any]) -> None:
        """Keep a JSON record at a path relative to the directory, atomically, readable by root alone."""
        self._write(relative, data)

    def load(self, relative: str) -> dict[str, Any] | None:
        """A JSON record kept with save; None when it is absent or unreadable."""
        try:
            data = json.loads((self.path / relative).read_text())
        except (OSError, ValueError):
            return None
        return dict(data) if isinstance(data, dict) else None

    def save_registration(self, registration: Registration) -> None:
        self._write(REGISTRATION_FILE, asdict(registration))

    def registration(self) -> Registration | None:
        path = self.path / REGISTRATION_FILE
        if not path.exists():
            return None
        known = {f.name for f in fields(Registration)}
        return Registration(**{k: v for k, v in json.loads(path.read_text()).items() if k in known})

    def _job_file(self, job_id: str) -> str:
        return f"jobs/{_SAFE_NAME.sub('_', job_id)}.json"

    def job(self, job_id: str) -> dict[str, Any] | None:
        path = self.path / self._job_file(job_id)
        return dict(json.loads(path.read_text())) if path.exists() else None

    def record_job(self, job_id: str, record: dict[str, Any]) -> None:
        self._write(self._job_file(job_id), record)

    def custom_inventory_dir(self) -> Path:
        """Where custom inventory files are put for the node to report (AWS: <data>/<id>/inventory/custom)."""
        return self.path / "inventory" / "custom"

    def work_dir(self, job_id: str) -> Path:
        """Where a job's scripts run and its full output is kept."""
        directory = self.path / "work" / _SAFE_NAME.sub("_", job_id)
        self._ensure(self.path / "work")
        self._ensure(directory)
        return directory
