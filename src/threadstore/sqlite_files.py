"""Why SQLite cannot use a database file: the path, its folder and their permissions.

SQLite reports file faults with a handful of result codes (``SQLITE_CANTOPEN``,
``SQLITE_READONLY*``, ``SQLITE_NOTADB``, ...) that do not say which file or
what is wrong with it. :func:`diagnose` looks at the path itself, as the user
running the process sees it, and names the problem. Nothing here creates,
opens or changes a file.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from threadstore.errors import DatabaseFileError

__all__ = ["FILE_ERROR_NAMES", "database_path", "diagnose", "file_problem", "missing_file"]

FILE_ERROR_NAMES = (
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
    "SQLITE_NOTADB",
    "SQLITE_IOERR",
    "SQLITE_CORRUPT",
    "SQLITE_FULL",
    "SQLITE_PERM",
)
"""SQLite result-code names (and their extended forms) that mean a file fault."""

_SIDE_FILES = ("-wal", "-shm")
"""The files WAL mode keeps next to the database; SQLite creates them on first use."""

Problem = tuple[str, str]
"""A problem sentence and the suggestion that fits it."""


def database_path(url: str) -> Path | None:
    """Return the absolute file path of a SQLite URL, or None for an in-memory database."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    database = parsed.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true)
        if "mode=memory" in database or parsed.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:").partition("?")[0]
    if database in {"", ":memory:"}:
        return None
    return Path(os.path.abspath(database))


def file_problem(path: Path) -> Problem | None:
    """Return what keeps this user from reading and writing the database at ``path``.

    A file that does not exist yet is fine when its folder lets SQLite create
    it. A read-only folder is a problem only while SQLite still has to create
    the ``-wal``/``-shm`` files next to the database.
    """
    try:
        return _path_problem(path)
    except OSError as exc:  # a folder on the way cannot be searched
        return (
            f"permission denied: this user cannot look at the path ({exc.strerror})",
            f"Give the user running the application access to every folder of {path}.",
        )


def _path_problem(path: Path) -> Problem | None:
    folder = path.parent
    if path.is_dir():
        return (
            "the path is a directory, not a database file",
            f"Name a file in the URL, e.g. sqlite+aiosqlite:///{path / 'threadstore.db'}.",
        )
    if not folder.exists():
        return (
            f"its parent folder {folder} does not exist (threadstore never creates folders)",
            f"Create the folder first (mkdir -p {folder}), or fix the path in the URL.",
        )
    if not folder.is_dir():
        return (
            f"its parent {folder} is not a folder",
            "Fix the path in the URL.",
        )
    if not os.access(folder, os.X_OK):
        return (
            f"permission denied: this user cannot enter its folder {folder}",
            f"Give the user running the application access to {folder} (chmod u+x).",
        )
    if not path.exists():
        if not os.access(folder, os.W_OK):
            return _read_only_folder(path, "cannot create the database file")
        return None
    if not os.access(path, os.R_OK):
        return (
            "permission denied: this user cannot read the file",
            f"Give the user running the application read and write permission on {path}.",
        )
    if not os.access(path, os.W_OK):
        return (
            "the file is read-only for this user (permission denied)",
            f"Give the user running the application write permission on {path} "
            "(chmod u+w), or point the URL at a writable copy.",
        )
    side_files = [path.with_name(path.name + suffix) for suffix in _SIDE_FILES]
    for side in side_files:
        if side.exists() and not os.access(side, os.R_OK | os.W_OK):
            return (
                f"its WAL file {side.name} is read-only for this user (permission denied)",
                f"Give the user running the application write permission on {side}, "
                "or remove it while no process has the database open.",
            )
    if not os.access(folder, os.W_OK) and not all(side.exists() for side in side_files):
        return _read_only_folder(path, f"SQLite must create {path.name}-wal and -shm there")
    return None


def missing_file(path: Path) -> str | None:
    """Return why there is no database file at ``path``, or None when there is one."""
    if os.path.isfile(path):
        return None
    problem = file_problem(path)
    return "the file does not exist" if problem is None else problem[0]


def _read_only_folder(path: Path, consequence: str) -> Problem:
    return (
        f"its folder {path.parent} is read-only for this user (permission denied): {consequence}",
        f"SQLite keeps -wal and -shm files next to the database: give the user running "
        f"the application write permission on {path.parent}, or move the database to a "
        "writable folder.",
    )


def _result_code_problem(sqlite_name: str) -> Problem:
    if sqlite_name == "SQLITE_NOTADB":
        return _NOT_A_DATABASE
    if sqlite_name.startswith("SQLITE_CORRUPT"):
        return (
            "the database file is corrupt",
            "Restore the file from a backup; `sqlite3 FILE .recover` may save its rows.",
        )
    if sqlite_name == "SQLITE_FULL":
        return ("the disk is full", "Free disk space on the file's volume, then retry.")
    if sqlite_name.startswith(("SQLITE_READONLY", "SQLITE_PERM")):
        return (
            "SQLite opened it read-only",
            "Check the permissions of the file and its folder, and that the volume is "
            "mounted writable.",
        )
    if sqlite_name.startswith("SQLITE_IOERR"):
        return (
            "a disk I/O error occurred",
            "Check the volume holding the file (space, mount, hardware).",
        )
    return (
        "SQLite cannot open it",
        "Check the path in the URL and the file's and folder's permissions.",
    )


_NOT_A_DATABASE: Problem = (
    "the file is not a SQLite database (or it is encrypted or corrupt)",
    "Point the URL at a threadstore database, or at a new file name to start an empty one.",
)


def diagnose(path: Path | None, sqlite_name: str, detail: str | None = None) -> DatabaseFileError:
    """Return the error for a SQLite file fault, naming ``path`` and what is wrong with it.

    Args:
        path: The database file (None for an in-memory database).
        sqlite_name: SQLite's result-code name, e.g. ``SQLITE_CANTOPEN``.
        detail: The driver's own sentence, kept in the message.
    """
    found = None
    if path is not None:
        found = _NOT_A_DATABASE if sqlite_name == "SQLITE_NOTADB" else file_problem(path)
    problem, suggestion = found or _result_code_problem(sqlite_name)
    where = "the in-memory SQLite database" if path is None else f"the SQLite database {path}"
    driver = "" if detail is None else f" ({detail})"
    return DatabaseFileError(f"cannot use {where}: {problem}{driver}", suggestion=suggestion)
