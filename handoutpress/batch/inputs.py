"""What shapes an output: the files, fonts, code and options whose digests key each job,
and the fingerprint of a whole library that lets a build with nothing to do stop at once.

Deciding whether anything changed must cost what the change costs, not what the
library costs: `FileDigests` remembers each file's sha256 with the metadata it
had (size, modification and change times, inode), so a file is read again only
when its metadata moved. The memory is a small JSON file under
``out/.cache/``, written atomically; a damaged one is ignored (it costs one
full hashing, never a wrong answer).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from handoutpress.batch.jobs import INPUT_FOLDERS, SHARED_FOLDERS, BuildOptions
from handoutpress.version import __version__, distribution_version


def tree_digest(folder: Path, names: Iterable[str] | None = None) -> str:
    """The names and bytes of the files under ``folder`` (or just ``names`` in it), hidden files left out."""
    digest = hashlib.sha256()
    files = sorted(folder.rglob("*")) if names is None else [folder / n for n in sorted(names)]
    for p in files:
        if p.is_file() and not p.name.startswith("."):
            digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


_CODE_DIGEST: str | None = None


def code_digest() -> str:
    """Our version and source, and the versions of the libraries that write PDFs."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        package = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256(f"{__version__}\0".encode())
        for name in ("weasyprint", "pydyf", "pypdf", "fonttools"):
            digest.update(f"{name}={distribution_version(name)}\0".encode())
        digest.update(tree_digest(package, [p.relative_to(package).as_posix() for p in package.rglob("*.py")]).encode())
        _CODE_DIGEST = digest.hexdigest()
    return _CODE_DIGEST


_FONT_FILES: dict[str, tuple[str, ...]] = {}
FONT_STYLES = ("regular", "bold", "italic", "bold:italic", "semibold")


