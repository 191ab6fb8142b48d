"""What shapes an output: the files, fonts, code and options whose digests key each job."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterable
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


def library_fingerprint(options: BuildOptions, fonts: Iterable[str], files: str | None = None) -> str:
    """Everything a whole build reads, hashed without parsing any of it.

    Equal fingerprints mean the last clean build already made exactly this
    library; ``today`` is part of it because review statuses depend on it.
    ``files``: `input_files_digest` taken earlier (at the start of a build).
    """
    files = files or input_files_digest(options)
    return hashlib.sha256(f"{files}\0{fonts_digest(fonts)}".encode()).hexdigest()


def input_files_digest(options: BuildOptions) -> str:
    """Every file, setting and option a whole build reads, hashed without parsing any of it."""
    root = options.root
    digest = hashlib.sha256()
    for name in INPUT_FOLDERS:
        digest.update(f"{name}\0{tree_digest(root / name) if (root / name).is_dir() else '-'}\0".encode())
    digest.update(tree_digest(root, [p.name for p in root.glob("*.yaml")]).encode())  # project settings
    digest.update(f"brand\0{options.brand_dir.resolve()}\0{tree_digest(options.brand_dir)}\0".encode())
    digest.update(f"{code_digest()}\0{output_options()}\0".encode())
    digest.update(f"{options.today.isoformat()}\0{options.page_limit}\0{options.out.resolve()}\0".encode())
    return digest.hexdigest()


def shared_inputs_digest(root: Path) -> str:
    """The files every output may read (templates, styles, labels, glossary): a change empties long-lived caches."""
    return hashlib.sha256(
        "\0".join(tree_digest(root / d) if (root / d).is_dir() else "-" for d in SHARED_FOLDERS).encode()
    ).hexdigest()


