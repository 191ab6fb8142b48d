"""One build per out/ folder at a time: an advisory lock that a second build waits for."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.errors import HandoutPressError, Problem

if TYPE_CHECKING:
    pass

from handoutpress.batch.jobs import LOCK_FILE

# Locking: one build per out/ at a time


class BuildLocked(HandoutPressError):
    """Another build holds the lock on this out/ folder."""

    category = "usage"


@contextlib.contextmanager
def build_lock(out: Path, *, wait: bool, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``out/`` for the length of a build.

    The lock is an ``flock`` on ``out/.handoutpress.lock``; the kernel drops it
    when the holder exits, even by SIGKILL, so a dead build never blocks the
    next one. With ``wait`` a second build waits (saying so once); without, it
    stops with a `BuildLocked` error naming the holder.
    """
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            message = f"another build is running on {out} (process {holder})"
            if not wait:
                raise BuildLocked(Problem(str(out), f"{message}; try again when it ends")) from None
            if notify:
                notify(f"{message}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


