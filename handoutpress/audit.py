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
  "neither artifact nor tagged". Form XObjects are followed: a form drawn
  inside an artifact or a tagged sequence belongs to it, and a form drawn
  outside both must mark its own content.
"""

from __future__ import annotations

import calendar
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from .brand import Brand
from .errors import HandoutPressError, Problem
from .render import load_labels

TEXT_OPERATORS = {b"Tj", b"TJ", b"'", b'"'}
MAX_FORM_DEPTH = 12
RULES = ("file", "lang", "tagged", "title", "stamp", "review", "fonts", "artifact")


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


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def audit_pdf(data: bytes, shown: str, brand: Brand, labels_dir: Path, today: date | None = None) -> AuditResult:
    """Check one PDF's bytes against the stamp and accessibility rules.

    ``today`` turns on the review rule; the build leaves it off, because an
    overdue handout is still built (and listed as overdue).
    """
    result = AuditResult(shown)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            result.problems.append(Problem(shown, "PDF is encrypted", field="file"))
            return result
        pages = reader.pages
        result.pages = len(pages)
        catalog = reader.trailer["/Root"].get_object()
    except Exception as exc:
        result.problems.append(Problem(shown, f"not a readable PDF: {type(exc).__name__}: {exc}", field="file"))
        return result

    def fail(rule: str, message: str, page: int | None = None) -> None:
        where = f"page {page}: " if page else ""
        result.problems.append(Problem(shown, where + message, field=rule))

    language = str(catalog.get("/Lang", "") or "")
    if not language:
        fail("lang", "no document language (/Lang)")
    mark_info = catalog.get("/MarkInfo")
    if not (isinstance(mark_info, DictionaryObject) and mark_info.get("/Marked")):
        fail("tagged", "not marked as a tagged PDF (/MarkInfo /Marked)")
    if "/StructTreeRoot" not in catalog:
        fail("tagged", "no structure tree (/StructTreeRoot)")
    title = (reader.metadata or {}).get("/Title")
    if not title:
        fail("title", "no document title")
    prefs = catalog.get("/ViewerPreferences")
    if not (isinstance(prefs, DictionaryObject) and prefs.get("/DisplayDocTitle")):
        fail("title", "title is not shown in the window title bar (/DisplayDocTitle)")

    # The stamp is checked in the PDF's own language; a language without labels
    # or brand wording is a finding, never a silent check against English.
    base_language = _stamp_language(language, labels_dir) if language else "en"
    try:
        wording = brand.wording(base_language)
        labels = load_labels(labels_dir, base_language)
    except HandoutPressError as exc:
        for problem in exc.problems:
            fail("lang", f"cannot check the stamp in language {base_language!r}: {problem}")
        return result
    disclaimer = _squash(wording.disclaimer_short)
    month = r"(\S+(?: de)? \d{4})"
    reviewed_re = re.compile(re.escape(labels["reviewed"]).replace(re.escape("{date}"), month))
    next_re = re.compile(re.escape(labels["next_review"]).replace(re.escape("{date}"), month))

    unembedded: set[str] = set()
    overdue_pages: list[int] = []
    due: date | None = None
    for number, page in enumerate(pages, start=1):
        try:
            walk = _walk_page(page)
            stamp_text = _squash(_artifact_text(page, walk))
            loose = walk.loose
        except Exception as exc:
            fail("stamp", f"content cannot be read: {type(exc).__name__}: {exc}", number)
            continue
        missing = []
        if disclaimer not in stamp_text:
            missing.append("disclaimer")
        if "911" not in stamp_text:
            missing.append("911")
        if "988" not in stamp_text:
            missing.append("988")
        next_match = next_re.search(stamp_text)
        if not reviewed_re.search(stamp_text) or not next_match:
            missing.append("review months")
        page_of = labels["page_of"].format(page=number, pages=len(pages))
        if page_of not in stamp_text:
            missing.append("page number")
        if missing:
            fail("stamp", "stamp incomplete (in the pagination artifact): missing " + ", ".join(missing), number)
        if loose:
            fail(
                "artifact",
                f"{loose[0]} is neither tagged nor an artifact" + (f" (and {len(loose) - 1} more)" if len(loose) > 1 else ""),
                number,
            )
        if today is not None and next_match:
            due = _due_date(next_match.group(1), base_language)
            if due is not None and today > due:
                overdue_pages.append(number)
        unembedded |= _unembedded_fonts(page.get("/Resources"))
    if overdue_pages and due is not None:
        where = "every page" if len(overdue_pages) == len(pages) else "pages " + ", ".join(map(str, overdue_pages))
        fail("review", f"review is overdue: next review was due by {due.isoformat()} ({where}; today is {today.isoformat()})")
    for name in sorted(unembedded):
        fail("fonts", f"font {name} is not embedded")
    return result


def _stamp_language(language: str, labels_dir: Path) -> str:
    """``es-MX`` uses labels/es-MX.yaml if there is one, else labels/es.yaml."""
    if (labels_dir / f"{language}.yaml").is_file():
        return language
    return language.split("-")[0]


def _due_date(text: str, language: str) -> date | None:
    """ "February 2026" / "febrero de 2026" -> the month's last day."""
    from babel.dates import get_month_names

    year = int(re.search(r"\d{4}", text)[0])
    word = text.split()[0].lower()
    for context in ("format", "stand-alone"):
        for number, name in get_month_names("wide", context=context, locale=language).items():
            if name.lower() == word:
                return date(year, number, calendar.monthrange(year, number)[1])
    return None


