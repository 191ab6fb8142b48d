"""Factories for the PDFs the verify and stamp tests feed in: a small tagged
document stamped the real way, and deliberately broken ones.

The test process is one worker: `TYPESETTER` and `KITS` keep its fonts, images,
stylesheets and stamp kits between tests, as a worker's session does between jobs."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from handoutpress.load.brand import load_brand
from handoutpress.load.content import ReviewDate
from handoutpress.load.project import Project
from handoutpress.render.html import Renderer
from handoutpress.render.variants import VARIANTS
from handoutpress.stamp import apply as stamp_module
from handoutpress.stamp.apply import apply_stamp
from handoutpress.stamp.kit import StampKits, StampSpec
from handoutpress.typeset.session import TypesetSession
from support import ROOT

REVIEWED, NEXT_REVIEW = ReviewDate(2025, 2), ReviewDate(2026, 2)

TYPESETTER = TypesetSession()
KITS = StampKits(TYPESETTER)


def brand():
    return load_brand(ROOT / "brands" / "default", ROOT)


def tagged_document(pages: int = 2, *, size: str = "letter", lang: str = "en") -> bytes:
    """A small tagged (PDF/UA-1) document of ``pages`` pages, not stamped."""
    body = "".join(f'<h2>Part {i}</h2><p style="break-after: page">Text of part {i}.</p>' for i in range(1, pages))
    html = (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Test handout</title>'
        f'<style>@page {{ size: {size}; margin: 1in 1in 1.3in 1in }} html {{ font-family: "Open Sans" }}</style></head>'
        f"<body><h1>Test handout</h1>{body}<p>Last page.</p></body></html>"
    )
    return TYPESETTER.typeset(html, base_url=ROOT, allowed_roots=[ROOT / "styles"], what="test")


def stamp_for(document: bytes, *, page_size=None):
    """The kit the build would use for an English standard handout (no edition)."""
    spec = StampSpec(brand().sha256, "en", "standard", REVIEWED, NEXT_REVIEW, False, page_size)
    return KITS.kit(spec, brand=brand(), variant=VARIANTS["standard"], renderer=Renderer(Project(ROOT)))


def stamped_document(pages: int = 2) -> bytes:
    """A tagged document stamped exactly as the build stamps it."""
    document = tagged_document(pages)
    return apply_stamp(document, stamp_for(document), what="test")


def stamp_not_artifact(pages: int = 2) -> bytes:
    """The stamp drawn inside a plain /Span sequence instead of a pagination artifact."""
    document = tagged_document(pages)
    saved = stamp_module.ARTIFACT_OPEN
    stamp_module.ARTIFACT_OPEN = b"/Span BMC\n"
    try:
        return apply_stamp(document, stamp_for(document), what="test")
    finally:
        stamp_module.ARTIFACT_OPEN = saved


def without_lang(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    del writer.root_object[NameObject("/Lang")]
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_standard_font_page(data: bytes) -> bytes:
    """Adds a page drawing text in Helvetica, a standard-14 font that is never embedded."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET")
    page.replace_contents(content.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
