"""Google ADK integration (``pip install 'threadstore[adk]'``).

:class:`ThreadstoreSessionService` is an ADK ``BaseSessionService`` on a
threadstore store: sessions are threads, events are messages, ``app:`` and
``user:`` state are context items. Importing :mod:`threadstore` alone never
imports ADK.
"""

from threadstore.adk.service import ThreadstoreSessionService

__all__ = ["ThreadstoreSessionService"]
