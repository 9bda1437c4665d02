"""A throwaway PostgreSQL cluster that a test can stop, start and refuse logins on.

Built like scripts/start-postgres.sh (initdb/pg_ctl from /usr/lib/postgresql,
run as the ``postgres`` OS user when root, a free port on 127.0.0.1), but with
password authentication (scram-sha-256) for TCP so that a wrong password is
really refused; the unix socket in the data folder trusts the OS user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL

SUPERUSER = "postgres"
PASSWORD = "fault-tests-pw"


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server's bin folder, or None when none is installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name.split(".")[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One initdb'd data folder and the server running on it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="threadstore-faults-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, user="postgres")
        pwfile = self.root / "pwfile"
        pwfile.write_text(PASSWORD + "\n")
        if self._as_postgres:
            shutil.chown(pwfile, user="postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True).returncode

    def start(self, *, standby: bool = False) -> None:
        """Start the server and wait until it is up.

        With ``standby`` it starts in recovery with hot standby off: up, but
        refusing every connection as "not accepting connections" (57P03), the
        way a server still starting up does, until it is stopped.
        """
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        signal = self.data / "standby.signal"
        if standby:
            options += " -c hot_standby=off"
            signal.touch()
        else:
            signal.unlink(missing_ok=True)
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast", *, wait: bool = True) -> None:
        """Stop the server (``smart`` without ``wait`` leaves it shutting down)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w" if wait else "-W", "stop")

    def wait_stopped(self) -> None:
        """Wait until a shutdown started earlier has finished."""
        # pg_ctl stop on a server already shutting down only waits for it
        self._run("pg_ctl", "-D", str(self.data), "-m", "smart", "-w", "stop", check=False)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def url(
        self,
        *,
        user: str = SUPERUSER,
        password: str | None = PASSWORD,
        database: str = "postgres",
        driver: str = "postgresql+asyncpg",
    ) -> str:
        """A TCP URL (password-checked) to a database of this cluster."""
        url = URL.create(
            driver,
            username=user,
            password=password,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )
        return url.render_as_string(hide_password=False)

    def destroy(self) -> None:
        """Stop the server at once and remove the data folder."""
        if self.is_running():
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
