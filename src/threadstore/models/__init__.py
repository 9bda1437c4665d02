"""The tables; importing this package makes ``Base.metadata`` complete."""

from threadstore.models.base import NAMING_CONVENTION, TABLE_PREFIX, Base
from threadstore.models.checkpoint import Checkpoint, CheckpointWrite
from threadstore.models.context import AgentPermission, AgentTopic, ContextItem, ContextRoute
from threadstore.models.feedback import Feedback
from threadstore.models.memory_items import MemoryItem, MemoryVector
from threadstore.models.message import Message
from threadstore.models.mixins import VersionedMixin
from threadstore.models.runs import InvocationLog, LogAnalysis, OptimizationRun, ToolCall
from threadstore.models.suspended_state import SuspendedState
from threadstore.models.thread import Thread

__all__ = [
    "NAMING_CONVENTION",
    "TABLE_PREFIX",
    "AgentPermission",
    "AgentTopic",
    "Base",
    "Checkpoint",
    "CheckpointWrite",
    "ContextItem",
    "ContextRoute",
    "Feedback",
    "InvocationLog",
    "LogAnalysis",
    "MemoryItem",
    "MemoryVector",
    "Message",
    "OptimizationRun",
    "SuspendedState",
    "Thread",
    "ToolCall",
    "VersionedMixin",
]