def font_files(family: str) -> tuple[str, ...]:
    """The font files fontconfig picks for ``family`` (and the fallback) in each style.

    Asked of ``fc-match`` once per family per process; all styles at once.
    """
    if family not in _FONT_FILES:
        import subprocess  # only a real build asks fontconfig; the no-op reads the manifest's list

        patterns = [f"{name}:{style}" for name in (family, "DejaVu Sans") for style in FONT_STYLES]
        try:
            runs = [
                subprocess.Popen(["fc-match", "-f", "%{file}", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                for p in patterns
            ]
            found = {run.communicate()[0].decode(errors="replace") for run in runs}
        except OSError:  # no fontconfig tools: fall back to hashing nothing but the name
            found = set()
        _FONT_FILES[family] = tuple(sorted(f for f in found if f))
    return _FONT_FILES[family]


def fonts_digest(files: Iterable[str]) -> str:
    """Names, sizes and modification times of the font files: cheap, and changes when a font does."""
    digest = hashlib.sha256()
    for name in files:
        try:
            st = os.stat(name)
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(f"{name}\0missing\0".encode())
    return digest.hexdigest()


def output_options() -> str:
    """Options and environment that change the bytes of a PDF."""
    return f"SOURCE_DATE_EPOCH={os.environ.get('SOURCE_DATE_EPOCH', '')}"


DIGESTS_FILE = Path(".cache") / "files.json"  # under the build's out/
_DIGESTS_FORMAT = 2
_HEX = frozenset("0123456789abcdef")


class FileDigests:
    """The sha256 of files, each remembered with its metadata: read again only when that moved.

    One object per build, kept in ``out/.cache/files.json``: opened before the
    fingerprint is taken, told about the files the build writes (`vouch`), and
    saved at the end with only the files this run asked about.

    A file written in the same clock tick as the memory itself could have new
    bytes behind old metadata, so, as git does with its index, a digest is
    believed only for a file whose modification and change times are older
    than the memory file's own modification time (both stamped by the same
    file system clock); a file as new as that is read again, and the memory
    rewritten so that it becomes older.
    """

    def __init__(self, path: Path | None, known: dict[str, list], stamp: int) -> None:
        self.path = path
        self._known = known  # absolute path -> [size, mtime_ns, ctime_ns, inode, sha256]
        self._stamp = stamp  # the memory file's mtime_ns when it was read (-1: none)
        self._used: dict[str, list] = {}
        self._changed = False

    @classmethod
    def open(cls, path: Path | None) -> FileDigests:
        """The digests remembered in ``path`` (none when it is missing, damaged or of another format)."""
        if path is None:
            return cls(None, {}, -1)
        try:
            stamp = os.stat(path).st_mtime_ns
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return cls(path, {}, -1)
        if not (isinstance(data, dict) and data.get("format") == _DIGESTS_FORMAT and isinstance(data.get("files"), dict)):
            return cls(path, {}, -1)
        return cls(path, {k: v for k, v in data["files"].items() if _well_formed(v)}, stamp)

    def digest(self, path: Path) -> str | None:
        """The sha256 of the file at ``path``, None if it is missing or unreadable."""
        key = str(path)
        try:
            st = os.stat(key)
        except OSError:
            return None
        meta = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        old = self._known.get(key)
        if old is not None and old[:4] == meta and max(meta[1], meta[2]) < self._stamp:
            self._used[key] = old
            return old[4]
        try:
            with open(key, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except OSError:
            return None
        self._remember(key, [*meta, digest], racy=old is not None and old[:4] == meta)
        return digest

    def vouch(self, path: Path, digest: str) -> None:
        """``path`` was just written by this process, under its lock, with bytes of this digest."""
        key = str(path)
        try:
            st = os.stat(key)
        except OSError:
            return
        self._remember(key, [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, digest])

    def _remember(self, key: str, entry: list, *, racy: bool = False) -> None:
        if racy or self._known.get(key) != entry:
            self._changed = True
        self._known[key] = self._used[key] = entry

    def save(self) -> None:
        """Write the file (atomically) if this run learnt anything or forgot a file; keep only what it asked about."""
        if self.path is None or not (self._changed or len(self._used) != len(self._known)):
            return
        from handoutpress.files import atomic_write

        text = json.dumps({"format": _DIGESTS_FORMAT, "files": self._used}, separators=(",", ":"))
        try:
            atomic_write(self.path, text.encode())
        except OSError:
            return  # a memory that cannot be written only costs time next run
        self._known = dict(self._used)
        self._changed = False


def _well_formed(entry: object) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 5
        and all(type(n) is int for n in entry[:4])
        and isinstance(entry[4], str)
        and len(entry[4]) == 64
        and set(entry[4]) <= _HEX
    )


def _files_under(folder: Path) -> Iterator[Path]:
    """Every file under ``folder``, sorted by relative path; hidden files left out, except YAML
    (the loader reads a hidden ``.x.yaml`` too)."""
    found = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.startswith(".") or name.endswith((".yaml", ".yml")):
                found.append(Path(top, name))
    yield from sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _tree(digest, label: str, folder: Path, digests: FileDigests) -> None:
    """Add every file under ``folder`` to ``digest``: its relative name and its sha256."""
    if not folder.is_dir():
        digest.update(f"{label}\0-\0".encode())
        return
    for path in _files_under(folder):
        file_digest = digests.digest(path)
        if file_digest is not None:  # gone or unreadable while listed: its absence is what counts
            digest.update(f"{label}/{path.relative_to(folder).as_posix()}\0{file_digest}\0".encode())


def library_fingerprint(options: BuildOptions, fonts: Iterable[str], files: str) -> str:
    """Everything a whole build reads, hashed without parsing any of it.

    Equal fingerprints mean the last clean build already made exactly this
    library; ``today`` is part of it because review statuses depend on it.
    ``files``: `input_files_digest` taken at the start of the build.
    """
    return hashlib.sha256(f"{files}\0{fonts_digest(fonts)}".encode()).hexdigest()


def input_files_digest(options: BuildOptions, digests: FileDigests) -> str:
    """Every file, setting and option a whole build reads (our own code and word lists
    too), by name and sha256, without parsing any of it; files read again only when
    their metadata changed (``digests``)."""
    root = options.root
    digest = hashlib.sha256()
    for name in INPUT_FOLDERS:
        _tree(digest, name, root / name, digests)
    for settings in sorted(root.glob("*.yaml")):  # project settings
        digest.update(f"settings {settings.name}\0{digests.digest(settings)}\0".encode())
    digest.update(f"brand\0{options.brand_dir.resolve()}\0".encode())
    _tree(digest, "brand", options.brand_dir, digests)
    package = Path(__file__).resolve().parents[1]
    digest.update(f"{__version__}\0".encode())
    for name in ("weasyprint", "pydyf", "pypdf", "fonttools"):
        digest.update(f"{name}={distribution_version(name)}\0".encode())
    _tree(digest, "code", package, digests)
    digest.update(f"{output_options()}\0".encode())
    digest.update(f"{options.today.isoformat()}\0{options.page_limit}\0{options.out.resolve()}\0".encode())
    return digest.hexdigest()


def library_sources(paths: Iterable[Path], root: Path) -> list[str] | None:
    """The handout files under ``paths`` as the manifest names their source, when every one
    of them is a file of the library (``handouts/``) and the build would read; None otherwise
    (a PATH outside the library, missing, or not YAML: only a real build can say what it gives).

    Nothing is parsed and no heavy module is imported: this is the fast path's view of PATHs.
    """
    library = (root / "handouts").resolve()
    base = root.resolve()
    found: set[str] = set()
    for given in paths:
        path = given.resolve()
        if not (path == library or path.is_relative_to(library)):
            return None
        if path.is_dir():
            found.update(p.relative_to(base).as_posix() for p in _files_under(path) if p.suffix in (".yaml", ".yml"))
        elif path.is_file() and path.suffix in (".yaml", ".yml"):
            found.add(path.relative_to(base).as_posix())
        else:
            return None
    return sorted(found)


def shared_inputs_digest(root: Path) -> str:
    """The files every output may read (templates, styles, labels, glossary): a change empties long-lived caches."""
    return hashlib.sha256(
        "\0".join(tree_digest(root / d) if (root / d).is_dir() else "-" for d in SHARED_FOLDERS).encode()
    ).hexdigest()


