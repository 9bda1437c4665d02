"""The nested blocks of a unit of work, each a SAVEPOINT created when first needed."""

from __future__ import annotations

from threadstore.store.sql.connections import Conn, Tx

__all__ = ["Frames"]


class _Frame:
    """A nested block; its SAVEPOINT exists once the block needed the transaction."""

    __slots__ = ("savepoint",)

    def __init__(self) -> None:
        self.savepoint: Tx | None = None


class Frames:
    """The open nested blocks of one unit, innermost last."""

    def __init__(self) -> None:
        self._frames: list[_Frame] = []

    def __bool__(self) -> bool:
        return bool(self._frames)

    def push(self) -> object:
        """Open a nested block; the token ends it (:meth:`pop`)."""
        frame = _Frame()
        self._frames.append(frame)
        return frame

    async def open(self, conn: Conn) -> None:
        """Create the SAVEPOINTs of the blocks that have none yet, outermost first."""
        for frame in self._frames:
            if frame.savepoint is None:
                frame.savepoint = await conn.begin_nested()

    async def pop(self, token: object, *, commit: bool) -> None:
        """End the innermost block: RELEASE its savepoint, or ROLLBACK TO it.

        Raises:
            RuntimeError: ``token`` is not the innermost block's.
        """
        if not self._frames or self._frames[-1] is not token:
            raise RuntimeError("threadstore: nested blocks must end in order")
        frame = self._frames.pop()
        if frame.savepoint is None:
            return
        if commit:
            await frame.savepoint.commit()
        else:
            await frame.savepoint.rollback()
