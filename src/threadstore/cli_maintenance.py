"""``threadstore erase-user / retention``: delete one user's data, or what has aged out.

``erase-user`` asks before erasing (or needs ``--yes``; without a terminal it
refuses); ``retention`` is meant for a scheduled job and asks nothing. Both
print the rows deleted per kind to stdout. A failure is one line on stderr and
exit status 1, never a traceback; passwords are never printed. Both need a
migrated database: they never create a SQLite file or a schema.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import URL

from threadstore.cli import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    _describe,
    _fail,
    _one_line,
    _require_file,
)
from threadstore.config import URL_ENV_VAR, is_memory_url, redact_url, resolve_url
from threadstore.errors import ValidationError
from threadstore.store.api.maintenance import DEFAULT_BATCH_SIZE
from threadstore.store.base import BaseStore
from threadstore.store.ports import Counts
from threadstore.store.sql.store import SQLAlchemyStore
from threadstore.validation import check_id

__all__ = ["MAINTENANCE_COMMANDS", "add_maintenance_commands", "run_maintenance"]

MAINTENANCE_COMMANDS = frozenset({"erase-user", "retention"})
_URL_HELP = f"database URL (default: ${URL_ENV_VAR}, else sqlite+aiosqlite:///threadstore.db)"


def add_maintenance_commands(groups: Any) -> None:
    """Register ``erase-user`` and ``retention`` on the top-level subparsers ``groups``."""
    erase = groups.add_parser(
        "erase-user",
        help="delete everything one user owns (one transaction)",
        description="Delete the user's threads with everything in them, the feedback the "
        "user gave anywhere, and the user's context items, topics and permissions.",
    )
    erase.add_argument("--url", help=_URL_HELP)
    erase.add_argument("user_id", metavar="USER_ID")
    erase.add_argument("-y", "--yes", action="store_true", help="do not ask first (for scripts)")

    keep = groups.add_parser(
        "retention",
        help="delete idle threads, old checkpoints and expired records, in batches",
        description="Delete threads idle for --idle-days, checkpoints beyond the newest "
        "--keep-checkpoints per thread and namespace, and expired approvals and context "
        "items; each batch is its own short transaction.",
    )
    keep.add_argument("--url", help=_URL_HELP)
    keep.add_argument("--idle-days", type=float, metavar="N", help="delete threads idle longer")
    keep.add_argument(
        "--keep-checkpoints", type=int, metavar="N", help="keep the newest N checkpoints"
    )
    keep.add_argument(
        "--no-expired", action="store_true", help="skip expired approvals and context items"
    )
    keep.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N")
    keep.add_argument(
        "--dry-run",
        action="store_true",
        help="count what would be deleted, in one transaction that is rolled back",
    )


class _NotConfirmed(Exception):
    """The user did not confirm an erasure."""


class _DryRun(Exception):
    """Rolls a dry run's transaction back."""


def _counts(counts: Counts) -> str:
    batches = counts.get("batches")
    shown = " ".join(f"{name}={value}" for name, value in counts.items() if name != "batches")
    return shown if batches is None else f"{shown} ({batches} batches)"


def _confirm(user_id: str, where: str) -> None:
    question = f"Erase every record of user {user_id!r} in {where}? This cannot be undone."
    if not sys.stdin.isatty():
        raise ValidationError(
            f"{question} Not erasing without confirmation (stdin is not a terminal)",
            suggestion="Pass --yes to erase unattended.",
        )
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().lower() not in {"y", "yes"}:
        raise _NotConfirmed


async def _erase(store: BaseStore, args: argparse.Namespace, where: str) -> list[str]:
    counts = await store.erase_user(args.user_id)
    return [f"erased user {args.user_id!r} from {where}: {_counts(counts)}"]


async def _retention_steps(store: BaseStore, args: argparse.Namespace) -> list[str]:
    lines = []
    if args.idle_days is not None:
        if not args.idle_days > 0:
            raise ValidationError(
                f"--idle-days must be positive, got {args.idle_days}",
                suggestion="Pass e.g. --idle-days 90.",
            )
        counts = await store.delete_idle_threads(
            timedelta(days=args.idle_days), batch_size=args.batch_size
        )
        lines.append(f"idle threads (over {args.idle_days:g} days): {_counts(counts)}")
    if args.keep_checkpoints is not None:
        counts = await store.prune_checkpoints(args.keep_checkpoints, batch_size=args.batch_size)
        lines.append(f"checkpoints (newest {args.keep_checkpoints} kept): {_counts(counts)}")
    if not args.no_expired:
        counts = await store.purge_expired(batch_size=args.batch_size)
        lines.append(f"expired: {_counts(counts)}")
    return lines


async def _retention(store: BaseStore, args: argparse.Namespace, where: str) -> list[str]:
    if args.idle_days is None and args.keep_checkpoints is None and args.no_expired:
        raise ValidationError(
            "nothing to do: --no-expired without --idle-days or --keep-checkpoints",
            suggestion="Pass --idle-days N and/or --keep-checkpoints N.",
        )
    if not args.dry_run:
        return await _retention_steps(store, args)
    lines: list[str] = []
    try:
        async with store.transaction() as tx:
            lines = await _retention_steps(tx, args)
            raise _DryRun
    except _DryRun:
        pass
    return [f"dry run on {where}, rolled back: {line}" for line in lines]


async def _run(args: argparse.Namespace, url: URL) -> list[str]:
    where = redact_url(url)
    _require_file(url)
    store = SQLAlchemyStore(url, auto_migrate=False)
    try:
        await store.initialize()
        if args.group == "erase-user":
            return await _erase(store, args, where)
        return await _retention(store, args, where)
    finally:
        await store.close()


def run_maintenance(args: argparse.Namespace) -> int:
    """Run one of :data:`MAINTENANCE_COMMANDS`; return the exit status."""
    secret: str | None = None
    where, sqlite = "the database", False
    try:
        if is_memory_url(args.url if args.url is not None else os.environ.get(URL_ENV_VAR)):
            raise ValidationError(
                "memory:// holds no data outside its own process",
                suggestion="Name a SQLite or PostgreSQL database with --url or $THREADSTORE_URL.",
            )
        url = resolve_url(args.url)
        secret, where = url.password, redact_url(url)
        sqlite = url.get_backend_name() == "sqlite"
        if args.group == "erase-user":
            check_id("user_id", args.user_id)
            if not args.yes:
                _confirm(args.user_id, where)
        for line in asyncio.run(_run(args, url)):
            print(line, flush=True)
    except KeyboardInterrupt:
        _fail("interrupted; the batch being written was rolled back (batches before it stay)")
        return EXIT_INTERRUPTED
    except _NotConfirmed:
        _fail("erasure not confirmed; nothing was changed")
        return EXIT_FAILED
    except Exception as exc:
        _fail(_one_line(_describe(exc, where, sqlite=sqlite), secret))
        return EXIT_FAILED
    return EXIT_OK
