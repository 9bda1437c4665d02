"""``threadstore export / import / copy / backup``: move data between databases and files.

Results go to stdout, progress to stderr: a progress bar on a terminal (with
the ``cli`` extra, ``pip install 'threadstore[cli]'``, which brings ``rich``),
otherwise a log line every few seconds; ``--quiet`` shows neither. A failure
is one line on stderr and exit status 1, never a traceback; passwords are
never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from threadstore.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, _describe, _fail, _log_to_stderr
from threadstore.config import URL_ENV_VAR, resolve_url
from threadstore.transfer import (
    backup_database,
    copy_database,
    export_database,
    import_database,
)

__all__ = ["TRANSFER_COMMANDS", "add_transfer_commands", "run_transfer"]

logger = logging.getLogger("threadstore.cli")

TRANSFER_COMMANDS = frozenset({"export", "import", "copy", "backup"})
_LOG_EVERY_SECONDS = 5.0
_URL_HELP = f"database URL (default: ${URL_ENV_VAR}, else sqlite+aiosqlite:///threadstore.db)"


def add_transfer_commands(groups: Any) -> None:
    """Register the data-moving subcommands on the top-level subparsers ``groups``."""

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = groups.add_parser(
            name, help=help_text, description=help_text
        )
        sub.add_argument("-q", "--quiet", action="store_true", help="show no progress")
        return sub

    export = add("export", "write the database (or one thread or user) to a JSON Lines file")
    export.add_argument("--url", help=_URL_HELP)
    export.add_argument("file", metavar="FILE", help="the file to write (gzip if it ends in .gz)")
    export.add_argument("--thread", metavar="ID", help="export this thread only")
    export.add_argument("--user", metavar="ID", help="export this user's threads and context")
    export.add_argument("--batch-size", type=int, default=1000, metavar="N")

    load = add("import", "load an export file into a migrated database")
    load.add_argument("--url", help=_URL_HELP)
    load.add_argument("file", metavar="FILE", help="a file written by `threadstore export`")
    load.add_argument("--merge", action="store_true", help="skip records that already exist")
    load.add_argument("--batch-size", type=int, default=1000, metavar="N")

    copy = add("copy", "copy every row from one database to another (resumable, verified)")
    copy.add_argument("source", metavar="SOURCE_URL")
    copy.add_argument("target", metavar="TARGET_URL")
    copy.add_argument("--merge", action="store_true", help="skip records that already exist")
    copy.add_argument("--batch-size", type=int, default=5000, metavar="N")
    copy.add_argument(
        "--state",
        metavar="FILE",
        help="where the resumable position is kept (default: .threadstore-copy-<hash>.json here)",
    )
    copy.add_argument("--no-verify", action="store_true", help="skip the final comparison")

    backup = add("backup", "copy a live SQLite database to a file (SQLite's backup API)")
    backup.add_argument("--url", help=_URL_HELP)
    backup.add_argument("file", metavar="FILE", help="the backup file to create")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")


class Progress:
    """Shows ``(table, done, total)`` reports as a bar on a terminal, else as log lines."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._last_log = 0.0
        self._started: dict[str, float] = {}
        if not quiet and sys.stderr.isatty():
            try:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    TaskProgressColumn,
                    TextColumn,
                    TimeElapsedColumn,
                )
                from rich.progress import Progress as Bar
            except ImportError:  # the cli extra is not installed: log lines
                return
            self._bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]} rows/s"),
                TimeElapsedColumn(),
                transient=False,
            )

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, table: str, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` rows (-1: unknown) of ``table`` have moved."""
        if self._quiet:
            return
        now = time.monotonic()
        started = self._started.setdefault(table, now)
        rate = done / (now - started) if now > started else 0.0
        name = table.removeprefix("threadstore_")
        if self._bar is not None:
            task = self._tasks.get(table)
            if task is None:
                task = self._bar.add_task(name, total=total if total >= 0 else None, rate="-")
                self._tasks[table] = task
            self._bar.update(task, completed=done, rate=f"{rate:,.0f}")
            return
        finished = total >= 0 and done >= total
        if finished or now - self._last_log >= _LOG_EVERY_SECONDS:
            self._last_log = now
            of = f"/{total}" if total >= 0 else ""
            logger.info("%s: %d%s rows (%.0f rows/s)", name, done, of, rate)


def _export(args: argparse.Namespace, progress: Progress) -> str:
    summary = asyncio.run(
        export_database(
            resolve_url(args.url),
            args.file,
            thread_id=args.thread,
            user_id=args.user,
            batch_size=args.batch_size,
            progress=progress,
        )
    )
    return f"exported {summary.total} rows at revision {summary.schema_revision} to {args.file}"


def _import(args: argparse.Namespace, progress: Progress) -> str:
    summary = asyncio.run(
        import_database(
            resolve_url(args.url),
            args.file,
            merge=args.merge,
            batch_size=args.batch_size,
            progress=progress,
        )
    )
    inserted = sum(summary.inserted.values())
    skipped = f", skipped {summary.skipped} that existed" if args.merge else ""
    return f"imported {inserted} rows from {args.file}{skipped}"


def _copy(args: argparse.Namespace, progress: Progress) -> str:
    summary = asyncio.run(
        copy_database(
            args.source,
            args.target,
            merge=args.merge,
            batch_size=args.batch_size,
            state_file=args.state,
            verify=not args.no_verify,
            progress=progress,
        )
    )
    line = f"copied {sum(summary.rows.values())} rows in {summary.batches} batches"
    if summary.resumed:
        line += " (resumed)"
    report = summary.verification
    if report is None:
        return line + "; not verified"
    if report.ok:
        return line + f"; verified {len(report.source)} tables: row counts and checksums match"
    return line + f"; differs (merge) in {', '.join(report.mismatched)}"


def _backup(args: argparse.Namespace, progress: Progress) -> str:
    summary = asyncio.run(backup_database(resolve_url(args.url), args.file, overwrite=args.force))
    return f"backed up to {summary.path} ({summary.size} bytes)"


_RUNNERS: dict[str, Callable[[argparse.Namespace, Progress], str]] = {
    "export": _export,
    "import": _import,
    "copy": _copy,
    "backup": _backup,
}


def _secrets(args: argparse.Namespace) -> list[str]:
    found = []
    for raw in (getattr(args, name, None) for name in ("url", "source", "target")):
        if raw is None:
            continue
        try:
            password = resolve_url(raw).password
        except Exception:  # an unparseable URL has no password to hide
            continue
        if password:
            found.append(str(password))
    return found


def run_transfer(args: argparse.Namespace) -> int:
    """Run one of :data:`TRANSFER_COMMANDS`; return the exit status."""
    secrets = _secrets(args)
    sqlite = "sqlite" in str(getattr(args, "url", None) or getattr(args, "target", "") or "")
    try:
        logs = contextlib.nullcontext() if args.quiet else _log_to_stderr()
        with logs, Progress(args.quiet) as progress:
            print(_RUNNERS[args.group](args, progress), flush=True)
    except KeyboardInterrupt:
        _fail("interrupted; the batch being written was rolled back (copy: re-run to resume)")
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = _describe(exc, "the database", sqlite=sqlite)
        for secret in secrets:
            message = message.replace(secret, "***")
        _fail(" ".join(message.split()))
        return EXIT_FAILED
    return EXIT_OK
