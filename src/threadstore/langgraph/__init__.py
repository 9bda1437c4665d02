"""LangGraph integration (``pip install 'threadstore[langgraph]'``).

:class:`ThreadstoreSaver` is a LangGraph checkpoint saver on a threadstore
store: ``ThreadstoreSaver(store)`` with a ``SQLAlchemyStore`` (SQLite or
PostgreSQL) or a ``MemoryStore``. Importing :mod:`threadstore` alone never
imports LangGraph.
"""

from threadstore.langgraph.saver import ThreadstoreSaver

__all__ = ["ThreadstoreSaver"]
