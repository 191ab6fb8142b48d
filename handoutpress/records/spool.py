"""The spool: where events wait while the database cannot be reached.

One JSON line per event, each under the unique id it was given when first
recorded, appended and fsynced before `Records.record` answers, so an event
the desk was told about survives a crash. Writing the spool back is
idempotent (the database ignores an id it already has), so a crash between
writing it back and emptying it doubles nothing.

Every desk process sharing a spool (the same ``--desk`` on one computer) takes
an exclusive ``flock`` on ``spool-<desk>.lock`` around each append and each
write-back, so their lines never interleave and none is emptied unwritten.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from handoutpress.records.events import HandOut


def desk_file_stem(desk: str) -> str:
    """``desk`` as part of a file name (spaces and dots become hyphens)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", desk).strip("-") or "desk"


class Spool:
    """The spool file of one desk, in ``folder``."""

    def __init__(self, folder: Path, desk: str) -> None:
        stem = f"spool-{desk_file_stem(desk)}"
        self.folder = folder
        self.path = folder / f"{stem}.jsonl"
        self.lock_path = folder / f"{stem}.lock"
        self.rejected_path = folder / f"{stem}.rejected.jsonl"  # lines that are not events (a torn write)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the spool's lock (every process of this desk waits for it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Add ``rows`` (events under their ids) to the spool, on disk before returning."""
        data = "".join(json.dumps(_spooled(row), sort_keys=True) + "\n" for row in rows).encode("utf-8")
        with self.locked():
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_folder(self.folder)

    def pending(self) -> int:
        """How many events wait in the spool."""
        try:
            with self.path.open("rb") as f:
                return sum(1 for line in f if line.strip())
        except FileNotFoundError:
            return 0

    def write_back(self, write: Callable[[list[dict[str, Any]]], None]) -> int:
        """Hand every waiting event to ``write`` (all at once), then empty the spool; how many were written.

        When ``write`` raises, the spool is left as it was and the exception goes on.
        """
        if not self.path.exists():  # nothing waits (and no lock file is made for nothing)
            return 0
        with self.locked():
            try:
                lines = self.path.read_bytes().splitlines()
            except FileNotFoundError:
                return 0
            rows, rejected = _parse(lines)
            if rows:
                write(rows)
            if rejected:
                with self.rejected_path.open("ab") as f:
                    f.write(b"".join(line + b"\n" for line in rejected))
                    os.fsync(f.fileno())
            self.path.unlink()
            _fsync_folder(self.folder)
            return len(rows)


def _spooled(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "day": row["day"].isoformat()}


def _parse(lines: list[bytes]) -> tuple[list[dict[str, Any]], list[bytes]]:
    rows, rejected = [], []
    for line in lines:
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            uid = str(uuid.UUID(str(data.pop("event_uid"))))
            rows.append(HandOut.from_json(data).as_row(uid))
        except (ValueError, KeyError, TypeError, AttributeError):
            rejected.append(line)
    return rows, rejected


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
