"""LangGraph integration (``pip install 'threadstore[langgraph]'``).

:class:`ThreadstoreSaver` is a LangGraph checkpoint saver on a threadstore
store: ``ThreadstoreSaver(store)`` with a ``SQLAlchemyStore`` (SQLite or
PostgreSQL) or a ``MemoryStore``. :class:`ThreadstoreLongTermStore` is a
LangGraph long-term memory store (``langgraph.store.base.BaseStore``) on the
same stores. Importing :mod:`threadstore` alone never
imports LangGraph.
"""

from threadstore.langgraph.saver import ThreadstoreSaver
from threadstore.langgraph.store import InvalidMemoryNamespaceError, ThreadstoreLongTermStore

__all__ = ["InvalidMemoryNamespaceError", "ThreadstoreLongTermStore", "ThreadstoreSaver"]
