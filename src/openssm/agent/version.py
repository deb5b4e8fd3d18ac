"""The agent's name and version, read in this one place: heartbeats report them and every request's User-Agent
carries them."""

from __future__ import annotations

import os

AGENT_NAME = "openssm-agent"
# An AWS-style version: the service decides from it what a node supports, and refuses agents older than its
# minimum. OPENSSM_AGENT_VERSION overrides it, to test that rule against a running service.
AGENT_VERSION = os.environ.get("OPENSSM_AGENT_VERSION") or "3.3.0.0"
# AWS's agent appends `amazon-ssm-agent/<version>` to its SDK's User-Agent; the service reads the version there.
USER_AGENT = f"{AGENT_NAME}/{AGENT_VERSION}"
