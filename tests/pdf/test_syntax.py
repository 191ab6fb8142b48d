"""The lexical layer: names, strings, numbers, the content-stream tokenizer, the
fast scan (which must say exactly what the tokenizer says wherever it speaks),
and the text operations the stamp rewrites."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from handoutpress.pdf.syntax import (
    INLINE_IMAGE,
    Operands,
    PdfString,
    decode_hex,
    decode_literal,
    decode_name,
    fast_scan,
    literal_end,
    operations,
    splice,
    text_operations,
)
from handoutpress.verify.stamptext import PAGE_TEXT
from handoutpress.verify.walk import WALKED


def ops(data: bytes) -> list[tuple[bytes, list]]:
    return [(op, list(operands)) for operands, op in operations(data)]


def names(data: bytes) -> list[bytes]:
    return [op for _, op in operations(data)]


# ---------------------------------------------------------------------------
# Names, strings, numbers


def test_hex_decoder_ignores_white_space_and_pads_an_odd_digit():
    """One hex decoder: spaces and line breaks anywhere, an odd last digit is followed by 0."""
    assert decode_hex(b"48 65\n6C6C 6F") == b"Hello"
    assert decode_hex(b"4 8 6") == b"\x48\x60"
    assert decode_hex(b"7") == b"\x70"
    assert decode_hex(b"") == b""


def test_name_and_literal_decoders():
    r"""``#xx`` escapes in names; ``\n``, octal and line-continuation escapes in literal strings."""
    assert decode_name(b"/Art#69fact") == "/Artifact"
    assert decode_name(b"/A#2") == "/A#2"  # not an escape: kept as written
    assert decode_literal(rb"a\n\050\)\\" + b"\\\nb") == b"a\n()\\b"
    assert decode_literal(b"plain") == b"plain"


def test_literal_end_balances_parentheses_and_escapes():
    """The end of a literal string is found past nested parentheses and escaped ones; unterminated runs to the end."""
    data = rb"(a (b) \) c) rest"
    assert data[: literal_end(data, 0)] == rb"(a (b) \) c)"
    assert literal_end(b"(never closed", 0) == len(b"(never closed")


# ---------------------------------------------------------------------------
# The tokenizer


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
    assert names(data) == [b"q", INLINE_IMAGE, b"Q", b"BT", b"Tj", b"ET"]
    assert ops(data)[4][1][0].value() == b"after"


def test_names_with_hex_escapes_decode():
    """``/Art#69fact`` is the name ``/Artifact``, as PDF name syntax says."""
    result = ops(b"/Art#69fact BMC EMC")
    assert result[0] == (b"BMC", ["/Artifact"])


@pytest.mark.parametrize("content", [b"BT (unterminated Tj ET", b"<< /A [1 2 BDC", b"\x00\x01 EMC EMC Q", b"] >> ) } BI /W"])
def test_malformed_content_does_not_raise(content):
    """Broken content (unterminated string, unbalanced dict, stray bytes) is tokenized to the end without an
    exception, and the fast scan still names the same operators as the full tokenizer."""
    every = [op for _, op in operations(content)]
    assert [op for _, op in operations(content, WALKED)] == [op for op in every if op in WALKED]
    shown = list(text_operations(content))
    assert len(shown) <= every.count(b"Tf") + sum(every.count(op) for op in (b"Tj", b"TJ", b"'", b'"'))


# ---------------------------------------------------------------------------
# The fast scan says what the tokenizer says


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(3)


