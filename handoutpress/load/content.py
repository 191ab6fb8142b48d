"""Stage 1, load: handout YAML files become validated, frozen models.

The schema is declarative (pydantic, ``extra="forbid"``, see `schema`) and every
error it raises is translated into one line an editor can act on::

    handouts/en/x.yaml:14: review.next_review: expected YYYY-MM or YYYY-MM-DD, got '2026-13'

`load_library` reads every file first and reports every problem of every file
together, so a batch never writes anything until all of its content is known.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from handoutpress.errors import ContentError, Problem
from handoutpress.languages import LANGUAGE_RE
from handoutpress.load import codes as code_systems
from handoutpress.load.codes import CodeSet
from handoutpress.load.schema import FieldError, StrictModel, Text, did_you_mean, show_value, translate_errors
from handoutpress.load.yamlsafe import YamlDocument, YamlProblems, field_name, read_yaml

# ---------------------------------------------------------------------------
# Field types

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
IMAGE_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Link schemes that must never reach a PDF reader, whatever Markdown does with them.
_BAD_LINK_RE = re.compile(r"(?:\]\(\s*<?|<|href\s*=\s*[\"']?)\s*(javascript|vbscript|file|data):", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class ReviewDate:
    """A review date as editors write it: a month, or a day."""

    year: int
    month: int
    day: int | None = None

    @classmethod
    def parse(cls, value: Any) -> ReviewDate:
        if isinstance(value, ReviewDate):
            return value
        if isinstance(value, str) and (m := _DATE_RE.match(value.strip())):
            year, month = int(m[1]), int(m[2])
            day = int(m[3]) if m[3] else None
            try:
                date(year, month, day or 1)
            except ValueError:
                pass
            else:
                return cls(year, month, day)
        raise ValueError(f"expected YYYY-MM or YYYY-MM-DD, got {show_value(value)}")

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, self.day or 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" + (f"-{self.day:02d}" if self.day else "")


def _cell(value: Any) -> Any:
    # Editors write numbers in tables without quotes; YAML makes them ints.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


Cell = Annotated[str, BeforeValidator(_cell), StringConstraints(strip_whitespace=True)]
ReviewDateField = Annotated[ReviewDate, BeforeValidator(ReviewDate.parse)]


class _Model(StrictModel):
    # Review dates are our own dataclass, not a pydantic type.
    model_config = ConfigDict(arbitrary_types_allowed=True)


# ---------------------------------------------------------------------------
# The content contract (PRODUCT.md, "Content contract")


class Review(_Model):
    reviewed: ReviewDateField
    next_review: ReviewDateField
    reviewer: Text | None = None
    author: Text | None = None

    @model_validator(mode="after")
    def _next_after_reviewed(self) -> Review:
        if self.next_review.first_day <= self.reviewed.first_day:
            raise FieldError(
                ("next_review",),
                f"must be after review.reviewed ({self.reviewed}), got {self.next_review}",
            )
        return self


class Table(_Model):
    caption: Text | None = None
    columns: Annotated[list[Text], Field(min_length=1)]
    rows: Annotated[list[list[Cell]], Field(min_length=1)]

    @model_validator(mode="after")
    def _rows_match_columns(self) -> Table:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise FieldError(
                    ("rows", i),
                    f"has {len(row)} cell{'s' if len(row) != 1 else ''}, expected {len(self.columns)} (one per column)",
                )
        return self


class Callout(_Model):
    tone: Literal["info", "warning", "tip"] = "info"
    text: Text


class Image(_Model):
    src: Text
    alt: Text

    @field_validator("src")
    @classmethod
    def _inside_assets(cls, src: str) -> str:
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("//"):
            raise ValueError(f"must be a file inside assets/, not a URL ({src!r})")
        parts = Path(src).parts
        if src.startswith("/") or ".." in parts or not parts or parts[0] != "assets" or len(parts) < 2:
            raise ValueError(f"must be a file inside assets/, got {src!r}")
        if not src.lower().endswith(IMAGE_SUFFIXES):
            raise ValueError(f"must be an image ({', '.join(IMAGE_SUFFIXES)}), got {src!r}")
        return src


class SubSection(_Model):
    heading: Text
    body: Text | None = None
    table: Table | None = None
    callout: Callout | None = None
    image: Image | None = None

    @model_validator(mode="after")
    def _has_content(self):
        if not any((self.body, self.table, self.callout, self.image, getattr(self, "sections", None))):
            raise ValueError("a section needs at least one of body, table, callout, image or sections")
        return self


class Section(SubSection):
    sections: list[SubSection] = []


class FaqItem(_Model):
    question: Text
    answer: Text


class Reference(_Model):
    title: Text
    url: Text

    @field_validator("url")
    @classmethod
    def _https(cls, url: str) -> str:
        if not re.match(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/[^\s<>\"]*)?$", url):
            raise ValueError(f"expected an https:// web address, got {url!r}")
        return url


_FINGERPRINT_KEY_RE = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*$")
_EDITION_RE = re.compile(r"^\d{4}\.\d{2}-[0-9a-f]{6}$")


class Translation(_Model):
    """Which edition of which source a translation was made from (see translations.py)."""

    source: Text  # the source's language folder, e.g. en
    source_edition: Text  # the source's edition when translated, e.g. 2025.02-1a2b3c
    translated: ReviewDateField
    translator: Text | None = None
    source_fingerprint: Annotated[dict[str, str], Field(min_length=1)]

    @field_validator("source")
    @classmethod
    def _language(cls, value: str) -> str:
        if not LANGUAGE_RE.match(value):
            raise ValueError(f"expected a language folder name such as en, got {value!r}")
        return value

    @field_validator("source_edition")
    @classmethod
    def _edition(cls, value: str) -> str:
        if not _EDITION_RE.match(value):
            raise ValueError(f"expected an edition such as 2025.02-1a2b3c, got {value!r}")
        return value

    @field_validator("source_fingerprint")
    @classmethod
    def _fingerprint(cls, value: dict[str, str]) -> dict[str, str]:
        for key, digest in value.items():
            if not _FINGERPRINT_KEY_RE.match(key) or not re.match(r"^[0-9a-f]{8}$", digest):
                raise ValueError(
                    f"entry {key!r}: {digest!r} is not a fingerprint (write it with `generate.py translation PATH --write`)"
                )
        return value


_CodeText = BeforeValidator(code_systems.code_text)
Icd10cmCode = Annotated[str, _CodeText, AfterValidator(code_systems.check_icd10cm)]
SnomedCode = Annotated[str, _CodeText, AfterValidator(code_systems.check_snomed)]
RxnormCode = Annotated[str, _CodeText, AfterValidator(code_systems.check_rxnorm)]
LoincCode = Annotated[str, _CodeText, AfterValidator(code_systems.check_loinc)]


class Codes(_Model):
    """Clinical codes by system (`load.codes`): what an EHR may select this handout by."""

    icd10cm: list[Icd10cmCode] = []
    snomed: list[SnomedCode] = []
    rxnorm: list[RxnormCode] = []
    loinc: list[LoincCode] = []


class Handout(_Model):
    title: Text
    subtitle: Text | None = None
    kind: Literal["handout", "faq"] = "handout"
    topics: list[Text] = []
    review: Review
    key_takeaways: list[Text] = []
    sections: list[Section] = []
    faq: list[FaqItem] = []
    references: list[Reference] = []
    related: list[Annotated[str, StringConstraints(pattern=ID_RE.pattern)]] = []
    translation: Translation | None = None  # only in a translation
    codes: Codes | None = None  # not in a translation: it inherits its source's

    @model_validator(mode="after")
    def _kind_needs(self) -> Handout:
        if self.translation is not None and self.codes is not None:
            raise FieldError(
                ("codes",), f"a translation inherits its source's codes (handouts/{self.translation.source}/); remove them here"
            )
        if self.kind == "handout" and not self.sections:
            raise FieldError(("sections",), "required for kind: handout (at least one section)")
        if self.kind == "faq" and not self.faq:
            raise FieldError(("faq",), "required for kind: faq (at least one question)")
        return self


# ---------------------------------------------------------------------------
# Loaded files


@dataclass(frozen=True)
class HandoutFile:
    """One validated handout file and what the later stages need to know of it."""

    id: str
    language: str
    path: str  # as shown to people, relative to the project
    source: Path
    content: Handout
    source_sha256: str
    lines: dict = field(repr=False, compare=False, default_factory=dict)
    codes: CodeSet = field(compare=False, default_factory=CodeSet)  # its own, or its source's for a translation

    @property
    def edition(self) -> str:
        """A short, stable name for this text of the handout: review month and content hash."""
        r = self.content.review.reviewed
        return f"{r.year}.{r.month:02d}-{self.content_sha256[:6]}"

    @property
    def content_sha256(self) -> str:
        # Codes select a handout; they are not its text, so they leave the edition (and every PDF) alone.
        canon = json.dumps(
            self.content.model_dump(mode="json", exclude={"codes"}), sort_keys=True, ensure_ascii=False, default=str
        )
        return hashlib.sha256(canon.encode()).hexdigest()

    def line_of(self, *path: str | int) -> int | None:
        return YamlDocument(None, self.lines).line_of(tuple(path))


def display_path(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load_handout(path: Path, root: Path) -> HandoutFile:
    """Load and validate one handout file; raise `ContentError` with every problem."""
    shown = display_path(path, root)
    problems = _name_problems(path, shown)
    try:
        doc = read_yaml(path, shown)
    except YamlProblems as exc:
        raise ContentError(problems + exc.problems) from None
    return handout_from(doc, path, shown, root, problems)


def _name_problems(path: Path, shown: str) -> list[Problem]:
    problems: list[Problem] = []
    if not ID_RE.match(path.stem):
        problems.append(
            Problem(shown, f"file name must be a handout id of lower-case letters, digits and hyphens, got {path.stem!r}")
        )
    if not LANGUAGE_RE.match(path.parent.name):
        problems.append(Problem(shown, f"must sit in a language folder such as handouts/en/, not in {path.parent.name!r}/"))
    return problems


def handout_from(doc: YamlDocument, path: Path, shown: str, root: Path, problems: list[Problem]) -> HandoutFile:
    """The handout of a parsed file ``doc``, or `ContentError` with ``problems`` and its own."""
    if not isinstance(doc.data, dict):
        raise ContentError(
            problems + [Problem(shown, f"expected a mapping of fields at the top, got {show_value(doc.data)}", line=1)]
        )
    content: Handout | None = None
    try:
        content = Handout.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(translate_errors(exc, doc, shown, Handout))
    else:
        problems.extend(_check_files_and_links(content, doc, shown, root))
    if problems or content is None:
        raise ContentError(problems)
    return HandoutFile(
        id=path.stem,
        language=path.parent.name,
        path=shown,
        source=path,
        content=content,
        source_sha256=doc.sha256,  # of the very bytes that were parsed
        lines=doc.lines,
        codes=CodeSet.of(content.codes.model_dump()) if content.codes else CodeSet(),
    )


def find_handout_files(paths: Iterable[Path], root: Path) -> list[Path]:
    """Expand PATH arguments (files or folders) into handout YAML files, sorted."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file()))
        else:
            found.append(p)
    seen: set[Path] = set()
    unique = []
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def load_library(paths: Iterable[Path], root: Path, cache: LoadCache | None = None) -> tuple[list[HandoutFile], list[Problem]]:
    """Load every handout under ``paths``; return the good ones and every problem. With a `LoadCache`,
    unchanged files are not parsed again, the rest are remembered in it (the caller saves it)."""
    handouts: list[HandoutFile] = []
    problems: list[Problem] = []
    for path in find_handout_files(paths, root):
        if not path.exists():
            problems.append(Problem(display_path(path, root), "no such file or folder"))
            continue
        try:
            handouts.append(cache.load(path, root) if cache is not None else load_handout(path, root))
        except ContentError as exc:
            problems.extend(exc.problems)
    problems.extend(check_related(handouts))
    return inherit_codes(handouts, root), problems