# ---------------------------------------------------------------------------
# Walking content streams


def _artifact_text(page, walk: _Walk) -> str:
    """The text a page draws inside artifacts, in drawing order.

    Fast path: the artifacts only draw forms (our stamp), so only those small
    forms are read for text. Text shown directly inside an artifact sends the
    whole page through pypdf's extractor, keeping what falls in artifacts.
    """
    if not walk.inline_artifact_text:
        parts = []
        for form in walk.artifact_forms:
            holder = PageObject.create_blank_page(width=1, height=1)
            holder[NameObject("/Resources")] = form.get("/Resources") or DictionaryObject()
            holder.replace_contents(form)
            parts.append(holder.extract_text())
        return " ".join(parts)
    depth: list[bool] = []  # one entry per open marked-content sequence: is it an artifact?
    found: list[str] = []

    def before(operator, operands, cm, tm):
        if operator in (b"BDC", b"BMC"):
            depth.append(bool(operands) and operands[0] == "/Artifact")
        elif operator == b"EMC" and depth:
            depth.pop()

    def text(chunk, cm, tm, font, size):
        if any(depth):
            found.append(chunk)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return " ".join(found)


@dataclass
class _Walk:
    loose: list[str] = field(default_factory=list)  # drawn outside both tags and artifacts
    artifact_forms: list = field(default_factory=list)  # forms drawn inside artifacts (the stamp)
    inline_artifact_text: bool = False


def _walk_page(page) -> _Walk:
    """One pass over the page's content: what is loose, what the artifacts draw."""
    walk = _Walk()
    contents = page.get_contents()
    if contents is not None:
        _walk(ContentStream(contents, page.pdf), page.pdf, page.get("/Resources"), walk, set(), 0, False)
    return walk


