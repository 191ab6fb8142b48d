"""The marked-content walk behind the artifact rule: what lies outside both
tags and artifacts, through nested forms, with operators inside strings and
inline images read as PDF syntax says."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    RectangleObject,
)
from support import ROOT

from handoutpress.load.brand import load_brand
from handoutpress.render.html import Labels
from handoutpress.verify.audit import audit_pdf
from handoutpress.verify.content import PageContent
from handoutpress.verify.walk import WALKED, walk_page


def _page_pdf(content: bytes, *, forms: dict[str, bytes] | None = None, inner: dict[str, bytes] | None = None) -> bytes:
    """A one-page PDF drawing ``content``; ``forms`` are form XObjects on the page, ``inner`` forms inside the first form."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    font_ref = writer._add_object(font)

    def form(data: bytes, children: dict | None):
        stream = DecodedStreamObject()
        stream.set_data(data)
        resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
        if children:
            resources[NameObject("/XObject")] = DictionaryObject(
                {NameObject(k): writer._add_object(form(v, None)) for k, v in children.items()}
            )
        stream.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): RectangleObject([0, 0, 200, 200]),
                NameObject("/Resources"): resources,
            }
        )
        return stream

    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})})
    if forms:
        resources[NameObject("/XObject")] = DictionaryObject(
            {NameObject(k): writer._add_object(form(v, inner if i == 0 else None)) for i, (k, v) in enumerate(forms.items())}
        )
    resources[NameObject("/Properties")] = DictionaryObject(
        {NameObject("/MC0"): DictionaryObject({NameObject("/MCID"): NumberObject(0)})}
    )
    page[NameObject("/Resources")] = resources
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def loose(data: bytes) -> list[str]:
    return walk_page(PageContent.read(PdfReader(io.BytesIO(data)).pages[0], WALKED)).loose


def test_walk_sees_only_real_text_outside_tags_and_artifacts():
    """Text in strings that mention EMC does not close the tag; text after the real EMC is loose and named."""
    content = (
        b"/P <</MCID 0>> BDC BT /F1 9 Tf (EMC) Tj (tagged \\) EMC) Tj ET EMC\n"
        b"/Artifact BMC BT /F1 9 Tf <45 4D43> Tj ET EMC\n"
        b"/Span /MC0 BDC BT /F1 9 Tf (named properties) Tj ET EMC\n"
        b"BT /F1 9 Tf [(lo) -5 (ose)] TJ () Tj ET"
    )
    assert loose(_page_pdf(content)) == ["text 'loose'"]


def test_walk_follows_nested_forms_and_inline_images():
    """A form drawn outside both, holding a form with loose text, is followed two levels down; an inline image counts."""
    content = b"/Outer Do BI /W 1 /H 1 /BPC 8 /CS /G ID \x00 EI /P <</MCID 0>> BDC /Outer Do EMC"
    forms = {"/Outer": b"q /Inner Do Q"}
    inner = {"/Inner": b"BT /F1 9 Tf (deep text) Tj ET /Artifact BMC BT /F1 9 Tf (skipped) Tj ET EMC"}
    assert loose(_page_pdf(content, forms=forms, inner=inner)) == ["text 'deep text'", "an inline image"]


def test_audit_names_the_loose_text_exactly():
    """The audit's artifact finding for hand-made content names the first loose text and counts the rest."""
    brand = load_brand(ROOT / "brands" / "default", ROOT)
    data = _page_pdf(b"BT /F1 9 Tf (Hello) Tj ( ) Tj ET")
    result = audit_pdf(data, "x.pdf", brand, Labels(ROOT / "labels"))
    messages = [f"{p.field}: {p.message}" for p in result.problems]
    assert "artifact: page 1: text 'Hello' is neither tagged nor an artifact (and 1 more)" in messages


def test_walk_reads_the_same_from_the_audit_shared_scan():
    """A page scanned once for the walk and the stamp text walks as it does scanned for the walk alone."""
    from support.pdf import stamped_document

    from handoutpress.verify.stamptext import PAGE_TEXT

    reader = PdfReader(io.BytesIO(stamped_document(2)))
    for page in reader.pages:
        alone, shared = walk_page(PageContent.read(page, WALKED)), walk_page(PageContent.read(page, WALKED | PAGE_TEXT))
        assert (alone.loose, alone.inline_artifact_text) == (shared.loose, shared.inline_artifact_text) == ([], True)
        assert [id(f) for f in alone.artifact_forms] == [id(f) for f in shared.artifact_forms] != []


def test_walk_names_loose_images_and_stops_at_a_form_that_draws_itself():
    """An image XObject drawn outside both is named; a form drawing itself is followed once, not forever."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    image = DecodedStreamObject()
    image.set_data(b"\x00")
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(1),
            NameObject("/Height"): NumberObject(1),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/ColorSpace"): NameObject("/DeviceGray"),
        }
    )
    form = DecodedStreamObject()
    form.set_data(b"/Self Do /Im0 Do")
    form_ref = writer._add_object(form)
    xobjects = DictionaryObject({NameObject("/Im0"): writer._add_object(image), NameObject("/Self"): form_ref})
    form.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): RectangleObject([0, 0, 200, 200]),
            NameObject("/Resources"): DictionaryObject({NameObject("/XObject"): xobjects}),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): xobjects})
    content = DecodedStreamObject()
    content.set_data(b"/Self Do")
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    assert loose(out.getvalue()) == ["image /Im0"]
