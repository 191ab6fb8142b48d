"""ToUnicode CMaps: one decoder for codespace ranges, bfchar, both bfrange forms,
ligatures (one code, several characters) and characters beyond the BMP
(surrogate pairs), checked by hand and against pypdf's own extraction."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from handoutpress.pdf.tounicode import parse_to_unicode, read_to_unicode, to_unicode

TWO_BYTE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
3 beginbfchar
<0003> <0020>
<0010> <00660069>
<0011> <D83DDE00>
endbfchar
2 beginbfrange
<0020> <0022> <0041>
<0030> <0032> [<0078> <00660066> <D83DDE01>]
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def test_two_byte_codes_bfchar_ligature_and_surrogate_pair():
    """Two-byte codes: a space, a ligature glyph reading 'fi', and U+1F600 written as D83D DE00."""
    cmap = parse_to_unicode(TWO_BYTE, 2)
    assert cmap.code_length == 2
    assert cmap.decode(b"\x00\x03") == " "
    assert cmap.decode(b"\x00\x10") == "fi"
    assert cmap.decode(b"\x00\x11") == "\U0001f600"
    assert cmap.get(0x10) == "fi" and cmap.get(0x11) == "\U0001f600"


def test_bfrange_counts_up_and_array_form_gives_one_target_per_code():
    """<0020> <0022> <0041> is A, B, C; the array form maps each code to its own target, ligatures and all."""
    cmap = parse_to_unicode(TWO_BYTE, 2)
    assert cmap.decode(b"\x00\x20\x00\x21\x00\x22") == "ABC"
    assert cmap.decode(b"\x00\x30\x00\x31\x00\x32") == "xff\U0001f601"
    assert cmap.decode(b"\x00\x23") is None  # past the range: not mapped
    assert cmap.decode(b"\x00\x20\x00") is None  # half a code


def test_as_dict_holds_every_code():
    """The plain dict the stamp compares has every bfchar code and every code of every range."""
    assert parse_to_unicode(TWO_BYTE, 2).as_dict() == {
        0x03: " ",
        0x10: "fi",
        0x11: "\U0001f600",
        0x20: "A",
        0x21: "B",
        0x22: "C",
        0x30: "x",
        0x31: "ff",
        0x32: "\U0001f601",
    }


def test_incrementing_range_of_a_surrogate_pair_counts_in_its_low_unit():
    """A range whose first target is a surrogate pair counts up in the pair's second unit."""
    cmap = parse_to_unicode(b"begincodespacerange <00> <FF> endcodespacerange beginbfrange <01> <03> <D83DDE00> endbfrange", 1)
    assert cmap.decode(b"\x01\x02\x03") == "\U0001f600\U0001f601\U0001f602"


def test_without_codespace_the_font_says_the_code_length():
    """No codespace range: codes are one byte for a simple font, two for a Type0 font."""
    body = b"beginbfchar <41> <0061> <0041> <0062> endbfchar"
    assert parse_to_unicode(body, 1).decode(b"\x41") == "a"
    assert parse_to_unicode(body, 2).decode(b"\x00\x41") == "b"


def test_mixed_code_lengths_are_declined():
    """Codespace ranges of one and two bytes: a shown string cannot be split here, so decode declines."""
    cmap = parse_to_unicode(
        b"begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange beginbfchar <41> <0061> <8001> <0062> endbfchar", 1
    )
    assert cmap.code_length is None
    assert cmap.decode(b"\x41") is None
    assert cmap.get(0x41) == "a" and cmap.get(0x8001) == "b"


def test_hex_with_spaces_and_odd_digits():
    """Hex strings in a CMap may hold white space and an odd number of digits (a last 0 is implied)."""
    cmap = parse_to_unicode(b"beginbfchar <4 1> <00 6 1> <42> <006> endbfchar", 1)
    assert cmap.decode(b"AB") == "a`"


SIMPLE_FONT_CMAP = b"""begincmap
1 begincodespacerange <00> <FF> endcodespacerange
2 beginbfchar
<01> <00660069>
<02> <D83DDE00>
endbfchar
2 beginbfrange
<03> <05> [<0048> <0065> <006C>]
<06> <07> <006E>
endbfrange
endcmap"""


def _font(writer: PdfWriter, cmap: bytes | None):
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    if cmap is not None:
        stream = DecodedStreamObject()
        stream.set_data(cmap)
        font[NameObject("/ToUnicode")] = writer._add_object(stream)
    return font


def test_decoding_matches_pypdf_extraction():
    """A page showing a ligature, an emoji and range codes through a ToUnicode map reads the same here and in pypdf."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(_font(writer, SIMPLE_FONT_CMAP))})}
    )
    shown = b"\x03\x04\x05\x05\x07\x01\x02\x06"
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 10 100 Td <" + shown.hex().encode() + b"> Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    reader = PdfReader(io.BytesIO(out.getvalue()))
    font = reader.pages[0]["/Resources"]["/Font"]["/F1"].get_object()
    ours = read_to_unicode(font).decode(shown)
    assert ours == "Hellofi\U0001f600n"
    assert reader.pages[0].extract_text() == ours


def test_a_font_without_a_map():
    """No /ToUnicode: no map, and an empty dict for the stamp."""
    font = _font(PdfWriter(), None)
    assert read_to_unicode(font) is None and to_unicode(font) == {}


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(2)


def test_every_font_of_a_stamped_pdf_reads_as_pypdf_reads_it(stamped):
    """For each font of a real stamped PDF, its codes read here as pypdf's extractor reads them
    (each font's codes shown on a page of their own)."""
    fonts = {}  # font object number -> (page index, its name there)
    for index, page in enumerate(PdfReader(io.BytesIO(stamped)).pages):
        for name, ref in page["/Resources"]["/Font"].items():
            fonts.setdefault(ref.idnum, (index, name))
    assert len(fonts) >= 2
    for index, name in fonts.values():
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(stamped)))
        page = writer.pages[index]
        ref = page["/Resources"]["/Font"].raw_get(name)
        font = ref.get_object()
        mapping = to_unicode(font)
        assert len(mapping) > 10
        codes = sorted(mapping)
        shown = b"".join(code.to_bytes(2, "big") for code in codes)
        content = DecodedStreamObject()
        content.set_data(b"BT /F1 4 Tf 10 100 Td <" + shown.hex().encode() + b"> Tj ET")
        page[NameObject("/Resources")][NameObject("/Font")] = DictionaryObject({NameObject("/F1"): ref})
        page[NameObject("/Contents")] = writer._add_object(content)
        out = io.BytesIO()
        writer.write(out)
        theirs = PdfReader(io.BytesIO(out.getvalue())).pages[index].extract_text()
        ours = read_to_unicode(font).decode(shown)
        assert ours == "".join(mapping[c] for c in codes)
        assert theirs.split() == ours.split()