def _walk(stream: ContentStream, pdf, resources, walk: _Walk, forms: set[int], depth: int, in_artifact: bool) -> None:
    resources = resources.get_object() if resources is not None else DictionaryObject()
    stack: list[str] = []  # per open sequence: "artifact", "tagged" or "other"
    for operands, operator in stream.operations:
        if operator in (b"BDC", b"BMC"):
            stack.append(_kind(operands, resources, operator))
        elif operator == b"EMC":
            if stack:
                stack.pop()
        elif operator in TEXT_OPERATORS or operator == b"INLINE IMAGE" or operator == b"Do":
            artifact = in_artifact or "artifact" in stack
            if artifact:
                if operator == b"Do":
                    form = _form(operands, resources)
                    if form is not None:
                        walk.artifact_forms.append(form)
                elif operator in TEXT_OPERATORS:
                    walk.inline_artifact_text = True
                continue
            if "tagged" in stack:
                continue
            if operator == b"Do":
                _walk_xobject(operands, pdf, resources, walk, forms, depth)
            elif operator == b"INLINE IMAGE":
                walk.loose.append("an inline image")
            elif _shows_ink(operands, operator):
                walk.loose.append(f"text {_sample(operands, operator)}")


def _form(operands, resources):
    xobjects = (resources.get("/XObject") or DictionaryObject()).get_object()
    if not operands or operands[0] not in xobjects:
        return None
    xobject = xobjects[operands[0]].get_object()
    return xobject if xobject.get("/Subtype") == "/Form" else None


def _kind(operands, resources, operator) -> str:
    if operands and operands[0] == "/Artifact":
        return "artifact"
    if operator == b"BDC" and len(operands) > 1:
        props = operands[1]
        if isinstance(props, NameObject):  # a named property list in /Properties
            props = ((resources.get("/Properties") or DictionaryObject()).get_object()).get(props)
        props = props.get_object() if props is not None else None
        if isinstance(props, DictionaryObject) and "/MCID" in props:
            return "tagged"
    return "other"


def _walk_xobject(operands, pdf, resources, walk: _Walk, forms, depth) -> None:
    xobjects = (resources.get("/XObject") or DictionaryObject()).get_object()
    ref = xobjects.raw_get(operands[0]) if operands and operands[0] in xobjects else None
    if ref is None:
        return
    xobject = ref.get_object()
    subtype = xobject.get("/Subtype")
    if subtype == "/Image":
        walk.loose.append(f"image {operands[0]}")
        return
    if subtype != "/Form":
        return
    key = getattr(ref, "idnum", id(xobject))
    if key in forms or depth >= MAX_FORM_DEPTH:
        return
    forms.add(key)
    try:
        _walk(ContentStream(xobject, pdf), pdf, xobject.get("/Resources") or resources, walk, forms, depth + 1, False)
    finally:
        forms.discard(key)


def _shows_ink(operands, operator) -> bool:
    items = operands[0] if operator == b"TJ" and operands else operands[-1:]
    return any(isinstance(item, (str, bytes)) and len(item) > 0 for item in items)


def _sample(operands, operator) -> str:
    items = operands[0] if operator == b"TJ" and operands else operands[-1:]
    raw = b"".join(
        getattr(i, "original_bytes", b"") or (i.encode("latin-1", "replace") if isinstance(i, str) else bytes(i))
        for i in items
        if isinstance(i, (str, bytes))
    )
    printable = raw.decode("latin-1") if raw.isascii() and raw.decode("latin-1").isprintable() else f"<{raw[:8].hex()}…>"
    return repr(printable[:30])


def _unembedded_fonts(resources, seen: set | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    out: set[str] = set()
    if resources is None:
        return out
    resources = resources.get_object()
    if id(resources) in seen:
        return out
    seen.add(id(resources))
    for font in (resources.get("/Font") or {}).values():
        font = font.get_object()
        descriptors = []
        if font.get("/Subtype") == "/Type0":
            for descendant in font.get("/DescendantFonts", []):
                descriptors.append(descendant.get_object().get("/FontDescriptor"))
        elif font.get("/Subtype") != "/Type3":
            descriptors.append(font.get("/FontDescriptor"))
        for descriptor in descriptors:
            descriptor = descriptor.get_object() if descriptor is not None else None
            if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                out.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            out |= _unembedded_fonts(xobject.get("/Resources"), seen)
    return out
