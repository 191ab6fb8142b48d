"""Audit PDFs: is every page stamped, is the file tagged, titled, in a language,
with its fonts embedded, and is every piece of text either tagged content or
an artifact? Used by `generate.py verify` and by the build before it publishes.

Each finding names its rule and page, so an operations lead can prove (or
disprove) that every page handed out carries the disclaimer and crisis lines:

* ``file``: the PDF cannot be read, or is encrypted.
* ``lang``, ``tagged``, ``title``: catalog ``/Lang``, ``/MarkInfo`` and
  ``/StructTreeRoot``, a title shown in the window title bar.
* ``stamp``: the text drawn inside pagination artifacts on the page holds the
  short disclaimer, 911, 988, both review months and "Page i of n".
* ``review``: the stamp's next review month is not past (only with ``today``).
* ``fonts``: every font program is embedded.
* ``artifact``: no text or image lies outside both the structure tree (a
  marked-content sequence with an MCID) and an artifact; the PDF/UA rule
  "neither artifact nor tagged" (`handoutpress.verify.walk`).

The build audits every PDF before publishing it, so the audit is kept cheap
(about 4% of WeasyPrint's time for the same document) by three fast paths, each
of which hands anything it is not sure of to the slow, general one:

* `handoutpress.pdf.reader.LazyReader` parses only the objects the rules
  touch; pypdf reads anything unusual.
* `handoutpress.pdf.syntax.operations` scans content streams for the operators
  that matter inside the regex engine; a literal string, a stray delimiter or
  an inline image sends a stream to the full tokenizer.
* the stamp's text is decoded through its fonts' ToUnicode maps
  (`handoutpress.verify.stamptext`), first from the page's last content
  stream alone, where a stamp appends its band and page number, so the
  page's own content is scanned only for what the walk needs; when that text
  lacks anything, the whole page's artifacts are decoded, and then pypdf's
  extractor reads the page again, so every stamp finding is pypdf's.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pypdf.generic import DictionaryObject

from handoutpress.errors import HandoutPressError, Problem
from handoutpress.load.brand import Brand
from handoutpress.pdf.reader import LazyReader, ReaderPrefix
from handoutpress.render.html import Labels
from handoutpress.verify.content import PageContent, content_streams
from handoutpress.verify.stamptext import PAGE_TEXT, StampText, extracted_artifact_text
from handoutpress.verify.walk import WALKED, Walk, walk_page

RULES = ("file", "lang", "tagged", "title", "stamp", "review", "fonts", "artifact")
_PAGE_READ = WALKED | PAGE_TEXT  # a page scanned once for the walk and the stamp text (when its last stream is not enough)


@dataclass
class AuditResult:
    file: str
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """The one line `verify` prints for this file: every finding, same ones on several pages merged."""
        if self.ok:
            return f"{self.file}: ok ({self.pages} pages stamped, tagged, fonts embedded)"
        grouped: dict[tuple[str, str], list[str]] = {}
        for p in self.problems:
            match = re.match(r"page (\d+): (.*)", p.message)
            page, message = (match[1], match[2]) if match else ("", p.message)
            grouped.setdefault((p.field or "", message), []).append(page)
        parts = []
        for (rule, message), pages in grouped.items():
            pages = [x for x in pages if x]
            where = (f"page {pages[0]}: " if len(pages) == 1 else f"pages {', '.join(pages)}: ") if pages else ""
            parts.append(f"{rule}: {where}{message}")
        return f"{self.file}: " + "; ".join(parts)


def _fail(result: AuditResult, rule: str, message: str, page: int | None = None) -> None:
    where = f"page {page}: " if page else ""
    result.problems.append(Problem(result.file, where + message, field=rule))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def audit_pdf(
    data: bytes, shown: str, brand: Brand, labels: Labels, today: date | None = None, *, prefix: ReaderPrefix | None = None
) -> AuditResult:
    """Check one PDF's bytes against the stamp and accessibility rules.

    ``today`` turns on the review rule; the build leaves it off, because an
    overdue handout is still built (and listed as overdue). ``prefix``: what
    the stamp parsed of the document it updated (`stamp.apply.StampRecord`),
    so that only the update's cross-reference is parsed here; every object the
    rules look at is still read from ``data``.
    """
    result = AuditResult(shown)
    opened = _open(data, result, prefix)
    if opened is None:
        return result
    reader, catalog = opened
    language = _check_catalog(reader, catalog, result)
    stamp = _StampRule.for_language(language, brand, labels, result)
    if stamp is None:
        return result
    _check_pages(reader.pages, stamp, result, today)
    return result


def _open(data: bytes, result: AuditResult, prefix: ReaderPrefix | None) -> tuple[LazyReader, Any] | None:
    """The reader and the catalog, or None with the ``file`` finding recorded."""
    try:
        reader = LazyReader(io.BytesIO(data), prefix)
        if reader.is_encrypted:
            _fail(result, "file", "PDF is encrypted")
            return None
        result.pages = len(reader.pages)
        catalog = reader.trailer["/Root"].get_object()
    except Exception as exc:
        _fail(result, "file", f"not a readable PDF: {type(exc).__name__}: {exc}")
        return None
    return reader, catalog


def _check_catalog(reader: LazyReader, catalog: Any, result: AuditResult) -> str:
    """The ``lang``, ``tagged`` and ``title`` rules; returns the document's language ("" if none)."""
    language = str(catalog.get("/Lang", "") or "")
    if not language:
        _fail(result, "lang", "no document language (/Lang)")
    mark_info = catalog.get("/MarkInfo")
    if not (isinstance(mark_info, DictionaryObject) and mark_info.get("/Marked")):
        _fail(result, "tagged", "not marked as a tagged PDF (/MarkInfo /Marked)")
    if "/StructTreeRoot" not in catalog:
        _fail(result, "tagged", "no structure tree (/StructTreeRoot)")
    metadata = reader.metadata
    title = metadata.get("/Title") if metadata is not None else None
    if not title:
        _fail(result, "title", "no document title")
    prefs = catalog.get("/ViewerPreferences")
    if not (isinstance(prefs, DictionaryObject) and prefs.get("/DisplayDocTitle")):
        _fail(result, "title", "title is not shown in the window title bar (/DisplayDocTitle)")
    return language