def inherit_codes(handouts: list[HandoutFile], root: Path) -> list[HandoutFile]:
    """``handouts`` with each translation given its source's codes.

    The source comes from ``handouts`` when it was loaded with them, else from its
    file; a source that is missing or does not load gives none (its own problems
    are reported where it is loaded, the missing source by the translation checks).
    """
    by_key = {(h.language, h.id): h for h in handouts}
    out = []
    for h in handouts:
        translation = h.content.translation
        if translation is None:
            out.append(h)
            continue
        source = by_key.get((translation.source, h.id))
        if source is None:
            path = h.source.parent.parent / translation.source / h.source.name
            try:
                source = load_handout(path, root) if path.is_file() else None
            except ContentError:
                source = None
        out.append(replace(h, codes=source.codes) if source is not None else h)
    return out


def check_related(handouts: list[HandoutFile]) -> list[Problem]:
    """Problems with ``related`` ids that name no handout of the same language."""
    known = {(h.language, h.id) for h in handouts}
    out = []
    for h in handouts:
        for i, rid in enumerate(h.content.related):
            # A build of one file may name a handout it did not load; the file on disk counts.
            if (h.language, rid) not in known and not (h.source.parent / f"{rid}.yaml").is_file():
                hint = did_you_mean(rid, [i for lang, i in known if lang == h.language])
                out.append(
                    Problem(
                        h.path,
                        f"no handout {rid!r} in handouts/{h.language}/{hint}",
                        line=h.line_of("related", i),
                        field=f"related[{i}]",
                    )
                )
    return out


