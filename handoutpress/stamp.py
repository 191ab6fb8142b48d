"""Stage 4, stamp: the disclaimer, crisis lines, review months, page number and
edition go on every page, after typesetting, as a pagination artifact.

The stamp is typeset once per (brand, language, variant, page count, review
dates, edition, page size) by WeasyPrint from ``templates/stamp.html``: one
page per page of the document, ink only in the band that the variant's CSS
keeps free. Each stamp page becomes a form XObject; the document's page gets
a reference to it wrapped in ``/Artifact <</Type /Pagination>> BDC ... EMC``,
so screen readers skip it while every printed page carries it. This is the
lean path: no page merging, no content streams rewritten, the structure tree,
outline, links and metadata left exactly as WeasyPrint wrote them.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    RectangleObject,
)

from .brand import Brand
from .content import ReviewDate
from .errors import PdfError, Problem
from .render import Project, render_stamp_html
from .typeset import typeset
from .variants import Variant

STAMP_XOBJECT = NameObject("/HPStamp")
ARTIFACT_OPEN = b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"


@dataclass(frozen=True)
class StampSpec:
    """Everything that decides what a stamp looks like; also its cache key."""

    brand_sha256: str
    language: str
    variant: str
    pages: int
    reviewed: ReviewDate | None
    next_review: ReviewDate | None
    edition: str | None
    page_size: tuple[float, float] | None = None


_CACHE: OrderedDict[StampSpec, bytes] = OrderedDict()
_CACHE_SIZE = 64


def stamp_pdf(spec: StampSpec, *, brand: Brand, variant: Variant, project: Project) -> bytes:
    """The stamp as a PDF of ``spec.pages`` pages; prepared once per worker per spec."""
    if spec in _CACHE:
        _CACHE.move_to_end(spec)
        return _CACHE[spec]
    html = render_stamp_html(
        project=project,
        brand=brand,
        language=spec.language,
        variant=variant,
        pages=spec.pages,
        reviewed=spec.reviewed,
        next_review=spec.next_review,
        edition=spec.edition,
        page_size=spec.page_size,
    )
    pdf = typeset(
        html,
        base_url=project.root,
        allowed_roots=[project.styles, brand.folder],
        what="templates/stamp.html",
        tagged=False,
    )
    _CACHE[spec] = pdf
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return pdf


def apply_stamp(document: bytes, stamp: bytes, *, what: str) -> bytes:
    """Lay page i of ``stamp`` over page i of ``document`` as a pagination artifact."""
    try:
        writer = PdfWriter(io.BytesIO(document), incremental=True)
        stamp_pages = PdfReader(io.BytesIO(stamp)).pages
    except Exception as exc:  # pypdf raises several kinds for a broken file
        raise PdfError(Problem(what, f"cannot read PDF to stamp: {exc}")) from None
    if len(stamp_pages) != len(writer.pages):
        raise PdfError(Problem(what, f"stamp has {len(stamp_pages)} pages for a document of {len(writer.pages)}"))

    # Shared by every page: save the graphics state before the page's own
    # content, restore it after, then draw the stamp as an artifact.
    before = writer._add_object(_stream(b"q\n"))
    after = writer._add_object(_stream(b"Q\n" + ARTIFACT_OPEN + b"q " + STAMP_XOBJECT.encode() + b" Do Q\nEMC\n"))

    for page, stamp_page in zip(writer.pages, stamp_pages, strict=True):
        form = _form_xobject(stamp_page, writer)
        resources = page.get("/Resources")
        resources = DictionaryObject(resources.get_object() if resources is not None else {})
        xobjects = resources.get("/XObject")
        xobjects = DictionaryObject(xobjects.get_object() if xobjects is not None else {})
        xobjects[STAMP_XOBJECT] = writer._add_object(form)
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources
        contents = page.get("/Contents")
        parts = ArrayObject([before])
        if contents is not None:
            raw = page.raw_get("/Contents")
            if isinstance(raw.get_object(), ArrayObject):
                parts.extend(raw.get_object())
            else:
                parts.append(raw)
        parts.append(after)
        page[NameObject("/Contents")] = parts

    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _stream(data: bytes):
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode()


def _form_xobject(stamp_page, writer: PdfWriter):
    form = DecodedStreamObject()
    form.set_data(stamp_page.get_contents().get_data())
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): RectangleObject(stamp_page.mediabox),
            NameObject("/Resources"): stamp_page["/Resources"].clone(writer),
        }
    )
    return form.flate_encode()