def _plain(value):
    """Operands in a comparable form (strings by their bytes)."""
    if isinstance(value, PdfString):
        return ("string", value.value())
    if isinstance(value, (list, tuple, Operands)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _full(data: bytes, chosen: frozenset[bytes]) -> list:
    return [(op, _plain(operands)) for operands, op in operations(data) if op in chosen]


def _fast(data: bytes, chosen: frozenset[bytes]) -> list | None:
    found = fast_scan(data, chosen)
    return None if found is None else [(op, _plain(operands)) for operands, op in found]


CHOICES = (WALKED, PAGE_TEXT, frozenset({b"Tf", b"Tj", b"TJ", b"Do", INLINE_IMAGE}))


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
        for chosen in CHOICES:
            fast = _fast(data, chosen)
            assert fast is not None, data[:200]
            assert fast == _full(data, chosen)
            assert [(op, _plain(operands)) for operands, op in operations(data, chosen)] == fast


TRICKY = {
    # the scan must step over these exactly as the tokenizer does
    "hex string with spaces holding an operator": (b"/P <</MCID 0>> BDC BT <0 BDC> Tj ET EMC", True),
    "names that spell operators": (b"/BDC /EMC /Tj /a'b /Do BMC EMC", True),
    "words that only start like operators": (b"/Span <</MCID 1>> BDC 12Tj Tjx 'x EMC", True),
    "operator straight after a bracket": (b"[Tj ] TJ [<41>-300<42>]TJ<43>Tj", True),
    "booleans and null as operands": (b"/Artifact <</X true /Y null /Z false>> BDC EMC", True),
    "nested dictionaries and arrays": (b"/Span <</MCID 2 /A <</B [1 <</C 2>>] >> >> BDC [/X [1 2]] TJ EMC", True),
    "comments that mention operators": (b"% EMC BDC Tj\n/P <</MCID 3>> BDC % Do /Name\nEMC", True),
    "numbers of every shape": (b"+1 -2. .5 -.5 1.2.3 BMC 4Do 5 Do", True),
    "tags without spaces or with escapes": (b"/P<</MCID 7>>BDC /Art#69fact BMC /P <</MCID 8 /Lang /en>>BDC EMC EMC", True),
    "a font selection": (b"BT /F1 9.5 Tf 1 0 0 1 5 5 Tm [<0041> -250 <0042>] TJ T* ET", True),
    "no operator at all": (b"  1 2 /Name <00> [ ] ", True),
    "empty stream": (b"", True),
    # the scan gives up and the tokenizer decides
    "a tag with a literal string": (b"/P<</MCID 7>>BDC /P <</MCID 8 /Lang (x)>> BDC EMC EMC", False),
    "literal string holding EMC": (b"/P <</MCID 0>> BDC BT (x EMC) Tj ET EMC", False),
    "literal string inside a dictionary": (b"/Span <</MCID 0 /ActualText (EMC)>> BDC EMC", False),
    "inline image with operator bytes": (b"q BI /W 1 /H 1 /BPC 8 /CS /G ID EMC Tj EI Q /X Do", False),
    "stray closing delimiters": (b"/P BMC ) } > EMC", False),
    "unterminated hex string": (b"/P BMC <41 Tj EMC", False),
    "braces": (b"{ /X Do }", False),
}


@pytest.mark.parametrize("name", list(TRICKY))
def test_fast_scan_on_hand_made_streams(name):
    """Each tricky stream is either scanned with the tokenizer's result, or left to the tokenizer, as expected;
    either way `operations` gives the tokenizer's result."""
    data, scanned = TRICKY[name]
    for chosen in CHOICES:
        fast = _fast(data, chosen)
        if scanned:
            assert fast == _full(data, chosen)
        else:
            assert fast is None
        assert [(op, _plain(operands)) for operands, op in operations(data, chosen)] == _full(data, chosen)


def test_scan_names_operands_exactly():
    """A hex string holding 'BDC' stays one operand; the Do after a name that spells EMC gets its name."""
    data = b"/P <</MCID 7>> BDC <0 BDC> Tj EMC /EMC Do"
    assert _fast(data, WALKED) == [
        (b"BDC", ["/P", {"/MCID": 7.0}]),
        (b"Tj", [("string", b"\x0b\xdc")]),
        (b"EMC", []),
        (b"Do", ["/EMC"]),
    ]


# ---------------------------------------------------------------------------
# Text operations and splicing, for the stamp's rewriting


def test_text_operations_give_spans_fonts_and_pieces_as_written():
    """Each Tf and show comes with its exact span, the font in effect, the size and the TJ numbers as written."""
    data = b"q BT /F1 10.5 Tf 1 0 0 1 5 5 Tm [<0041> -250 <00420043>] TJ <0044> Tj /Sub#31 9 Tf (x) ' ET Q"
    found = list(text_operations(data))
    assert [op.operator for op in found] == [b"Tf", b"TJ", b"Tj", b"Tf", b"'"]
    assert [data[op.start : op.end] for op in found] == [
        b"/F1 10.5 Tf",
        b"[<0041> -250 <00420043>] TJ",
        b"<0044> Tj",
        b"/Sub#31 9 Tf",
        b"(x) '",
    ]
    tf, tj_array, tj, sub, quote = found
    assert (tf.font, tf.size, data[slice(*tf.font_span)]) == ("/F1", b"10.5", b"/F1")
    assert (tj_array.font, tj_array.size, tj_array.font_span) == ("/F1", b"10.5", None)
    assert [p if isinstance(p, bytes) else p.value() for p in tj_array.pieces] == [b"\x00A", b"-250", b"\x00B\x00C"]
    assert [p.value() for p in tj.pieces] == [b"\x00D"]
    assert (sub.font, data[slice(*sub.font_span)]) == ("/Sub1", b"/Sub#31")
    assert (quote.font, [p.value() for p in quote.pieces]) == ("/Sub1", [b"x"])


def test_splice_replaces_spans_and_keeps_every_other_byte():
    """Renaming every font through the spans changes only the names; no replacement gives the same bytes."""
    data = b"BT\n/F1 9 Tf\n[<01> -3 <02>] TJ\n/F2  12\nTf <03> Tj ET"
    renamed = splice(data, ((*op.font_span, b"/HP0" + op.font[1:].encode()) for op in text_operations(data) if op.font_span))
    assert renamed == b"BT\n/HP0F1 9 Tf\n[<01> -3 <02>] TJ\n/HP0F2  12\nTf <03> Tj ET"
    assert splice(data, []) is data
