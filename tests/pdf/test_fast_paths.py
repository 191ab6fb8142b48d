"""The audit's fast paths say what the slow paths say: the regular-expression
scan of content streams, the one-object reading of object streams, the stamp
text decoded through ToUnicode maps; and the cheaper catalogue thumbnail still
looks like the page."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, IndirectObject, NameObject, StreamObject, read_object
from support import ROOT

from handoutpress.load.brand import load_brand
from handoutpress.pdf.reader import LazyReader, _simple_object
from handoutpress.verify import audit
from handoutpress.verify.audit import (
    _SCAN_TEXT,
    _SCAN_WALKED,
    _TEXT,
    _WALKED,
    _Decoded,
    _operands,
    _page_artifact_text,
    _scan,
    _squash,
    _String,
    _walk_page,
    audit_pdf,
    operations,
)


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(3)


def _plain(value):
    """Operands in a comparable form (strings by their bytes)."""
    if isinstance(value, _String):
        return ("string", value.value())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _full(data: bytes, chosen) -> list:
    wanted = set(chosen) | {b"INLINE IMAGE"}
    return [(op, _plain(operands)) for op, operands in operations(data) if op in wanted]


def _fast(data: bytes, scanner) -> list | None:
    found = _scan(data, scanner)
    if found is None:
        return None
    return [(op, _plain(_operands(args, op))) for op, args in found]


def _streams(data: bytes) -> list[bytes]:
    """Every page content stream and every form XObject's content in a PDF."""
    reader = PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        found.append(page.get_contents().get_data())
        for ref in page["/Resources"].get("/XObject", {}).values():
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Form":
                found.append(xobject.get_data())
    return found


def test_fast_scan_agrees_with_the_tokenizer_on_a_stamped_weasyprint_pdf(stamped):
    """On every content stream and form of a real stamped PDF the scan is taken and gives the tokenizer's operators and operands."""
    streams = _streams(stamped)
    assert len(streams) >= 6
    for data in streams:
        for scanner, chosen in ((_SCAN_WALKED, _WALKED), (_SCAN_TEXT, _TEXT)):
            fast = _fast(data, scanner)
            assert fast is not None, data[:200]
            assert fast == _full(data, chosen)


