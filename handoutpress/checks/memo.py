"""The last `generate.py check`'s output, kept so that a check whose inputs have not
changed prints it again instead of working it out.

What `check` prints depends only on its command line (PATHs, ``--today``,
``--format``), the project's files it reads (the handouts, the glossaries, the
pictures in ``assets/``, ``handoutpress.yaml``), the code (every file of the
package, the libraries' and Python's versions) and nothing else: the caches
under ``out/.cache/`` make it faster, never different. The memo's key is one
sha256 of all of that, each file stood for by its name, size, mtime_ns,
ctime_ns and inode (what the load cache and the build trust too), taken from
one walk of those folders. A check whose key matches the memo's prints the
stored output; any other check works its output out and stores it, unless a
file changed while it ran.

Only checks of files inside ``handouts/`` are kept (every file such a check
reads is then in the folders walked), and none when a symbolic link is met in
those folders: a link's target may lie anywhere. The file
(``out/.cache/check-<format>.out``) is a line of JSON (format, key, counts,
lengths and the sha256 of the rest) followed by the output, compressed with
zlib; a file that is damaged or of another shape is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

from handoutpress.version import __version__, distribution_version

FORMAT = 1
PACKAGE = Path(__file__).resolve().parents[1]
# The libraries whose behaviour can change what `check` prints (as their .dist-info folders spell them).
LIBRARIES = ("markdown_it_py", "pydantic", "pydantic_core", "pyyaml")
INPUT_FOLDERS = ("handouts", "glossary", "assets")
INPUT_FILES = ("handoutpress.yaml",)
MAX_HEADER = 4096
COMPRESSION = 3  # zlib's level: fast, and a check's JSON shrinks twentyfold


def memo_file(out: Path, form: str) -> Path:
    """Where the memo of ``check --format FORM`` lives under the build's ``out/``."""
    return out / ".cache" / f"check-{form}.out"


@dataclass(frozen=True)
class CheckOutput:
    """What one `check` printed, and the counts its exit status is worked out from."""

    stdout: str
    stderr: str
    errors: int
    warnings: int


class _Unkeyable(Exception):
    """The inputs cannot be pinned down by a walk (a symbolic link, a PATH outside handouts/)."""


class CheckMemo:
    """The memo file of one `check` command: its key made once before the check, read once, written once."""

    def __init__(self, path: Path, root: Path, settings: list[str], paths: tuple[Path, ...]):
        self.path = path
        self.root = root
        self.settings = settings
        self.paths = paths
        self.key = self.input_key()

    def input_key(self) -> str | None:
        """sha256 of everything the check's output depends on, or None when it cannot be pinned down."""
        digest = hashlib.sha256()
        header = [f"memo {FORMAT}", f"version {__version__}", f"python {sys.version}", f"root {self.root}"]
        header += [f"library {distribution_version(name)}" for name in LIBRARIES]
        try:
            handouts = self.root.resolve() / "handouts"
            for p in self.paths:
                if not p.resolve().is_relative_to(handouts):
                    raise _Unkeyable(p)
            header.append(f"root resolved {self.root.resolve()}")
            header += [f"path {p}" for p in self.paths]
            digest.update("\0".join(header + self.settings).encode())
            _add_tree(digest, PACKAGE, contents=True)
            for name in INPUT_FOLDERS:
                _add_tree(digest, self.root / name, contents=False)
            for name in INPUT_FILES:
                _add_entry_state(digest, self.root / name)
        except (_Unkeyable, OSError, RuntimeError):
            return None
        return digest.hexdigest()

    def replay(self) -> CheckOutput | None:
        """The stored output when it was made for exactly these inputs, else None."""
        if self.key is None:
            return None
        try:
            with open(self.path, "rb") as fh:
                header = json.loads(fh.readline(MAX_HEADER).decode("utf-8"))
                if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != self.key:
                    return None
                body = fh.read()
        except (OSError, ValueError, RecursionError):
            return None
        return _output(header, body)

    def keep(self, output: CheckOutput) -> None:
        """Store ``output`` for the next check, if no input changed while this one ran."""
        if self.key is None or self.input_key() != self.key:
            return
        stdout, stderr = output.stdout.encode("utf-8", "surrogateescape"), output.stderr.encode("utf-8", "surrogateescape")
        # Compressed: a check's JSON repeats itself, and a twentieth of it is quicker to write and sync.
        body = zlib.compress(stdout + stderr, COMPRESSION)
        header = {
            "format": FORMAT,
            "key": self.key,
            "errors": output.errors,
            "warnings": output.warnings,
            "stdout": len(stdout),
            "stderr": len(stderr),
        }
        header["sha256"] = _digest(header, body)
        from handoutpress.files import atomic_write

        try:
            atomic_write(self.path, json.dumps(header).encode() + b"\n" + body)
        except OSError:
            pass  # a memo that cannot be written only costs time next run


def _output(header: dict, body: bytes) -> CheckOutput | None:
    """The output a memo file's header and body hold, or None when they do not agree."""
    sizes = [header.get(k) for k in ("stdout", "stderr", "errors", "warnings")]
    if not all(type(n) is int and n >= 0 for n in sizes):
        return None
    out, err, errors, warnings = (int(n or 0) for n in sizes)
    if header.get("sha256") != _digest(header, body):
        return None
    try:
        body = zlib.decompress(body)
    except zlib.error:
        return None
    if out + err != len(body):
        return None
    try:
        stdout = body[:out].decode("utf-8", "surrogateescape")
        stderr = body[out:].decode("utf-8", "surrogateescape")
    except UnicodeDecodeError:
        return None
    return CheckOutput(stdout, stderr, errors, warnings)


def _digest(header: dict, body: bytes) -> str:
    """sha256 of a memo's header (all but this digest) and its body: neither can be edited unseen."""
    fields = json.dumps({k: v for k, v in header.items() if k != "sha256"}, sort_keys=True)
    return hashlib.sha256(fields.encode() + b"\n" + body).hexdigest()


def _add_tree(digest, folder: Path, contents: bool) -> None:
    """Add every file under ``folder`` (names and states, or names and bytes) in a fixed order;
    a symbolic link anywhere makes the inputs unkeyable."""
    if folder.is_symlink():
        raise _Unkeyable(folder)
    if not folder.is_dir():
        digest.update(f"\0absent {folder}".encode())
        return
    digest.update(f"\0tree {folder}".encode())
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        if entry.is_symlink():
            raise _Unkeyable(entry.path)
        if entry.is_dir():
            if not (contents and entry.name == "__pycache__"):
                _add_tree(digest, Path(entry.path), contents)
        elif contents:
            data = Path(entry.path).read_bytes()
            digest.update(f"\0file {entry.name} {len(data)}\0".encode())
            digest.update(data)
        else:
            st = entry.stat()
            digest.update(f"\0file {entry.name} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}".encode())


def _add_entry_state(digest, path: Path) -> None:
    """Add one file's state, or its absence (a link makes the inputs unkeyable)."""
    if path.is_symlink():
        raise _Unkeyable(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        digest.update(f"\0absent {path}".encode())
        return
    digest.update(f"\0file {path} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}".encode())