def _markdown_fields(content: Handout) -> Iterable[tuple[tuple, str]]:
    yield ("title",), content.title
    if content.subtitle:
        yield ("subtitle",), content.subtitle
    for i, t in enumerate(content.key_takeaways):
        yield ("key_takeaways", i), t
    for i, s in enumerate(content.sections):
        yield from _section_fields(("sections", i), s)
        for j, sub in enumerate(s.sections):
            yield from _section_fields(("sections", i, "sections", j), sub)
    for i, q in enumerate(content.faq):
        yield ("faq", i, "question"), q.question
        yield ("faq", i, "answer"), q.answer


def _section_fields(path: tuple, s: SubSection) -> Iterable[tuple[tuple, str]]:
    if s.body:
        yield path + ("body",), s.body
    if s.callout:
        yield path + ("callout", "text"), s.callout.text


def _check_files_and_links(content: Handout, doc: YamlDocument, shown: str, root: Path) -> list[Problem]:
    problems = []
    for path, text in _markdown_fields(content):
        if ":" in text and (m := _BAD_LINK_RE.search(text)):  # every bad link names a scheme
            problems.append(
                Problem(
                    shown,
                    f"{m[1].lower()}: links are not allowed; link to an https:// address",
                    line=doc.line_of(path),
                    field=field_name(path),
                )
            )
    images: list[tuple[tuple, str]] = []
    for i, s in enumerate(content.sections):
        if s.image:
            images.append((("sections", i, "image", "src"), s.image.src))
        for j, sub in enumerate(s.sections):
            if sub.image:
                images.append((("sections", i, "sections", j, "image", "src"), sub.image.src))
    assets = (root / "assets").resolve() if images else root
    for path, src in images:
        target = (root / src).resolve()
        if not target.is_relative_to(assets):
            problems.append(
                Problem(shown, f"must be a file inside assets/, got {src!r}", line=doc.line_of(path), field=field_name(path))
            )
        elif not target.is_file():
            problems.append(Problem(shown, f"image not found: {src}", line=doc.line_of(path), field=field_name(path)))
    return problems


