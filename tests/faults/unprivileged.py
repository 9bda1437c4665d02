"""Run a check as a user the file modes apply to, even when the suite runs as root.

Root ignores file permissions, so a permission test run as root proves
nothing. :func:`run_unprivileged` forks (after everything is imported: the
interpreter's own files may not be readable by the unprivileged user), drops
the child to ``nobody`` when the parent is root, runs the function there and
sends its result back through a pipe. Without root the child keeps the
current user, whose file modes apply already.
"""

from __future__ import annotations

import os
import pickle
import pwd
import select
import signal
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from threadstore.migrations import head_revision

__all__ = ["run_unprivileged", "unprivileged_ids"]

_T = TypeVar("_T")
_NOBODY = 65534


def unprivileged_ids() -> tuple[int, int]:
    """Return the (uid, gid) the checks run as: ``nobody`` under root, else the current user."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return _NOBODY, _NOBODY
    return entry.pw_uid, entry.pw_gid


def run_unprivileged(check: Callable[[], _T], *, timeout: float = 60.0) -> _T:
    """Run ``check`` in a forked child as the unprivileged user; return its result.

    The result must pickle. An exception in the child is re-raised here as an
    AssertionError carrying the child's traceback.
    """
    uid, gid = unprivileged_ids()
    # The revision files may sit where the unprivileged user cannot read (a
    # checkout under /root): learn the head revision before dropping to it.
    head_revision()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 0
        try:
            os.close(read_end)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
            outcome: tuple[str, object] = ("ok", check())
        except BaseException:
            outcome = ("error", traceback.format_exc())
        try:
            with os.fdopen(write_end, "wb") as out:
                pickle.dump(outcome, out)
        except BaseException:
            status = 1
        os._exit(status)
    os.close(write_end)
    try:
        payload = _read_all(read_end, pid, timeout)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    kind, value = pickle.loads(payload)
    if kind == "error":
        raise AssertionError(f"the unprivileged check failed:\n{value}")
    return value  # type: ignore[no-any-return]


def _read_all(fd: int, pid: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"the unprivileged check did not finish within {timeout} s")
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
