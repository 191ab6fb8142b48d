"""The built library as the front desk sees it: ``out/``'s manifest, the files it may serve,
which document a served file hands out, and the one job a personalised copy needs.

A personalised copy costs only its own handout: its YAML is loaded (with its
source's codes, for a translation), its related titles come from the
manifest's entries (so the copy prints what the printed one does), and its
edition must still be the manifest's; no other handout is read and no build
lock is taken.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.errors import ContentError, HandoutPressError, Problem
from handoutpress.publish import MANIFEST, WEB_VARIANT, read_manifest

if TYPE_CHECKING:
    from handoutpress.batch.jobs import Job
    from handoutpress.load.brand import Brand

# What may be served from anywhere in out/ (the PDFs, the thumbnails) ...
SERVED_SUFFIXES = {".pdf": "application/pdf", ".png": "image/png"}
# ... and from the web edition, out/web/**: its pages and the files they load (the live preview serves the same).
WEB_SUFFIXES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",  # each handout's PDFs, copied beside its page
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
WEB_FOLDER = "web"


class ServeError(HandoutPressError):
    """The server cannot start, or cannot make the copy asked for (shown to the person, one line)."""


class Library:
    """The project and its built outputs, as the server needs them.

    The manifest is read again whenever its file changes (a build ran), and
    kept, with its entries by path, until then.
    """

    def __init__(self, root: Path, out: Path, brand_dir: Path | None = None):
        self.root = root.resolve()
        self.out = out.resolve()
        if not (self.out / MANIFEST).is_file():
            raise ServeError(Problem(str(out), "no catalogue here: run `python generate.py build` first"))
        recorded = read_manifest(self.out).get("brand")
        self.brand_dir = brand_dir or (self.root / recorded if isinstance(recorded, str) else self.root / "brands/default")
        self._read: tuple[tuple[int, int], dict[str, Any], dict[str, dict]] | None = None

    def manifest(self) -> dict:
        return self._current()[1]

    def entries(self) -> dict[str, dict]:
        """The manifest's entries by path."""
        return self._current()[2]

    def manifest_key(self) -> tuple[int, int]:
        """What changes whenever the manifest is written again (its file's time and size)."""
        return self._current()[0]

    def _current(self) -> tuple[tuple[int, int], dict[str, Any], dict[str, dict]]:
        try:
            stat = os.stat(self.out / MANIFEST)
            key = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            key = (0, 0)
        if self._read is None or self._read[0] != key:
            manifest = read_manifest(self.out)
            by_path = {str(o["path"]): o for o in manifest["outputs"] if isinstance(o, dict) and o.get("path")}
            self._read = (key, manifest, by_path)
        return self._read

    def pdfs(self) -> set[str]:
        """The paths of the catalogue's PDFs (never a web page)."""
        return {p for p, e in self.entries().items() if e.get("variant") != WEB_VARIANT}

    def file(self, rel: str) -> tuple[Path, str] | None:
        """The file under out/ that ``rel`` names and its media type, if it may be served; else None."""
        if not rel or "\\" in rel or "\0" in rel:
            return None
        parts = rel.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        suffixes = WEB_SUFFIXES if parts[0] == WEB_FOLDER and len(parts) > 1 else SERVED_SUFFIXES
        target = (self.out / rel).resolve()
        kind = suffixes.get(target.suffix.lower())
        if kind is None or not target.is_relative_to(self.out) or not target.is_file():
            return None
        return target, kind

    def handed_out(self, rel: str) -> dict | None:
        """The manifest entry of the document a GET of ``rel`` hands out: a PDF, a web page,
        or a PDF beside a web page; None for anything else (thumbnails, styles, edition pages)."""
        entries = self.entries()
        entry = entries.get(rel)
        if entry is not None:
            return entry
        parts = rel.split("/")
        if len(parts) == 4 and parts[0] == WEB_FOLDER and parts[3].endswith(".pdf"):  # web/<language>/<id>/<file>.pdf
            beside = entries.get(f"{parts[1]}/{parts[3]}")
            if beside is not None and beside.get("id") == parts[2] and beside.get("variant") != WEB_VARIANT:
                return beside
        return None

    def brand(self) -> Brand:
        from handoutpress.load.brand import load_brand

        return load_brand(self.brand_dir, self.root)

    def copy_job(self, path: str) -> Job:
        """The one job that makes the PDF at ``path`` again, from its handout's YAML alone."""
        from handoutpress.batch.jobs import Job
        from handoutpress.load.content import inherit_codes, load_handout

        entry = self.entries().get(path)
        if entry is None or entry.get("variant") == WEB_VARIANT:
            raise ServeError(Problem(path, "not in the catalogue"))
        gone = ServeError(Problem(path, "its source is gone or no longer valid: run `python generate.py build`"))
        source = (self.root / str(entry.get("source", ""))).resolve()
        if not source.is_relative_to(self.root / "handouts") or not source.is_file():
            raise gone
        try:
            item = load_handout(source, self.root)
        except ContentError:
            raise gone from None
        if item.content.translation is not None:
            item = inherit_codes([item], self.root)[0]
        if item.id != entry.get("id") or item.language != entry.get("language"):
            raise gone
        if entry.get("edition") != item.edition:  # the copy must say what the printed one says
            raise ServeError(Problem(path, "its text changed since the last build: run `python generate.py build` first"))
        titles = {(e.get("language"), e.get("id")): str(e.get("title")) for e in self.entries().values()}
        related = tuple(titles[(item.language, r)] for r in item.content.related if (item.language, r) in titles)
        return Job(item, str(entry["variant"]), path, related, str(entry.get("inputs_sha256", "")))