def _file_state(path: Path) -> list[int] | None:
    """What says a file is unchanged: size, mtime_ns, ctime_ns and inode (None: unreadable)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _is_file(entry: object) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("source"), str) and Path(entry["source"]).is_file()


def load_environment() -> str:
    """sha256 of what a loaded handout depends on besides its file: this module's code and the
    modules it runs, the package version, and the pydantic, PyYAML and Python versions."""
    from handoutpress.version import __version__, distribution_version

    digest = hashlib.sha256(f"version {__version__}\0python {sys.version}\0".encode())
    for name in ("pydantic", "pydantic_core", "pyyaml"):
        digest.update(f"{distribution_version(name)}\0".encode())
    here = Path(__file__).resolve().parent
    for module in ("content", "schema", "yamlsafe", "codes", "__init__", "../errors", "../languages"):
        digest.update((here / f"{module}.py").read_bytes())
    return digest.hexdigest()


class LoadCache:
    """Handout files as parsed, in a JSON file (never pickle), each with its file's `_file_state`:
    an unchanged file is not parsed again, but its plain data (kept only when JSON gives it back
    exactly) goes through the same validation and checks of files and links as a fresh load. An
    entry of another shape, or made by other code, is ignored; an unreadable file is treated as empty."""

    FORMAT = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = load_environment()
        self.entries: dict[str, dict] = {}
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            data = None
        usable = isinstance(data, dict) and data.get("format") == self.FORMAT and data.get("environment") == self.env
        if usable and isinstance(data["handouts"] if "handouts" in data else None, dict):
            self.entries = data["handouts"]
        self.changed = not self.entries

    def load(self, path: Path, root: Path) -> HandoutFile:
        """`load_handout`, with the parsing of an unchanged file taken from the cache."""
        shown = display_path(path, root)
        problems = _name_problems(path, shown)
        before = _file_state(path)
        doc = self._lookup(path, shown, before) if before is not None else None
        if doc is None:
            self.entries.pop(shown, None)
            self.changed = True
            try:
                doc = read_yaml(path, shown)
            except YamlProblems as exc:
                raise ContentError(problems + exc.problems) from None
            text = json.dumps(doc.data, ensure_ascii=False, separators=(",", ":"))
            if before is not None and _file_state(path) == before and json.loads(text) == doc.data:
                lines = [[list(k), v] for k, v in doc.lines.items()]
                self.entries[shown] = {
                    "state": before,
                    "source": str(path.resolve()),
                    "sha256": doc.sha256,
                    "data": text,
                    "lines": lines,
                }
        return handout_from(doc, path, shown, root, problems)

    def _lookup(self, path: Path, shown: str, state: list[int]) -> YamlDocument | None:
        entry = self.entries.get(shown)
        if not isinstance(entry, dict) or entry.get("state") != state or entry.get("source") != str(path.resolve()):
            return None
        try:
            lines = {tuple(k): v for k, v in entry["lines"]}
            data, sha256 = json.loads(entry["data"]), entry["sha256"]
        except (KeyError, TypeError, ValueError, RecursionError):
            return None
        ok = isinstance(sha256, str) and all(isinstance(v, int) for v in lines.values())
        return YamlDocument(data, lines, sha256) if ok else None

    def save(self, handouts: Iterable[HandoutFile]) -> None:
        """Write the file if anything changed, dropping entries of files that are gone."""
        keep = {h.path for h in handouts}
        for shown in [s for s, e in self.entries.items() if s not in keep and not _is_file(e)]:
            del self.entries[shown]
            self.changed = True
        if not self.changed:
            return
        from handoutpress.files import atomic_write

        data = {"format": self.FORMAT, "environment": self.env, "handouts": self.entries}
        try:
            atomic_write(self.path, (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        self.changed = False
