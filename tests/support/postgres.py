"""A real PostgreSQL server for the record's tests: the one `.ci/run` started,
or else a throwaway cluster of our own.

`.ci/run` (through `.ci/postgres`) starts a cluster before the suite and
exports where it is:

- ``HANDOUTPRESS_TEST_POSTGRES_URL``: the server's admin URL (trust auth, on 127.0.0.1);
- ``HANDOUTPRESS_TEST_PGDATA``: its data folder, so a test can stop and start it;
- ``HANDOUTPRESS_TEST_PGBIN``: the folder of ``pg_ctl``.

Without them, `PostgresServer.for_tests` makes a cluster with Debian's
``initdb`` in a temporary folder, listening on 127.0.0.1 at a free port with
its socket in that folder, and removes it at the end. The server programs run
as the ``postgres`` user when the tests run as root (PostgreSQL refuses root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

URL_VAR, PGDATA_VAR, PGBIN_VAR = "HANDOUTPRESS_TEST_POSTGRES_URL", "HANDOUTPRESS_TEST_PGDATA", "HANDOUTPRESS_TEST_PGBIN"
SERVER_USER = "postgres"


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian PostgreSQL), or None."""
    named = os.environ.get(PGBIN_VAR)
    candidates = [named] if named else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "pg_ctl").is_file() and (Path(folder) / "initdb").is_file():
            return Path(folder)
    return None


def _major(folder: str) -> int:
    part = Path(folder).parent.name
    return int(part) if part.isdigit() else 0


def unavailable_reason() -> str | None:
    """Why no PostgreSQL server can be started here, or None when one can."""
    if os.environ.get(URL_VAR):
        return None
    if find_bin_dir() is None:
        return "PostgreSQL's server programs are not installed (Debian package postgresql: /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return "running as root and runuser (util-linux) is missing"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL server the tests may use, stop and start."""

    def __init__(self, admin_url: str, data_dir: Path, bin_dir: Path, owned_dir: Path | None = None) -> None:
        self.admin_url = admin_url  # postgresql://postgres@127.0.0.1:PORT/postgres
        self.data_dir = data_dir
        self.bin_dir = bin_dir
        self.owned_dir = owned_dir  # the throwaway folder we made (None: .ci/run's server)

    @classmethod
    def for_tests(cls) -> PostgresServer:
        """The server `.ci/run` started, else a new throwaway cluster (see `unavailable_reason` first)."""
        url = os.environ.get(URL_VAR)
        if url:
            bin_dir = find_bin_dir()
            if bin_dir is None:
                raise RuntimeError(f"{URL_VAR} is set but {PGBIN_VAR} names no folder with pg_ctl")
            return cls(url, Path(os.environ[PGDATA_VAR]), bin_dir)
        return cls.throwaway()

    @classmethod
    def throwaway(cls, fsync: bool = False) -> PostgresServer:
        """initdb a cluster in a temporary folder and start it (``fsync`` off unless asked: tests need no durability)."""
        bin_dir = find_bin_dir()
        assert bin_dir is not None, unavailable_reason()
        folder = Path(tempfile.mkdtemp(prefix="handoutpress-pg-"))
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(folder, user.pw_uid, user.pw_gid)
        port = free_port()
        server = cls(f"postgresql://{SERVER_USER}@127.0.0.1:{port}/postgres", folder / "data", bin_dir, folder)
        server._run("initdb", "-D", str(server.data_dir), "-U", SERVER_USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(server.data_dir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{folder}'\nfsync = {'on' if fsync else 'off'}\n"
            )
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(server.data_dir / "postgresql.conf", user.pw_uid, user.pw_gid)
        server.start()
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd="/")
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")

    def _log(self) -> Path:
        return (self.owned_dir or self.data_dir.parent) / "server.log"

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self._log()), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop the server (fast: open connections are cut), waiting until it is down."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        command = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        return subprocess.run(command, capture_output=True, timeout=30, cwd="/").returncode == 0

    def ensure_running(self) -> None:
        if not self.running():
            self.start()

    def url(self, database: str) -> str:
        """The URL of ``database`` on this server."""
        return self.admin_url.rsplit("/", 1)[0] + "/" + database

    def port(self) -> int:
        return int(self.admin_url.rsplit(":", 1)[1].split("/", 1)[0])

    def new_database(self) -> str:
        """A new, empty database on this server; its URL."""
        name = f"hp_test_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]  # a name we made, not outside input

    def destroy(self) -> None:
        """Stop and remove a throwaway cluster (the one .ci/run started is left to it)."""
        if self.owned_dir is None:
            return
        if self.running():
            self.stop()
        shutil.rmtree(self.owned_dir, ignore_errors=True)


def postgres_for_tests() -> Iterator[PostgresServer]:
    """A fixture's body: the tests' server, skipped (saying why) only where none can start; left running
    as found (a test may stop it) and removed at the end if it is our throwaway one."""
    import pytest

    why = unavailable_reason()
    if why:
        pytest.skip(f"no PostgreSQL server can start here: {why}")
    server = PostgresServer.for_tests()
    yield server
    server.ensure_running()
    server.destroy()
