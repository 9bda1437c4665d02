"""``SyncStore``: every store method, callable without an event loop, from any thread.

The synchronous twins are generated from :class:`~threadstore.BaseStore`'s
public coroutine methods when this module is imported, so each has the
store method's name, signature and docstring. Each call runs the store's
coroutine on one private event loop thread that the ``SyncStore`` owns
(a :class:`~threadstore.sync_loop.LoopThread`, started by
:meth:`SyncStore.open`, stopped by :meth:`SyncStore.close`) and blocks the
calling thread until it finishes.

Type checkers cannot see methods made at run time, so their signatures are
declared in :class:`~threadstore.sync_methods.SyncMethods`, the base class of
``SyncStore``: plain ``def`` statements inside ``if TYPE_CHECKING:``,
generated from BaseStore's source by ``python -m tests.sync_surface``, and
compared with BaseStore by ``tests/unit/test_sync_twins.py``, which fails
when BaseStore gains a method the declarations lack or a signature differs.
That is the least magic way mypy ``--strict`` accepts: a ``sync_store.pyi``
stub would hide this module from mypy (a stub replaces the module it
describes, so the code here would go unchecked), and a ``Protocol`` that
``SyncStore`` subclassed would make every twin an abstract method to mypy
(``SyncStore(...)`` would not type-check), while one it did not subclass
would type only the code that casts a ``SyncStore`` to it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from sqlalchemy.engine import URL

from threadstore.store import create_store
from threadstore.store.base import BaseStore
from threadstore.sync_loop import HeldBlock, LoopThread
from threadstore.sync_methods import SyncMethods

__all__ = ["SYNC_METHODS", "SyncStore"]

_LIFECYCLE = frozenset({"close"})
"""Written by hand below: SyncStore.close also stops the loop thread."""

SYNC_METHODS: tuple[str, ...] = tuple(
    name
    for name, value in inspect.getmembers(BaseStore, inspect.iscoroutinefunction)
    if not name.startswith("_")
)
"""The store methods a SyncStore offers synchronously (every public coroutine method)."""


class SyncStore(SyncMethods):
    """A blocking facade over a store, safe to share between threads.

    ``SyncStore(store)`` wraps a store (it is closed with the SyncStore only
    if ``owns_store=True``); ``SyncStore(url, **options)`` builds one with
    :func:`~threadstore.create_store` and owns it. Use it as a context manager,
    or call :meth:`open` and :meth:`close`. Every public method of
    :class:`~threadstore.BaseStore` is here with the same signature, minus
    the ``await``; :meth:`transaction` and :meth:`for_user` give synchronous
    blocks and views. Calls from several threads at once run concurrently on
    the private loop, exactly as concurrent tasks would. Calling from a
    thread that runs an event loop raises
    :class:`~threadstore.errors.SyncStoreError` (it would block that loop).
    """

    def __init__(
        self,
        store: BaseStore | str | URL | None = None,
        *,
        owns_store: bool | None = None,
        **options: Any,
    ) -> None:
        """Wrap ``store``, or build one from a URL (None: ``THREADSTORE_URL``, then the default).

        Args:
            store: A store, or the URL to build one from.
            owns_store: Close the store on :meth:`close` (default: only if built here).
            options: Options for :func:`~threadstore.create_store` (URL form only).
        """
        built = not isinstance(store, BaseStore)
        self._store = store if isinstance(store, BaseStore) else create_store(store, **options)
        self._owns_store = built if owns_store is None else owns_store
        self._runner = LoopThread(
            "SyncStore",
            name="threadstore-sync",
            autostart=False,
            suggestion="Await the async store's method instead, or use asyncio.to_thread(...).",
        )
        self._owns_runner = True

    @classmethod
    def _view(cls, target: BaseStore, runner: LoopThread) -> SyncStore:
        """A SyncStore over ``target`` (a view or a block) that shares ``runner``."""
        view = cls.__new__(cls)
        view._store, view._owns_store = target, False
        view._runner, view._owns_runner = runner, False
        return view

    def __repr__(self) -> str:
        state = "open" if self._runner.running else "closed"
        return f"<SyncStore ({state}) over {self._store!r}>"

    @property
    def store(self) -> BaseStore:
        """The async store underneath."""
        return self._store

    def open(self) -> Self:
        """Start the loop thread and initialize the store. Safe to call twice."""
        self._runner.start()
        self._runner.run(self._store.initialize())
        return self

    def close(self) -> None:
        """Close the store (if owned) and stop the loop thread. Safe to call twice."""
        if not self._owns_runner:
            return
        if self._runner.running and self._owns_store:
            self._runner.run(self._store.close())
        self._runner.stop()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[SyncStore]:
        """A unit of work: ``with sync.transaction() as tx:``; see :meth:`BaseStore.transaction`.

        ``tx`` has every method of this SyncStore; its writes commit when the
        block ends and roll back on an exception. ``tx.transaction()`` nests a
        savepoint.
        """
        block = HeldBlock(self._runner, self._store.transaction())
        tx = self._view(block.enter(), self._runner)
        try:
            yield tx
        except BaseException as exc:
            block.exit(exc)
            raise
        block.exit(None)

    def for_user(self, user_id: str) -> SyncStore:
        """A view limited to one user's data; see :meth:`BaseStore.for_user`."""
        return self._view(self._store.for_user(user_id), self._runner)

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        method = getattr(self._store, name)
        return self._runner.run(method(*args, **kwargs))


def _twin(name: str) -> Callable[..., Any]:
    original = getattr(BaseStore, name)

    @functools.wraps(original)
    def method(self: SyncStore, /, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, args, kwargs)

    method.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]
    return method


def _add_twins() -> None:
    for name in SYNC_METHODS:
        if name not in _LIFECYCLE:
            setattr(SyncStore, name, _twin(name))


_add_twins()
