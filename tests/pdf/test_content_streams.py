"""The fast paths: the audit's own content-stream tokenizer and the stamp's
hand-written incremental update. They must say exactly what the slow paths said."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    RectangleObject,
    TextStringObject,
)
from support import ROOT

from handoutpress.load.brand import load_brand
from handoutpress.stamp.apply import apply_stamp
from handoutpress.verify.audit import _walk_page, audit_pdf, operations


def ops(data: bytes) -> list[tuple[bytes, list]]:
    return [(op, list(operands)) for op, operands in operations(data)]


def names(data: bytes) -> list[bytes]:
    return [op for op, _ in operations(data)]


def test_operators_inside_literal_strings_are_not_operators():
    """'EMC', 'BDC' and 'Do' inside a string are text, not marked-content or XObject operators."""
    data = b"/P <</MCID 0>> BDC BT (EMC BDC /X Do) Tj ET EMC"
    assert names(data) == [b"BDC", b"BT", b"Tj", b"ET", b"EMC"]
    tj = ops(data)[2][1]
    assert tj[0].value() == b"EMC BDC /X Do"


def test_escaped_and_nested_parentheses_stay_in_one_string():
    r"""``\)``, ``\(``, ``\\`` and balanced ``( )`` inside a string do not end it; octal escapes decode."""
    data = rb"BT (a\) EMC \( b (nested (deep) EMC) \\) Tj (\101\102C\
D) Tj ET"
    result = ops(data)
    assert [op for op, _ in result] == [b"BT", b"Tj", b"Tj", b"ET"]
    assert result[1][1][0].value() == b"a) EMC ( b (nested (deep) EMC) \\"
    assert result[2][1][0].value() == b"ABCD"


def test_hex_strings_dicts_arrays_and_comments():
    """Hex strings (with spaces, odd length), dictionaries, arrays and comments are operands, not operators."""
    data = b"% EMC BDC in a comment Tj\n/Span <</MCID 12 /ActualText <FEFF 0041>>> BDC [<48 65> -20 <6C6C6F> 3.5 <7>] TJ EMC"
    result = ops(data)
    assert [op for op, _ in result] == [b"BDC", b"TJ", b"EMC"]
    tag, props = result[0][1]
    assert tag == "/Span" and props["/MCID"] == 12.0 and props["/ActualText"].value() == b"\xfe\xff\x00\x41"
    array = result[1][1][0]
    assert [item.value() for item in array if not isinstance(item, float)] == [b"He", b"llo", b"\x70"]
    assert array[1] == -20.0 and array[3] == 3.5


def test_inline_image_data_is_skipped():
    """Binary inline image data holding 'EMC', 'Tj' and ')' does not leak operators; the image is one operation."""
    data = b"q BI /W 4 /H 1 /BPC 8 /CS /G /F [/AHx] ID \x00EMC)Tj\xffEIx (x) Tj\n EI Q BT (after) Tj ET"
    assert names(data) == [b"q", b"INLINE IMAGE", b"Q", b"BT", b"Tj", b"ET"]
    assert ops(data)[4][1][0].value() == b"after"


def test_names_with_hex_escapes_decode():
    """``/Art#69fact`` is the name ``/Artifact``, as PDF name syntax says."""
    result = ops(b"/Art#69fact BMC EMC")
    assert result[0] == (b"BMC", ["/Artifact"])


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
    return _walk_page(PdfReader(io.BytesIO(data)).pages[0]).loose


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
    """The audit's artifact finding for hand-made content reads as before the tokenizer."""
    brand = load_brand(ROOT / "brands" / "default", ROOT)
    data = _page_pdf(b"BT /F1 9 Tf (Hello) Tj ( ) Tj ET")
    result = audit_pdf(data, "x.pdf", brand, ROOT / "labels")
    messages = [f"{p.field}: {p.message}" for p in result.problems]
    assert "artifact: page 1: text 'Hello' is neither tagged nor an artifact (and 1 more)" in messages


@pytest.mark.parametrize("content", [b"BT (unterminated Tj ET", b"<< /A [1 2 BDC", b"\x00\x01 EMC EMC Q"])
def test_malformed_content_does_not_raise(content):
    """Broken content (unterminated string, unbalanced dict, stray bytes) is tokenized to the end without an exception."""
    list(operations(content))


# ---------------------------------------------------------------------------
# The stamp's incremental update


@pytest.fixture(scope="module")
def weasy_document() -> bytes:
    from support.pdf import tagged_document

    return tagged_document(3)


def _stamped(document: bytes, **options) -> bytes:
    from support.pdf import stamp_for

    return apply_stamp(document, stamp_for(document), what="test", **options)


def test_update_appends_to_the_original_bytes(weasy_document):
    """The stamped file is the original, byte for byte, plus one update that readers accept strictly."""
    stamped = _stamped(weasy_document)
    assert stamped.startswith(weasy_document)
    assert stamped == _stamped(weasy_document)  # deterministic
    tail = stamped[len(weasy_document) :]
    assert tail.count(b"startxref") == 1 and b"/Type /XRef" in tail and b"/Prev " in tail
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    original = PdfReader(io.BytesIO(weasy_document))
    assert reader.trailer.get("/ID") == original.trailer.get("/ID")
    assert reader.trailer.raw_get("/Root").idnum == original.trailer.raw_get("/Root").idnum
    assert reader.metadata == original.metadata
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    for number, page in enumerate(reader.pages, start=1):
        assert "/HPStamp" in page["/Resources"]["/XObject"]  # the band, one form for every page
        own = page["/Contents"][-1].get_object().get_data()  # the page's number, in its own content
        shown = re.search(rb"T[jJ]\b", own)
        assert own.count(b"/Artifact") == 1 and own.index(b"/HPStamp Do") < shown.start() < own.index(b"EMC")
        assert f"Page {number} of 3" in page.extract_text()


def _rewritten(document: bytes, *, broken_startxref: bool = False) -> bytes:
    """The document rewritten by pypdf with a classic cross-reference table (optionally pointing nowhere)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert b"\nxref\n" in data
    if broken_startxref:
        at = data.rindex(b"startxref")
        data = data[:at] + b"startxref\n12\n%%EOF\n"
    return data


def test_classic_xref_table_gets_a_table_update(weasy_document):
    """An original with an xref table is updated with a table whose trailer carries /Prev, /Size and /Root."""
    classic = _rewritten(weasy_document)
    stamped = _stamped(classic)
    assert stamped.startswith(classic)
    tail = stamped[len(classic) :]
    assert b"\nxref\n" in tail and b"trailer" in tail and b"/Type /XRef" not in tail
    prev = int(classic[classic.rindex(b"startxref") + 9 :].split()[0])
    assert f"/Prev {prev}".encode() in tail
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    assert int(reader.trailer["/Size"]) > int(PdfReader(io.BytesIO(classic)).trailer["/Size"])
    assert [f"Page {n} of 3" in p.extract_text() for n, p in enumerate(reader.pages, 1)] == [True] * 3


def test_broken_startxref_is_repaired_before_the_update(weasy_document):
    """A startxref that points nowhere: the file is rewritten once, then stamped; the result reads strictly."""
    stamped = _stamped(_rewritten(weasy_document, broken_startxref=True))
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    assert len(reader.pages) == 3 and "Page 3 of 3" in reader.pages[2].extract_text()


def test_finish_changes_to_the_catalog_are_written(weasy_document):
    """A catalog change made by ``finish`` lands in the update; without a change the catalog is not rewritten."""

    def finish(update):
        update._root_object[NameObject("/Lang")] = TextStringObject("es")

    root = PdfReader(io.BytesIO(weasy_document)).trailer.raw_get("/Root").idnum
    changed = _stamped(weasy_document, finish=finish)
    assert str(PdfReader(io.BytesIO(changed)).trailer["/Root"]["/Lang"]) == "es"
    assert root in _updated(changed, weasy_document)
    unchanged = _stamped(weasy_document, finish=lambda update: None)
    assert root not in _updated(unchanged, weasy_document)


def _updated(stamped: bytes, original: bytes) -> set[int]:
    """The objects the update's cross-reference stream lists (written anew, in its object stream or not)."""
    index = re.search(rb"/Type\s*/XRef\s*/Index\s*\[([\d\s]*)\]", stamped[len(original) :])
    numbers = [int(n) for n in index[1].split()]
    return {first + k for first, count in zip(numbers[::2], numbers[1::2], strict=True) for k in range(count)}