@dataclass(frozen=True)
class _StampRule:
    """What a page's stamp must say, in the document's language."""

    language: str  # the labels' language: es-MX if labels/es-MX.yaml exists, else es
    page_of: str  # "Page {page} of {pages}", in that language
    disclaimer: str
    reviewed: re.Pattern[str]
    next_review: re.Pattern[str]

    @classmethod
    def for_language(cls, language: str, brand: Brand, labels: Labels, result: AuditResult) -> _StampRule | None:
        """The rule in the PDF's own language; a language without labels or brand
        wording is a ``lang`` finding (and None), never a silent check against English."""
        base_language = _stamp_language(language, labels) if language else "en"
        try:
            wording = brand.wording(base_language)
            words = labels.of(base_language)
        except HandoutPressError as exc:
            for problem in exc.problems:
                _fail(result, "lang", f"cannot check the stamp in language {base_language!r}: {problem}")
            return None
        month = r"(\S+(?: de)? \d{4})"

        def pattern(label: str) -> re.Pattern[str]:
            return re.compile(re.escape(label).replace(re.escape("{date}"), month))

        return cls(
            base_language,
            words["page_of"],
            _squash(wording.disclaimer_short),
            pattern(words["reviewed"]),
            pattern(words["next_review"]),
        )

    def missing(self, text: str, page_of: str) -> tuple[list[str], re.Match[str] | None]:
        """What the stamp text lacks, and the next-review match."""
        text = _squash(text)
        missing = [what for what, shown in (("disclaimer", self.disclaimer), ("911", "911"), ("988", "988")) if shown not in text]
        next_match = self.next_review.search(text)
        if not self.reviewed.search(text) or not next_match:
            missing.append("review months")
        if page_of not in text:
            missing.append("page number")
        return missing, next_match


@dataclass
class _DocumentState:
    """What the page rules share across one document's pages."""

    stamp_text: StampText = field(default_factory=StampText)  # the fast decoder's forms and fonts
    forms_read: dict[int, tuple[Any, str]] = field(default_factory=dict)  # pypdf's text of each stamp form
    fonts_seen: set[int] = field(default_factory=set)
    unembedded: set[str] = field(default_factory=set)
    overdue_pages: list[int] = field(default_factory=list)
    due: date | None = None


def _check_pages(pages: Sequence[Any], stamp: _StampRule, result: AuditResult, today: date | None) -> None:
    """The ``stamp``, ``artifact``, ``review`` and ``fonts`` rules, page by page."""
    state = _DocumentState()
    for number, page in enumerate(pages, start=1):
        page_of = stamp.page_of.format(page=number, pages=len(pages))
        try:
            streams = content_streams(page)
            appended = PageContent.last_stream(page, PAGE_TEXT, streams)
            content = PageContent.read(page, WALKED if appended is not None else _PAGE_READ, streams)
            walk = walk_page(content)
            missing, next_match = _stamp_findings(page, _PageRead(content, streams, appended), walk, stamp, page_of, state)
        except Exception as exc:
            _fail(result, "stamp", f"content cannot be read: {type(exc).__name__}: {exc}", number)
            continue
        if missing:
            _fail(result, "stamp", "stamp incomplete (in the pagination artifact): missing " + ", ".join(missing), number)
        loose = walk.loose
        if loose:
            more = f" (and {len(loose) - 1} more)" if len(loose) > 1 else ""
            _fail(result, "artifact", f"{loose[0]} is neither tagged nor an artifact{more}", number)
        if today is not None and next_match:
            state.due = _due_date(next_match.group(1), stamp.language)
            if state.due is not None and today > state.due:
                state.overdue_pages.append(number)
        state.unembedded |= _unembedded_fonts(page.get("/Resources"), state.fonts_seen)
    if state.overdue_pages and state.due is not None and today is not None:
        overdue = state.overdue_pages
        where = "every page" if len(overdue) == len(pages) else "pages " + ", ".join(map(str, overdue))
        _fail(
            result,
            "review",
            f"review is overdue: next review was due by {state.due.isoformat()} ({where}; today is {today.isoformat()})",
        )
    for name in sorted(state.unembedded):
        _fail(result, "fonts", f"font {name} is not embedded")


