"""The hand-out record as the front desk uses it: opened (and proven usable)
at start, then one `Records.record` call per document handed out.

`open_records` fails at start, with one line, when the record cannot be used:
a malformed URL, a server that does not answer, a full disk, a SQLite file
another program holds locked. It proves the database by really using it:
connecting, creating or migrating the schema, and writing an event that is
rolled back.

While serving, a database problem never stops a desk: `Records.record` puts
the events in the desk's spool (`spool.Spool`) and answers with a one-line
notice; the spool is written back on the next successful record and by a
retry timer, each event exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from handoutpress.records.events import DEFAULT_DESK, HandOut, check_desk, handed_out, new_event_uid, records_error, utc_today
from handoutpress.records.schema import migrate
from handoutpress.records.spool import Spool
from handoutpress.records.target import Target, check_free_space, failure, make_engine, read_target, reason

PROBE_BUSY_SECONDS = 2.0  # at start, a SQLite file locked this long counts as locked
RETRY_SECONDS = 10.0  # how often the spool is tried again while the database is away
# What a database (or the disk under it) can do to a write; none of it may stop a desk.
DATABASE_TROUBLE = (SQLAlchemyError, OSError)


def open_records(url: str | None, root: Path, desk: str = DEFAULT_DESK, *, retry_seconds: float = RETRY_SECONDS) -> Records:
    """The record ``--records URL`` names (None: ``<root>/records/handed-out.sqlite3``), proven usable.

    Raises `RecordsError` (one line) when it cannot be used. Events a desk spooled
    earlier are written back now.
    """
    try:
        check_desk(desk)
    except ValueError as exc:
        raise records_error(str(exc), where="--desk") from None
    target = read_target(url, root)
    probe(target)
    records = Records(_engine(target), target, Spool(root / "records", desk), retry_seconds)
    if records.pending():
        records.write_back()
    return records


def _engine(target: Target, busy_seconds: float | None = None) -> Engine:
    try:
        return make_engine(target) if busy_seconds is None else make_engine(target, busy_seconds)
    except (ImportError, SQLAlchemyError) as exc:
        raise records_error(f"cannot use {target.location}: {reason(target, exc)}") from None


def probe(target: Target) -> None:
    """Prove ``target`` usable: connect, create or migrate the schema, write an event and roll it back."""
    if target.sqlite_file is not None:
        folder = target.sqlite_file.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise records_error(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
        check_free_space(folder)
    engine = _engine(target, PROBE_BUSY_SECONDS)
    try:
        with engine.begin() as conn:
            migrate(conn)
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(insert(handed_out).values(_probe_event().as_row(new_event_uid())))
            if target.is_sqlite and conn.exec_driver_sql("PRAGMA journal_mode").scalar() != "wal":
                raise records_error(f"cannot use {target.location}: the file could not be put in WAL mode")
            transaction.rollback()
    except DATABASE_TROUBLE as exc:
        raise failure(target, exc) from None
    finally:
        engine.dispose()


def _probe_event() -> HandOut:
    return HandOut(utc_today(), DEFAULT_DESK, "start-probe", "en", "standard", "probe", "open", None, None)


def insert_events(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Add ``rows`` to the table; a row whose event_uid is there already is skipped (a spool written twice)."""
    if conn.dialect.name == "postgresql":
        statement: Any = postgresql_insert(handed_out).on_conflict_do_nothing(index_elements=[handed_out.c.event_uid])
    else:
        statement = sqlite_insert(handed_out).on_conflict_do_nothing(index_elements=[handed_out.c.event_uid])
    conn.execute(statement, list(rows))


class Records:
    """The open record of one desk: thread-safe, and never stopped by a database problem."""

    def __init__(self, engine: Engine, target: Target, spool: Spool, retry_seconds: float = RETRY_SECONDS) -> None:
        self.engine = engine
        self.target = target
        self.location = target.location
        self.spool = spool
        self.retry_seconds = retry_seconds
        self._lock = threading.Lock()  # one spool write-back at a time in this process
        self._stop = threading.Event()
        self._thread_lock = threading.Lock()  # guards _retrying
        self._retrying: threading.Thread | None = None

    def record(self, events: Sequence[HandOut]) -> str | None:
        """Record ``events``; None when they are in the database, else a one-line notice (they are spooled)."""
        if not events:
            return None
        for e in events:
            if not isinstance(e, HandOut):
                raise TypeError(f"record() takes HandOut events, got {type(e).__name__}")
        rows = [e.as_row(new_event_uid()) for e in events]
        try:
            self._write(rows)
        except DATABASE_TROUBLE as exc:
            return self._spool(rows, exc)
        try:
            if self.spool.pending():
                self.write_back()
        except OSError:  # the spool cannot be read: it stays for the retry timer and the next start
            pass
        return None

    def pending(self) -> int:
        """How many events wait in this desk's spool."""
        return self.spool.pending()

    def write_back(self) -> bool:
        """Write the spooled events to the database now; whether the spool is empty afterwards."""
        if not self._lock.acquire(blocking=False):  # another thread of ours is at it
            return False
        try:
            self.spool.write_back(self._write)  # does nothing when the spool is empty
            return True
        except DATABASE_TROUBLE:
            return False
        finally:
            self._lock.release()

    def close(self) -> None:
        """Stop retrying, try the spool once more, and let the database go."""
        self._stop.set()
        with self._thread_lock:
            retrying = self._retrying
        if retrying is not None:
            retrying.join()
        self.write_back()  # what is still spooled then waits for the next start
        self.engine.dispose()

    def _write(self, rows: Sequence[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            insert_events(conn, rows)

    def _spool(self, rows: list[dict[str, Any]], exc: BaseException) -> str:
        why = reason(self.target, exc)
        try:
            self.spool.append(rows)
        except OSError as spool_exc:
            return (
                f"records: {len(rows)} hand-out event(s) NOT recorded: the database failed ({why}) "
                f"and the spool {self.spool.path} could not be written ({spool_exc.strerror or spool_exc})"
            )
        self._start_retrying()
        return (
            f"records: the database could not be written ({why}); {self.spool.pending()} event(s) wait in "
            f"{self.spool.path} and will be written when it is back"
        )

    def _start_retrying(self) -> None:
        with self._thread_lock:
            if self._retrying is None:
                self._retrying = threading.Thread(target=self._retry, name="records-retry", daemon=True)
                self._retrying.start()

    def _retry(self) -> None:
        while not self._stop.wait(self.retry_seconds):
            self.write_back()
            with self._thread_lock:  # an event spooled after this check starts a new timer
                if not self._waiting():
                    self._retrying = None
                    return

    def _waiting(self) -> bool:
        try:
            return self.spool.pending() > 0
        except OSError:  # cannot even read it: keep trying
            return True
