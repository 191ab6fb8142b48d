"""Audit PDFs: is every page stamped, is the file tagged, titled, in a language,
with its fonts embedded? Used by `generate.py verify` and by the build.

Each rule returns findings naming the page, so an operations lead can prove
(or disprove) that every page handed out carries the disclaimer and crisis lines.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from .brand import Brand
from .errors import Problem
from .render import load_labels


@dataclass
class AuditResult:
    file: str
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def audit_pdf(data: bytes, shown: str, brand: Brand, labels_dir: Path) -> AuditResult:
    """Check one PDF's bytes against the stamp and accessibility rules."""
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
        result.problems.append(Problem(shown, f"not a readable PDF: {exc}", field="file"))
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

    base_language = language.split("-")[0] if language else "en"
    try:
        wording = brand.wording(base_language)
        labels = load_labels(labels_dir, base_language)
    except Exception:
        wording, labels = brand.wording("en"), load_labels(labels_dir, "en")
    disclaimer = _squash(wording.disclaimer_short)
    month = r"\S+(?: de)? \d{4}"
    reviewed_re = re.compile(re.escape(labels["reviewed"]).replace(re.escape("{date}"), month))
    next_re = re.compile(re.escape(labels["next_review"]).replace(re.escape("{date}"), month))

    unembedded: set[str] = set()
    for number, page in enumerate(pages, start=1):
        try:
            text = _squash(page.extract_text() or "")
        except Exception as exc:
            fail("stamp", f"text cannot be read: {exc}", number)
            continue
        missing = []
        if disclaimer not in text:
            missing.append("disclaimer")
        if "911" not in text:
            missing.append("911")
        if "988" not in text:
            missing.append("988")
        if not reviewed_re.search(text) or not next_re.search(text):
            missing.append("review months")
        if labels["page_of"].format(page=number, pages=len(pages)) not in text:
            missing.append(f"'{labels['page_of'].format(page=number, pages=len(pages))}'")
        if missing:
            fail("stamp", "stamp incomplete: missing " + ", ".join(missing), number)
        unembedded |= _unembedded_fonts(page.get("/Resources"))
    for name in sorted(unembedded):
        fail("fonts", f"font {name} is not embedded")
    return result


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