@dataclass(frozen=True)
class _PageRead:
    """One page's content as `_check_pages` read it: scanned for the walk (and for the stamp
    text too when ``appended`` is None), its decoded streams, and its last stream alone."""

    content: PageContent
    streams: list[bytes]
    appended: PageContent | None  # the last stream, scanned for the stamp text; None: ``content`` has it


def _stamp_findings(
    page: Any, read: _PageRead, walk: Walk, stamp: _StampRule, page_of: str, state: _DocumentState
) -> tuple[list[str], re.Match[str] | None]:
    """What the page's stamp lacks, and its next-review match.

    The text decoded here through the fonts' ToUnicode maps is enough when it
    holds everything: first what the page's last stream shows in artifacts
    (the stamp's band and page number), which the page shows too; then what
    the whole page shows there. Otherwise pypdf's extractor has the last word,
    so a finding is never the fast decoder's.
    """
    if read.appended is not None:
        fast = state.stamp_text.page_artifact_text(read.appended)
        if fast is not None:
            missing, next_match = stamp.missing(fast, page_of)
            if not missing:
                return missing, next_match
    if walk.inline_artifact_text:
        content = read.content if read.appended is None else PageContent.read(page, _PAGE_READ, read.streams)
        fast = state.stamp_text.page_artifact_text(content)
    else:
        fast = state.stamp_text.forms_text(walk.artifact_forms)
    if fast is not None:
        missing, next_match = stamp.missing(fast, page_of)
        if not missing:
            return missing, next_match
    return stamp.missing(extracted_artifact_text(page, walk, state.forms_read), page_of)


def _stamp_language(language: str, labels: Labels) -> str:
    """``es-MX`` uses labels/es-MX.yaml if there is one, else labels/es.yaml."""
    if labels.has(language):
        return language
    return language.split("-")[0]


def _due_date(text: str, language: str) -> date | None:
    """ "February 2026" / "febrero de 2026" -> the month's last day."""
    from babel.dates import get_month_names

    year_match = re.search(r"\d{4}", text)
    if year_match is None:
        return None
    year = int(year_match[0])
    word = text.split()[0].lower()
    for context in ("format", "stand-alone"):
        for number, name in get_month_names("wide", context=context, locale=language).items():
            if name.lower() == word:
                return date(year, number, calendar.monthrange(year, number)[1])
    return None


def _unembedded_fonts(resources: Any, seen: set[int] | None = None) -> set[str]:
    """Names of the fonts without a font program, in these resources and their forms'.

    ``seen`` (ids of resource dictionaries, font dictionaries, fonts and forms
    already looked at) may be shared by every page of a document, so the fonts
    and forms the pages share are looked at once.
    """
    seen = seen if seen is not None else set()
    out: set[str] = set()
    if resources is None:
        return out
    resources = resources.get_object()
    if id(resources) in seen:
        return out
    seen.add(id(resources))
    fonts = resources.get("/Font")
    fonts = fonts.get_object() if fonts is not None else None
    if isinstance(fonts, DictionaryObject) and id(fonts) not in seen:
        seen.add(id(fonts))
        for font in fonts.values():
            font = font.get_object()
            if id(font) not in seen:
                seen.add(id(font))
                if not _embedded(font):
                    out.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if id(xobject) not in seen and xobject.get("/Subtype") == "/Form":
            seen.add(id(xobject))
            out |= _unembedded_fonts(xobject.get("/Resources"), seen)
    return out


def _embedded(font: Any) -> bool:
    """Does every descriptor of ``font`` carry a font program? (Type3 fonts draw their own glyphs.)"""
    descriptors = []
    if font.get("/Subtype") == "/Type0":
        for descendant in font.get("/DescendantFonts", []):
            descriptors.append(descendant.get_object().get("/FontDescriptor"))
    elif font.get("/Subtype") != "/Type3":
        descriptors.append(font.get("/FontDescriptor"))
    for descriptor in descriptors:
        descriptor = descriptor.get_object() if descriptor is not None else None
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            return False
    return True
