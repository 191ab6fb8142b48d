"""Where the record is kept: ``--records URL`` read, an engine made, and a
database's failures turned into one line a person can act on.

Two kinds of database, through SQLAlchemy Core:

- SQLite (the default: ``<root>/records/handed-out.sqlite3``, or
  ``sqlite:///PATH``): WAL mode, so a report reads while desks write; a busy
  timeout, so desks sharing the file wait their turn; each transaction begins
  with ``BEGIN IMMEDIATE``, so a writer never has to upgrade a read lock (which
  fails at once instead of waiting).
- PostgreSQL (``postgresql://``, ``postgres://`` or ``postgresql+psycopg://``)
  through psycopg 3, for several desks on several computers.

A password in the URL is never shown: `Target.location` and every message
carry ``***`` in its place.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from handoutpress.records.events import RecordsError, records_error

DEFAULT_FILE = Path("records") / "handed-out.sqlite3"
BUSY_SECONDS = 5.0  # how long a desk waits for another desk's write to SQLite
CONNECT_SECONDS = 5  # how long a desk waits for PostgreSQL to answer a new connection
MIN_FREE_BYTES = 1 << 20  # below this, the disk under a SQLite file counts as full

EXPECTED = "expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_PASSWORD_IN_QUERY = re.compile(r"((?:^|[?&\s])password=)[^&\s]*", re.IGNORECASE)


def mask_password(text: str) -> str:
    """``text`` with any URL password in it (``user:PASSWORD@`` or ``?password=``) replaced by ``***``."""
    return _PASSWORD_IN_QUERY.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", text))


@dataclass(frozen=True)
class Target:
    """One database to keep the record in."""

    url: URL
    location: str  # one line for people: the SQLite file, or the URL without its password
    sqlite_file: Path | None  # None for PostgreSQL
    password: str | None  # to keep it out of every message

    @property
    def is_sqlite(self) -> bool:
        return self.sqlite_file is not None

    def hide(self, text: str) -> str:
        """``text`` with this target's password (if any) masked."""
        text = mask_password(text)
        return text.replace(self.password, "***") if self.password else text


def read_target(url: str | None, root: Path) -> Target:
    """The database ``--records`` names (None: the default SQLite file under ``root``)."""
    if url is None:
        return _sqlite_target(root / DEFAULT_FILE)
    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme == "sqlite":
        path = text[len("sqlite:///") :] if text.lower().startswith("sqlite:///") else ""
        if not path or path.startswith("?") or path == ":memory:":
            raise records_error(f"an SQLite URL names a file: sqlite:///PATH, got {mask_password(text)!r}")
        file = Path(path)
        return _sqlite_target(file if file.is_absolute() else Path.cwd() / file)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return _postgresql_target(text)
    raise records_error(f"{EXPECTED}, got {mask_password(text)!r}")


def _sqlite_target(file: Path) -> Target:
    file = Path(os.path.abspath(file))
    return Target(URL.create("sqlite", database=str(file)), str(file), file, None)


def _postgresql_target(text: str) -> Target:
    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        raise records_error(f"{EXPECTED}, got {mask_password(text)!r} ({mask_password(str(exc))})") from None
    if not url.database:
        raise records_error(f"name the database: postgresql://USER@HOST:PORT/DATABASE, got {mask_password(text)!r}")
    if not url.host and "host" not in url.query:
        raise records_error(f"name the server: postgresql://USER@HOST:PORT/DATABASE, got {mask_password(text)!r}")
    url = url.set(drivername="postgresql+psycopg")
    shown = mask_password(url.set(drivername="postgresql").render_as_string(hide_password=True))
    password = url.password if isinstance(url.password, str) else url.query.get("password")
    return Target(url, shown, None, password if isinstance(password, str) and password else None)


def make_engine(target: Target, busy_seconds: float = BUSY_SECONDS, read_only: bool = False) -> Engine:
    """An engine for ``target``: SQLite in WAL mode with a busy timeout, or PostgreSQL through psycopg.

    ``read_only`` (a report): SQLite transactions begin deferred, so reading never waits for a desk's write.
    """
    if target.sqlite_file is None:
        return create_engine(
            target.url,
            pool_pre_ping=True,  # a server restarted since: the next use reconnects instead of failing
            pool_size=2,
            max_overflow=4,
            connect_args={"connect_timeout": CONNECT_SECONDS, "application_name": "handoutpress"},
        )
    engine = create_engine(target.url, connect_args={"timeout": busy_seconds})
    event.listen(engine, "connect", functools.partial(_sqlite_connected, busy_seconds=busy_seconds))
    event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, _record: Any, *, busy_seconds: float) -> None:
    # The driver's own transaction handling is turned off so that `_sqlite_begin` chooses how
    # each one starts; WAL is kept in the file, so setting it again is cheap.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _set_wal(cursor, busy_seconds)
    finally:
        cursor.close()


def _set_wal(cursor: Any, busy_seconds: float) -> None:
    """Put the file in WAL mode, waiting up to ``busy_seconds`` for a desk that is doing the same.

    Two desks opening a new file at the same moment both ask for WAL; switching
    needs the file to itself, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, to the one that would otherwise
    deadlock (measured: 4 times in 30 two-desk starts). It is asked again until
    the timeout has passed.
    """
    deadline = time.monotonic() + busy_seconds
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            waiting = "locked" in str(exc) or "busy" in str(exc)
            if not waiting or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


def check_free_space(folder: Path) -> None:
    """RecordsError when the disk holding ``folder`` is (all but) full."""
    try:
        stats = os.statvfs(folder)
    except OSError as exc:
        raise records_error(f"cannot use {folder}: {exc.strerror or exc}") from None
    free = stats.f_bavail * stats.f_frsize
    if free < MIN_FREE_BYTES:
        raise records_error(f"the disk holding {folder} is full ({free // 1024} KiB free)")


def failure(target: Target, exc: BaseException) -> RecordsError:
    """The one line that says why ``target`` cannot be used."""
    return records_error(f"cannot use {target.location}: {reason(target, exc)}")


def reason(target: Target, exc: BaseException) -> str:
    """Why a database operation failed, in one line, without a password."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, OSError) and cause.strerror:
        text = cause.strerror
    else:
        text = str(cause)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[0] if lines else type(cause).__name__
    line = line.removeprefix("connection failed: ")
    if target.is_sqlite and "locked" in line:
        line += " (another program holds the file)"
    return target.hide(line)
