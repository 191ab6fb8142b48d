"""Files written whole or not at all, and their digests.

Every stage that writes a file the project keeps (a PDF, the manifest, the
checks cache, a translation record, a stamped outside PDF) writes it here: to a
temporary file in the destination folder, flushed to disk, renamed into place,
and the folder synced, so a reader or a process killed halfway only ever sees
the old complete file or the new complete file. A leaf module: it knows nothing
of handouts.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

# mkstemp creates files only the owner can read; published files get the
# permissions any other new file would.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is never seen half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_if_changed(path: Path, data: bytes) -> bool:
    """`atomic_write` ``data`` to ``path`` unless it already holds exactly that; returns whether it wrote."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    atomic_write(path, data)
    return True


def atomic_link(source: Path, path: Path) -> bool:
    """Make ``path`` the same file as ``source`` (a hard link), never seen half-made; unless it already is.

    For a second name of a file already written whole (a PDF's copy in the web
    edition): no bytes are copied or synced again, and the two names take the
    room of one. Where the folder cannot hold a hard link to ``source`` (another
    file system, one without links), ``path`` gets a copy of its bytes through
    `write_if_changed`, unless it already holds exactly those. Returns whether
    ``path`` changed. A later `atomic_write` of ``source`` replaces that name
    with a new file and leaves ``path`` as it was.
    """
    try:
        if os.path.samefile(source, path):
            return False
    except OSError:
        pass  # path is not there yet (or source is not: reading it below says so)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp"  # the name remove_leftover_temp_files knows
    try:
        os.link(source, tmp)
    except FileNotFoundError:
        raise
    except OSError:  # no hard link here: a copy
        return write_if_changed(path, source.read_bytes())
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def remove_leftover_temp_files(out: Path) -> list[Path]:
    """Delete temporary files `atomic_write` left behind when a build was killed.

    Only names `atomic_write` makes (``.<name>.<random>.tmp``) are touched. Call
    it while holding the build lock, so no running build's file is taken away.
    """
    removed = []
    if out.is_dir():
        for tmp in out.rglob(".*.tmp"):
            if tmp.is_file() and tmp.name.count(".") >= 3:
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