TRICKY = {
    # the scan must step over these exactly as the tokenizer does
    "hex string with spaces holding an operator": (b"/P <</MCID 0>> BDC BT <0 BDC> Tj ET EMC", True),
    "names that spell operators": (b"/BDC /EMC /Tj /a'b /Do BMC EMC", True),
    "words that only start like operators": (b"/Span <</MCID 1>> BDC 12Tj Tjx 'x EMC", True),
    "operator straight after a bracket": (b"[Tj ] TJ [<41>-300<42>]TJ<43>Tj", True),
    "booleans and null as operands": (b"/Artifact <</X true /Y null /Z false>> BDC EMC", True),
    "nested dictionaries and arrays": (b"/Span <</MCID 2 /A <</B [1 <</C 2>>] >> >> BDC [/X [1 2]] TJ EMC", True),
    "comments that mention operators": (b"% EMC BDC Tj\n/P <</MCID 3>> BDC % Do\nEMC", True),
    "numbers of every shape": (b"+1 -2. .5 -.5 1.2.3 BMC 4Do 5 Do", True),
    "no operator at all": (b"  1 2 /Name <00> [ ] ", True),
    "empty stream": (b"", True),
    # the scan gives up and the tokenizer decides
    "literal string holding EMC": (b"/P <</MCID 0>> BDC BT (x EMC) Tj ET EMC", False),
    "literal string inside a dictionary": (b"/Span <</MCID 0 /ActualText (EMC)>> BDC EMC", False),
    "inline image with operator bytes": (b"q BI /W 1 /H 1 /BPC 8 /CS /G ID EMC Tj EI Q /X Do", False),
    "stray closing delimiters": (b"/P BMC ) } > EMC", False),
    "unterminated hex string": (b"/P BMC <41 Tj EMC", False),
    "braces": (b"{ /X Do }", False),
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_fast_scan_on_hand_made_streams(name):
    """Each tricky stream is either scanned with the tokenizer's result, or left to the tokenizer, as expected."""
    data, scanned = TRICKY[name]
    for scanner, chosen in ((_SCAN_WALKED, _WALKED), (_SCAN_TEXT, _TEXT)):
        fast = _fast(data, scanner)
        if scanned:
            assert fast == _full(data, chosen)
        else:
            assert fast is None
    if scanned:
        assert _fast(data, _SCAN_WALKED) == _full(data, _WALKED)


def test_scan_names_operands_exactly():
    """A hex string holding 'BDC' stays one operand; the Do after a name that spells EMC gets its name."""
    data = b"/P <</MCID 7>> BDC <0 BDC> Tj EMC /EMC Do"
    assert _fast(data, _SCAN_WALKED) == [
        (b"BDC", ["/P", {"/MCID": 7.0}]),
        (b"Tj", [("string", b"\x0b\xdc")]),
        (b"EMC", []),
        (b"Do", ["/EMC"]),
    ]


def _canon(value):
    """An object as nested (type, value) pairs, references by number, so two readers' objects compare."""
    if isinstance(value, IndirectObject):
        return ("R", value.idnum, value.generation)
    if isinstance(value, dict):
        return (type(value).__name__, sorted((str(k), type(k).__name__, _canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (type(value).__name__, [_canon(v) for v in value])
    return (type(value).__name__, repr(value))


def test_one_object_reader_reads_what_pypdf_reads(stamped):
    """Every object, in an object stream or in the file, reads the same through the audit's reader as through pypdf."""
    ours, theirs = LazyReader(io.BytesIO(stamped)), PdfReader(io.BytesIO(stamped))
    numbers = sorted(theirs.xref_objStm)
    assert len(numbers) > 20
    in_file = sorted(n for generation in theirs.xref.values() for n in generation)
    assert len(in_file) > 10
    for number in numbers + in_file:
        mine, pypdfs = ours.get_object(number), theirs.get_object(number)
        assert _canon(mine) == _canon(pypdfs), number
        if isinstance(pypdfs, StreamObject):
            assert mine.get_data() == pypdfs.get_data()
    assert ours._object_streams and all(index is not None for index in ours._object_streams.values())
    built = 0
    for number in numbers:  # most are built by the one-expression reader, not pypdf
        data, first, offsets = ours._object_streams[theirs.xref_objStm[number][0]]
        simple = _simple_object(data, first + offsets[number], ours)
        if simple is not None:
            built += 1
            assert _canon(simple[0]) == _canon(theirs.get_object(number)), number
    assert built > len(numbers) // 2


SIMPLE = {
    b"<</Type /Font /W [1 [500 250.5 -.5 +3] 10 20 600] /FontDescriptor 12 0 R /X true /Y false /Z null>>": True,
    b"[1 0 R 2 0 R [] <<>>]": True,
    b"<</W [1 -2 +3.5 .25\n4] /K [1 2 0 R] /E [ ]>>": True,
    b"<</A [1.2.3]>>": False,
    b"<</A [1-2]>>": False,
    b"<</A 1>>trailing": True,
    b"<</Lang (en) /Registry (Adobe) /Empty () /Latin (caf\xe9)>>": True,
    b"<</Lang (e\\(n)>>": False,  # an escaped string
    b"<</Lang (a (nested) b)>>": False,
    b"<</Name /Art#69fact>>": False,  # a name with an escape
    b"<</A 1 /A 2>>": False,  # a repeated key: pypdf decides which one wins
    b"<</A 1 /B>>": False,
    b"<</A <0041>>>": False,  # a hex string
    b"[1 0 Rx]": False,
    b"[1 % comment\n 2]": False,
    b"[1.2.3]": False,
    b"12 0 R": False,  # not a dictionary or an array
    b"<</A [1 2>>": False,
    b"[1 2": False,
}


@pytest.mark.parametrize("raw", list(SIMPLE))
def test_one_expression_object_reader_on_hand_made_objects(raw, stamped):
    """Plain dictionaries and arrays are built exactly as pypdf builds them; anything else is left to pypdf."""
    reader = LazyReader(io.BytesIO(stamped))
    built = _simple_object(raw, 0, reader)
    if not SIMPLE[raw]:
        assert built is None
        return
    stream = io.BytesIO(raw)
    assert _canon(built[0]) == _canon(read_object(stream, reader))
    assert built[1] == stream.tell()  # it ends where pypdf stops reading


def test_object_missing_from_its_stream_index_is_left_to_pypdf(stamped):
    """An object the stream's header does not list is read by pypdf's own path, and still found."""
    reader = LazyReader(io.BytesIO(stamped))
    catalog_number = reader.trailer.raw_get("/Root").idnum
    assert catalog_number in reader.xref_objStm
    stream_number = reader.xref_objStm[catalog_number][0]
    reader._object_streams[stream_number] = reader._index(stream_number)
    del reader._object_streams[stream_number][2][catalog_number]
    assert reader.get_object(catalog_number)["/Type"] == "/Catalog"


def test_stamp_text_decoded_here_matches_pypdf(stamped):
    """On every page the stamp's text through ToUnicode (the band's form, then the page's own
    number in its artifact) equals pypdf's extraction of the artifacts, up to white space."""
    reader = LazyReader(io.BytesIO(stamped))
    decoded, read = _Decoded(), {}
    for number, page in enumerate(reader.pages, start=1):
        walk = _walk_page(page)
        assert walk.inline_artifact_text and walk.artifact_forms
        fast = _page_artifact_text(page, decoded)
        assert fast is not None
        assert _squash(fast) == _squash(audit._artifact_text(page, walk, read))
        assert f"Page {number} of 3" in fast and "988" in fast


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
    result = audit_pdf(data, "x.pdf", load_brand(ROOT / "brands" / "default", ROOT), ROOT / "labels")
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
    assert _page_artifact_text(reader.pages[0], _Decoded()) is None
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


def test_thumbnail_is_a_small_palette_png_that_looks_like_the_page(stamped):
    """The thumbnail is 240 px wide, 64 colours at most, and within a few levels of pdfium's full-colour render."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageStat

    from handoutpress.frontdesk.catalogue import thumbnail_png

    png = thumbnail_png(stamped)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 240 and image.mode == "P"
    assert len(image.getcolors(256)) <= 64
    document = pdfium.PdfDocument(stamped)
    page = document[0]
    full = page.render(scale=240 / page.get_width(), may_draw_forms=False).to_pil().convert("RGB")
    page.close()
    document.close()
    assert full.size == image.size
    difference = ImageStat.Stat(ImageChops.difference(full, image.convert("RGB"))).mean
    assert max(difference) < 4, difference
