"""The stamp's text, decoded through its fonts' ToUnicode maps, says what
pypdf's extractor says; where the fast decoder cannot be sure, pypdf reads the
page and the finding is pypdf's."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject
from support import ROOT

from handoutpress.load.brand import load_brand
from handoutpress.pdf.reader import LazyReader
from handoutpress.render.html import Labels
from handoutpress.verify.audit import audit_pdf
from handoutpress.verify.content import PageContent, content_streams
from handoutpress.verify.stamptext import PAGE_TEXT, StampText, extracted_artifact_text
from handoutpress.verify.walk import WALKED, walk_page


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(3)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_stamp_text_decoded_here_matches_pypdf(stamped):
    """On every page the stamp's text through ToUnicode (the band's form, then the page's own
    number in its artifact) equals pypdf's extraction of the artifacts, up to white space."""
    reader = LazyReader(io.BytesIO(stamped))
    decoded, read = StampText(), {}
    for number, page in enumerate(reader.pages, start=1):
        content = PageContent.read(page, WALKED | PAGE_TEXT)
        walk = walk_page(content)
        assert walk.inline_artifact_text and walk.artifact_forms
        fast = decoded.page_artifact_text(content)
        assert fast is not None
        assert _squash(fast) == _squash(extracted_artifact_text(page, walk, read))
        assert f"Page {number} of 3" in fast and "988" in fast
        forms = decoded.forms_text(walk.artifact_forms)
        assert forms is not None and _squash(forms) in _squash(fast)


def _with_page_stamp(data: bytes, content: bytes, font: DictionaryObject | None) -> bytes:
    """The stamped PDF with page 1's number (drawn after the band, in the page's stamp stream) redrawn as ``content``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    page = writer.pages[0]
    stream = page["/Contents"][-1].get_object()
    old = stream.get_data()
    assert b"Page" not in old and b"/HPStamp Do\n" in old and old.endswith(b"Q\nEMC\n")
    stream.set_data(old[: old.index(b"/HPStamp Do\n") + len(b"/HPStamp Do\n")] + content + b"\nQ\nEMC\n")
    if font is not None:
        page[NameObject("/Resources")][NameObject("/Font")][NameObject("/H")] = font
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _audit(data: bytes) -> list[str]:
    result = audit_pdf(data, "x.pdf", load_brand(ROOT / "brands" / "default", ROOT), Labels(ROOT / "labels"))
    return [f"{p.field}: {p.message}" for p in result.problems]


def test_page_number_removed_is_found(stamped):
    """A page whose stamp draws no number: both decoders miss it, and the finding names page 1 only."""
    assert _audit(stamped) == []
    broken = _with_page_stamp(stamped, b"q Q", None)
    assert _audit(broken) == ["stamp: page 1: stamp incomplete (in the pagination artifact): missing page number"]


def test_text_the_fast_decoder_cannot_read_goes_to_pypdf(stamped):
    """Page 1's number drawn in Helvetica with a literal string (no ToUnicode): the fast decoder declines, pypdf reads it, no finding."""
    helvetica = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    redrawn = _with_page_stamp(stamped, b"BT /H 9 Tf 500 30 Td (Page 1 of 3) Tj ET", helvetica)
    reader = LazyReader(io.BytesIO(redrawn))
    assert StampText().page_artifact_text(PageContent.read(reader.pages[0], PAGE_TEXT)) is None
    assert _audit(redrawn) == ["fonts: font Helvetica is not embedded"]
    wrong = _with_page_stamp(stamped, b"BT /H 9 Tf 500 30 Td (Page 2 of 3) Tj ET", helvetica)
    assert "stamp: page 1: stamp incomplete (in the pagination artifact): missing page number" in _audit(wrong)


def _two_font_pdf() -> bytes:
    """Two pages whose resources both call their font /F1, a different unembedded font on each."""
    writer = PdfWriter()
    for base in ("/Helvetica", "/Times-Roman"):
        page = writer.add_blank_page(width=200, height=200)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject(base),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
        )
        stream = DecodedStreamObject()
        stream.set_data(b"/Artifact BMC BT /F1 9 Tf (x) Tj ET EMC")
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_fonts_looked_at_once_per_document_still_find_each_page_own_font():
    """Fonts are looked at once per document, yet a second page's different font under the same name is found."""
    messages = _audit(_two_font_pdf())
    assert "fonts: font Helvetica is not embedded" in messages
    assert "fonts: font Times-Roman is not embedded" in messages


def _with_streams(data: bytes, reorder) -> bytes:
    """The stamped PDF with page 1's content streams (a list of decoded bytes) replaced by ``reorder(streams)``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    page = writer.pages[0]
    streams = [ref.get_object().get_data() for ref in page["/Contents"]]
    refs = []
    for content in reorder(streams):
        stream = DecodedStreamObject()
        stream.set_data(content)
        refs.append(writer._add_object(stream))
    page[NameObject("/Contents")] = ArrayObject(refs)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_last_stream_alone_says_what_the_whole_page_says(stamped):
    """The stamp's text decoded from each page's last stream alone (the one the stamp appends) is
    the text the whole page draws in artifacts, so the audit may read that stream first."""
    reader = LazyReader(io.BytesIO(stamped))
    for number, page in enumerate(reader.pages, start=1):
        streams = content_streams(page)
        appended = PageContent.last_stream(page, PAGE_TEXT, streams)
        assert appended is not None
        alone = StampText().page_artifact_text(appended)
        whole = StampText().page_artifact_text(PageContent.read(page, WALKED | PAGE_TEXT))
        assert alone is not None and whole is not None
        assert _squash(alone) == _squash(whole) and f"Page {number} of 3" in alone


def test_stamp_not_in_the_last_stream_is_still_read(stamped):
    """A page whose stamp is drawn in an earlier stream (its last one draws nothing) still passes:
    the last stream is only where the audit looks first, never the only place."""
    moved = _with_streams(stamped, lambda streams: [*streams[:-1], streams[-1], b"q Q"])
    assert _audit(moved) == []
    first = _with_streams(stamped, lambda streams: [streams[-1], *streams[:-1]])
    assert _audit(first) == []


def test_last_stream_not_an_artifact_is_caught(stamped):
    """A stamp whose last stream draws the page number outside any artifact (a broken stamp): the
    number is missing from the artifacts and the text is loose, as the full reading says."""

    def untagged(streams: list[bytes]) -> list[bytes]:
        last = streams[-1]
        assert b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC" in last
        return [*streams[:-1], last.replace(b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC", b"/Span BMC", 1)]

    messages = _audit(_with_streams(stamped, untagged))
    assert "stamp: page 1: stamp incomplete (in the pagination artifact): missing disclaimer, 911, 988, review months, page number" in messages
    assert any(m.startswith("artifact: page 1: text ") for m in messages)


def test_last_stream_closing_what_it_did_not_open_goes_to_the_whole_page(stamped):
    """A last stream that closes a marked sequence opened before it cannot be read alone: the
    fast reading declines it and the whole page decides (here: all is well)."""
    split = _with_streams(
        stamped,
        lambda streams: [*streams[:-1], streams[-1].replace(b"EMC\n", b""), b"EMC\n"],
    )
    reader = LazyReader(io.BytesIO(split))
    page = reader.pages[0]
    assert StampText().page_artifact_text(PageContent.last_stream(page, PAGE_TEXT, content_streams(page))) is None
    assert _audit(split) == []
