"""Session Manager sessions on the node (DESIGN §4): the data channel, the session types AWS's agent runs
(Standard_Stream, Port, InteractiveCommands, NonInteractiveCommands) and the sessions' bookkeeping."""

from openssm.agent.sessions.data_channel import AgentDataChannel, MgsDataChannels
from openssm.agent.sessions.manager import Sessions
from openssm.agent.sessions.runner import SessionOutcome, SessionRunner, SessionSettings
from openssm.agent.sessions.users import SessionUsers

__all__ = ["AgentDataChannel", "MgsDataChannels", "SessionOutcome", "SessionRunner", "SessionSettings",
           "SessionUsers", "Sessions"]
