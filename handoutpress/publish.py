"""Stage 5, publish: outputs reach ``out/`` whole or not at all.

Every file is written to a temporary file in its destination folder, flushed
to disk and renamed into place, so a reader (or a build killed halfway) only
ever sees the old complete file or the new complete file. The manifest is
written last and lists what ``out/`` holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1

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


def patient_file_name(title: str, suffix: str = "") -> str:
    """A file name a patient understands: the title's words joined by hyphens.

    "Ketamine and Your Other Medications" -> "Ketamine-and-Your-Other-Medications.pdf".
    Accents are folded so the name survives any email client or file system.
    """
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.findall(r"[A-Za-z0-9]+", folded)
    stem = "-".join(words)[:80].rstrip("-") or "Handout"
    if suffix:
        stem = f"{stem}-{suffix}"
    return f"{stem}.pdf"


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of ``out`` or an empty one; a damaged manifest counts as empty."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": MANIFEST_VERSION, "outputs": []}
    if not isinstance(data, dict) or not isinstance(data.get("outputs"), list):
        return {"version": MANIFEST_VERSION, "outputs": []}
    return data


def write_manifest(out: Path, outputs: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    manifest = {"version": MANIFEST_VERSION, **(extra or {}), "outputs": sorted(outputs, key=lambda o: o["path"])}
    atomic_write(out / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
