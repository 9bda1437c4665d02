"""The saver's storage rows; they live in :mod:`threadstore.store.checkpoint_rows`."""

from threadstore.store.checkpoint_rows import (
    CheckpointKey,
    CheckpointRow,
    CheckpointRows,
    Found,
    ListCursor,
    ListQuery,
    WriteRow,
)

__all__ = [
    "CheckpointKey",
    "CheckpointRow",
    "CheckpointRows",
    "Found",
    "ListCursor",
    "ListQuery",
    "WriteRow",
]
