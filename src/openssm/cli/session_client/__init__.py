"""The client end of Session Manager sessions, shared by `session-manager-plugin` and `openssm start-session`."""

from openssm.cli.session_client.console import Console
from openssm.cli.session_client.resume import Resumed, Resumer, RetryPolicy, SsmResumer
from openssm.cli.session_client.runner import VERSION, PluginSession, SessionStart, handler_for

__all__ = ["VERSION", "Console", "PluginSession", "Resumed", "Resumer", "RetryPolicy", "SessionStart", "SsmResumer",
           "handler_for"]
