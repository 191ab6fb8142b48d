"""A disk cache of the per-handout checks, so a rebuild re-checks only what changed.

The checks of one handout (`run.content_checks`: links, glossary terms,
reading grades, plain language, PEMAT-P subset) depend on nothing but

* the handout file: its shown path, language, id and source bytes (sha256);
* the glossary of its language (the file's bytes, or its absence);
* the project config as loaded (`config.ProjectConfig`, e.g. the target grade);
* the code: the package version, the source of every module the checks run,
  the word lists in ``handoutpress/data/``, the versions of the libraries that
  parse and split the text (pydantic, PyYAML, markdown-it-py) and Python's.

Review status and review findings depend on the day; they are cheap and are
worked out afresh on every run (`run.with_review`), so ``--today`` is not
part of any key and a new day re-checks nothing.

The file (``out/.cache/checks.json`` for a build) is JSON, never pickle: ``out/``
may be written by others. It holds one entry per handout path, each with the
key it was made for and a sha256 of its own text; an entry whose key, digest or
shape is not exactly as expected is ignored and checked again, and a file that
cannot be read is treated as empty. Entries of handouts whose file is gone are
dropped when the file is written, so it stays as large as the library.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

from handoutpress.checks.report import HandoutReport, finding_json
from handoutpress.errors import Problem
from handoutpress.load.config import ProjectConfig
from handoutpress.load.content import HandoutFile
from handoutpress.load.glossary import glossary_file
from handoutpress.version import __version__, distribution_version

CACHE_FILE = Path(".cache") / "checks.json"  # under the build's out/
LOAD_CACHE_FILE = Path(".cache") / "handouts.json"  # `load.content.LoadCache` of `generate.py check`
FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024  # a cache file larger than this is not read

# Every module of the package that `run.content_checks` and the glossary
# loader run (a test checks this list against what they import).
CHECK_MODULES = (
    "__init__",
    "version",
    "errors",
    "languages",
    "load",
    "load.codes",
    "load.config",
    "load.content",
    "load.glossary",
    "load.schema",
    "load.yamlsafe",
    "checks",
    "checks.cache",
    "checks.links",
    "checks.markdown",
    "checks.pemat",
    "checks.plainlanguage",
    "checks.prose",
    "checks.readability",
    "checks.reading",
    "checks.report",
    "checks.syllables",
    "checks.review",
    "checks.run",
)
# Libraries whose behaviour shapes a result: (module, distribution names as
# their .dist-info folders spell them, lower-cased).
LIBRARIES = (
    ("markdown_it", ("markdown_it_py",)),
    ("pydantic", ("pydantic", "pydantic_core")),
    ("yaml", ("pyyaml",)),
)
SEVERITIES = ("error", "warning", "note")
PACKAGE = Path(__file__).resolve().parents[1]


def environment_digest(config: ProjectConfig) -> str:
    """sha256 of everything but the handout and its glossary that a check result depends on."""
    digest = hashlib.sha256()
    digest.update(f"format {FORMAT}\0version {__version__}\0python {sys.version}\0".encode())
    config_text = json.dumps(dataclasses.asdict(config), sort_keys=True)
    digest.update(f"config {config_text}\0".encode())
    for name in CHECK_MODULES:
        _add_file(digest, f"module {name}", module_file(name))
    for path in sorted((PACKAGE / "data").glob("*")):
        _add_file(digest, f"data {path.name}", path)
    digest.update(f"libraries {library_versions()}\0".encode())
    return digest.hexdigest()


def module_file(name: str) -> Path:
    """The source file of ``handoutpress.<name>`` (a package's is its ``__init__.py``)."""
    path = PACKAGE.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _add_file(digest, label: str, path: Path) -> None:
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
        label += " (unreadable)"
    digest.update(f"{label} {len(data)}\0".encode())
    digest.update(data)


def library_versions() -> str:
    """The installed distributions of `LIBRARIES`, each by its .dist-info name (name and version):
    an upgrade of any of them re-checks everything."""
    return "; ".join(f"{module}: {','.join(distribution_version(d) for d in dists)}" for module, dists in LIBRARIES)


def glossary_state(root: Path, language: str) -> str | None:
    """The glossary file's sha256, "absent" when there is none, None when it cannot be read."""
    path = glossary_file(root, language)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None if path.is_symlink() else "absent"
    except OSError:
        return None


class CheckCache:
    """The cache file of one run: read once, looked up per handout, written once."""

    def __init__(self, path: Path, root: Path, env: str, entries: dict, glossaries: dict):
        self.path = path
        self.root = root
        self.env = env
        self.entries = entries  # shown path -> {"key", "result", "digest"}, as read
        self.glossaries = glossaries  # language -> {"state", "problems", "digest"}, as read
        self.states: dict[str, str | None] = {}
        self.changed = False

    @classmethod
    def open(cls, path: Path, root: Path, config: ProjectConfig) -> CheckCache:
        """The cache at ``path``; empty when it is missing, damaged, or made for other code or config."""
        env = environment_digest(config)
        data = _read_json(path)
        usable = (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and data.get("environment") == env
            and isinstance(data.get("handouts"), dict)
            and isinstance(data.get("glossaries"), dict)
        )
        cache = cls(path, root, env, data["handouts"] if usable else {}, data["glossaries"] if usable else {})
        cache.changed = not usable  # a missing, damaged or outdated file is replaced
        return cache

    # -- glossaries: the problems of loading them, reported once per language

    def _state(self, language: str) -> str | None:
        if language not in self.states:
            self.states[language] = glossary_state(self.root, language)
        return self.states[language]

    def glossary_problems(self, language: str) -> list[Problem] | None:
        """The problems loading this language's glossary gave last time, or None if unknown."""
        state = self._state(language)
        entry = self.glossaries.get(language)
        if state is None or not isinstance(entry, dict) or entry.get("state") != state:
            return None
        body = {"state": state, "problems": entry.get("problems")}
        if entry.get("digest") != _digest(body):
            return None
        return _problems(entry.get("problems"))

    def remember_glossary(self, language: str, problems: list[Problem]) -> None:
        state = self._state(language)
        if state is None:
            self.glossaries.pop(language, None)
        else:
            body = {"state": state, "problems": [finding_json(p) for p in problems]}
            self.glossaries[language] = {**body, "digest": _digest(body)}
        self.changed = True

    # -- handouts

    def key(self, item: HandoutFile) -> str | None:
        """What an entry for ``item`` must have been made for; None: do not cache it."""
        state = self._state(item.language)
        if state is None or not item.source_sha256:
            return None
        text = f"{item.path}\0{item.language}\0{item.id}\0{item.source_sha256}\0{state}"
        return hashlib.sha256(text.encode()).hexdigest()

    def lookup(self, item: HandoutFile) -> HandoutReport | None:
        """The `run.content_checks` result for ``item`` if the cache holds it whole, else None."""
        key = self.key(item)
        entry = self.entries.get(item.path)
        if key is None or not isinstance(entry, dict) or entry.get("key") != key:
            return None
        result = entry.get("result")
        if entry.get("digest") != _digest({"key": key, "result": result}):
            return None
        return _report(result, item)

    def store(self, item: HandoutFile, report: HandoutReport) -> None:
        key = self.key(item)
        if key is not None and not _unchanged_on_disk(item):
            key = None  # saved again while being checked: line numbers may come from the newer text
        if key is None:
            if self.entries.pop(item.path, None) is not None:
                self.changed = True
            return
        result = _report_json(report)
        self.entries[item.path] = {"key": key, "result": result, "digest": _digest({"key": key, "result": result})}
        self.changed = True

    def save(self, handouts: list[HandoutFile]) -> None:
        """Write the file if anything changed, keeping entries of handouts that still exist."""
        checked = {h.path for h in handouts}
        for path in list(self.entries):
            if path not in checked and not (self.root / path).is_file():
                del self.entries[path]
                self.changed = True
        for language in list(self.glossaries):
            if not isinstance(self.glossaries[language], dict):
                del self.glossaries[language]
                self.changed = True
        if not self.changed:
            return
        from handoutpress.files import atomic_write

        data = {"format": FORMAT, "environment": self.env, "glossaries": self.glossaries, "handouts": self.entries}
        # Key order is kept (never sorted): the check JSON prints the reports' keys in their order.
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            atomic_write(self.path, text.encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        self.changed = False


def _unchanged_on_disk(item: HandoutFile) -> bool:
    """Whether the handout's file still holds the bytes it was loaded from (the checks
    read it again for line numbers)."""
    try:
        return hashlib.sha256(item.source.read_bytes()).hexdigest() == item.source_sha256
    except OSError:
        return False


def _read_json(path: Path):
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return None


def _digest(body) -> str:
    """sha256 of ``body`` as JSON, key order included (an entry with its keys moved is edited)."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _problems(data) -> list[Problem] | None:
    """Problems back from `report.finding_json`; None when anything is not exactly that shape."""
    if not isinstance(data, list):
        return None
    out = []
    for d in data:
        if not isinstance(d, dict) or set(d) != {"file", "message", "line", "field", "severity"}:
            return None
        line = d["line"]
        if not isinstance(d["file"], str) or not isinstance(d["message"], str) or d["severity"] not in SEVERITIES:
            return None
        if not (line is None or (type(line) is int and line > 0)) or not (d["field"] is None or isinstance(d["field"], str)):
            return None
        out.append(Problem(d["file"], d["message"], line=line, field=d["field"], severity=d["severity"]))
    return out


_RESULT_KEYS = {"path", "id", "language", "kind", "reading", "plain_language", "glossary_terms", "pemat", "findings"}


def _report_json(report: HandoutReport) -> dict:
    return {
        "path": report.path,
        "id": report.id,
        "language": report.language,
        "kind": report.kind,
        "reading": report.reading,
        "plain_language": report.plain_language,
        "glossary_terms": report.glossary_terms,
        "pemat": report.pemat,
        "findings": [finding_json(p) for p in report.findings],
    }


def _report(data, item: HandoutFile) -> HandoutReport | None:
    """A `report.HandoutReport` back from `_report_json`, or None when its shape or its
    handout is not exactly what was asked for."""
    if not isinstance(data, dict) or set(data) != _RESULT_KEYS:
        return None
    if (data["path"], data["id"], data["language"], data["kind"]) != (item.path, item.id, item.language, item.content.kind):
        return None
    if not all(isinstance(data[k], dict) for k in ("reading", "plain_language", "pemat")):
        return None
    terms = data["glossary_terms"]
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        return None
    findings = _problems(data["findings"])
    if findings is None or any(p.file != item.path for p in findings):
        return None
    reading = data["reading"]
    if reading and not _reading_shape(reading):
        return None
    return HandoutReport(
        item.path,
        item.id,
        item.language,
        item.content.kind,
        "",
        reading=reading,
        plain_language=data["plain_language"],
        glossary_terms=terms,
        pemat=data["pemat"],
        findings=findings,
    )


def _reading_shape(reading: dict) -> bool:
    """The keys the summary, the table and the manifest read from a reading report."""
    need = {"sentences", "words", "grades", "target_formula", "target_grade_value", "smog_reliable", "parts"}
    return need <= set(reading) and isinstance(reading["grades"], dict) and isinstance(reading["parts"], list)
