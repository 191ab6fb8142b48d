"""The stamp's kit: the band typeset once, the page number and edition written
into its slots by hand. The hand-written text must land where the typesetter
itself would have put it, say exactly what it should, and fail loudly when the
font cannot draw it. And the lazy PDF reader the stamp opens documents with
must read every object exactly as pypdf does."""

from __future__ import annotations

import io
import re
import shutil

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader
from support import ROOT
from support.pdf import KITS, NEXT_REVIEW, REVIEWED, TYPESETTER, brand, tagged_document

from handoutpress.errors import PdfError
from handoutpress.load.project import Project
from handoutpress.render.html import Renderer, load_labels
from handoutpress.render.variants import VARIANTS
from handoutpress.stamp.apply import apply_stamp
from handoutpress.stamp.kit import WIDEST_EDITION, KitShelf, StampKits, StampSpec
from handoutpress.typeset.session import TypesetSession

EDITION = "2025.02-1a2b3c"


def kit_for(variant: str = "standard", language: str = "en", *, with_edition: bool = True, kits: StampKits = KITS):
    spec = StampSpec(brand().sha256, language, variant, REVIEWED, NEXT_REVIEW, with_edition)
    return kits.kit(spec, brand=brand(), variant=VARIANTS[variant], renderer=Renderer(Project(ROOT)))


def text_box(pdf: bytes, page_index: int, text: str) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) in points of ``text`` on a page, as pdfium reads the drawn glyphs."""
    document = pdfium.PdfDocument(pdf)
    try:
        textpage = document[page_index].get_textpage()
        everything = textpage.get_text_range()
        start = everything.find(text)
        assert start >= 0, f"{text!r} not on page {page_index + 1}: {everything!r}"
        boxes = [textpage.get_charbox(i) for i in range(start, start + len(text)) if not everything[i].isspace()]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
    finally:
        document.close()


def typeset_slots(variant: str, language: str, page_label: str, edition_label: str) -> bytes:
    """The kit's template typeset with the real page label and edition in its slots: where WeasyPrint puts them."""
    project = Project(ROOT)
    html = Renderer(project).stamp_html(
        brand=brand(),
        language=language,
        variant=VARIANTS[variant],
        reviewed=REVIEWED,
        next_review=NEXT_REVIEW,
        widest_page=page_label,
        widest_edition=edition_label,
        alphabet="0",
    )
    return TYPESETTER.typeset(html, base_url=ROOT, allowed_roots=[project.styles, brand().folder], what="test", tagged=False)


@pytest.mark.parametrize(("variant", "language"), [("standard", "en"), ("large-print", "en"), ("standard", "es")])
def test_slots_hold_the_text_where_the_typesetter_would_have_put_it(variant, language):
    """On a stamped page, "Page 3 of 4" and the edition sit within a quarter point of where WeasyPrint sets them."""
    labels = load_labels(ROOT / "labels", language)
    page_label = labels["page_of"].format(page=3, pages=4)
    edition_label = labels["edition"].format(edition=EDITION)
    # The geometry must not depend on the slot's contents: same band height
    # whether the slot holds the widest value or the real one.
    assert len(page_label) <= len(labels["page_of"].format(page="88", pages="88"))
    reference = typeset_slots(variant, language, page_label, edition_label)
    stamped = apply_stamp(tagged_document(4, lang=language), kit_for(variant, language), what="test", edition=EDITION)
    for text, reference_page in ((page_label, 1), (edition_label, 2)):
        ours = text_box(stamped, 2, text)
        theirs = text_box(reference, reference_page, text)
        assert all(abs(a - b) <= 0.25 for a, b in zip(ours, theirs, strict=True)), (text, ours, theirs)


def test_every_page_says_its_own_number_and_the_edition():
    """pdftotext-style extraction of each stamped page finds "Page i of n" and "Edition ..." once each."""
    stamped = apply_stamp(tagged_document(3), kit_for(), what="test", edition=EDITION)
    document = pdfium.PdfDocument(stamped)
    try:
        for i in range(3):
            text = document[i].get_textpage().get_text_range()
            assert re.findall(r"Page \d+ of \d+", text) == [f"Page {i + 1} of 3"]
            assert text.count(f"Edition {EDITION}") == 1
    finally:
        document.close()


def test_the_widest_edition_is_at_least_as_wide_as_any_edition():
    """The slot kept free on the band fits every edition the build can make (digits and lowercase hex)."""
    kit = kit_for()
    size = kit.edition_slot[3]
    widest = kit.width(kit.edition_label.format(edition=WIDEST_EDITION), size)
    for edition in ("2025.02-1a2b3c", "2099.12-ffffff", "2026.11-dddddd", "0000.00-000000"):
        assert kit.width(kit.edition_label.format(edition=edition), size) <= widest + 1e-9


def test_a_kit_is_typeset_once_and_then_reused(monkeypatch):
    """Stamping many documents with one spec typesets the kit once; the kits are the session's, not the module's."""
    typesetter = TypesetSession()
    kits = StampKits(typesetter, size=2)
    calls = []
    real = typesetter.typeset
    monkeypatch.setattr(typesetter, "typeset", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = kit_for(kits=kits)
    document = tagged_document(2)
    for _ in range(3):
        apply_stamp(document, kit_for(kits=kits), what="test", edition=EDITION)
    assert kit_for(kits=kits) is first and len(calls) == 1
    kit_for("large-print", kits=kits)
    assert len(calls) == 2
    assert kit_for(kits=StampKits(typesetter)) is not first  # another session typesets its own
    assert len(calls) == 3
    # The least recently used kit makes room; forgetting empties the session's kits.
    kit_for("large-print", with_edition=False, kits=kits)
    assert [(spec.variant, spec.with_edition) for spec in kits.specs()] == [("large-print", True), ("large-print", False)]
    kits.clear()
    assert len(kits) == 0


def counting_kits(monkeypatch, shelf: KitShelf | None) -> tuple[StampKits, list[int]]:
    """Kits of a fresh session sharing ``shelf``, and a list that grows by one each time they typeset."""
    typesetter = TypesetSession()
    kits = StampKits(typesetter)
    kits.shelf = shelf
    calls: list[int] = []
    real = typesetter.typeset
    monkeypatch.setattr(typesetter, "typeset", lambda *a, **k: calls.append(1) or real(*a, **k))
    return kits, calls


def test_workers_sharing_a_shelf_typeset_each_kit_once_and_stamp_the_same_bytes(monkeypatch, tmp_path):
    """A kit one worker typeset and put on the shelf is read by the next instead of typeset again,
    and stamps a document to the very bytes the typesetting worker's kit gives."""
    shelf = KitShelf(tmp_path, "inputs")
    first, first_calls = counting_kits(monkeypatch, shelf)
    second, second_calls = counting_kits(monkeypatch, KitShelf(tmp_path, "inputs"))
    document = tagged_document(2)
    made = apply_stamp(document, kit_for(kits=first), what="test", edition=EDITION)
    assert first_calls == [1] and len(list(tmp_path.glob("*.pdf"))) == 1
    assert apply_stamp(document, kit_for(kits=second), what="test", edition=EDITION) == made
    assert second_calls == []
    other, other_calls = counting_kits(monkeypatch, KitShelf(tmp_path, "other inputs"))
    kit_for(kits=other)  # another build's inputs: not the same kit
    assert other_calls == [1]


def test_a_shelf_that_is_gone_or_damaged_costs_a_typesetting_never_a_wrong_kit(monkeypatch, tmp_path):
    """A damaged kit file on the shelf is typeset again; a shelf whose folder the build removed is
    neither read nor made again."""
    shelf = KitShelf(tmp_path / "shelf", "inputs")
    (tmp_path / "shelf").mkdir()
    document = tagged_document(2)
    expected = apply_stamp(document, kit_for(kits=counting_kits(monkeypatch, None)[0]), what="test", edition=EDITION)
    kits, calls = counting_kits(monkeypatch, shelf)
    kit_for(kits=kits)
    (damaged,) = (tmp_path / "shelf").glob("*.pdf")
    damaged.write_bytes(b"%PDF-1.7 not a kit")
    kits, calls = counting_kits(monkeypatch, shelf)
    assert apply_stamp(document, kit_for(kits=kits), what="test", edition=EDITION) == expected
    assert calls == [1]
    shutil.rmtree(tmp_path / "shelf")
    kits, calls = counting_kits(monkeypatch, shelf)
    assert apply_stamp(document, kit_for(kits=kits), what="test", edition=EDITION) == expected
    assert calls == [1] and not (tmp_path / "shelf").exists()


def test_an_edition_the_font_cannot_draw_is_refused():
    """A character outside the kit's alphabet is one clear error, never a missing or wrong glyph."""
    with pytest.raises(PdfError) as caught:
        apply_stamp(tagged_document(2), kit_for(), what="x.pdf", edition="2025.02-1A2B3C")
    assert str(caught.value.problems[0]) == "x.pdf: the stamp's font has no glyph for 'ABC' in 'Edition 2025.02-1A2B3C'"


def test_a_kit_numbers_only_as_many_pages_as_its_slot_fits():
    """A kit whose slot fits one-digit numbers refuses a 10-page document instead of overflowing its slot."""
    from dataclasses import replace

    one_digit = replace(kit_for(with_edition=False), digits=1)
    with pytest.raises(PdfError) as caught:
        apply_stamp(tagged_document(10), one_digit, what="x.pdf")
    assert str(caught.value.problems[0]) == "x.pdf: a stamp for up to 9 pages cannot number 10 pages"


# ---------------------------------------------------------------------------
# Fonts: the document's own where it has the glyphs, a small supplement for the rest


def bitmaps(pdf: bytes) -> list[bytes]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=2).to_pil().tobytes() for page in document]
    finally:
        document.close()


def texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.get_textpage().get_text_range() for page in document]
    finally:
        document.close()


def stamp_fonts(pdf: bytes) -> dict[str, object]:
    """The fonts the stamp's band draws with, by resource name."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    fonts = page["/Resources"]["/XObject"]["/HPStamp"]["/Resources"]["/Font"]
    return {str(name): ref.get_object() for name, ref in fonts.items()}


def glyph_count(font) -> int:
    from fontTools.ttLib import TTFont

    program = font["/DescendantFonts"][0]["/FontDescriptor"]["/FontFile2"].get_data()
    return TTFont(io.BytesIO(program))["maxp"].numGlyphs


def whole_font_stamp(document: bytes, kit, monkeypatch) -> bytes:
    """The same stamp with the kit's fonts embedded whole where the document lacks a glyph."""
    from handoutpress.stamp.kit import StampKit

    with monkeypatch.context() as patch:
        patch.setattr(StampKit, "rewritable", property(lambda self: False))
        return apply_stamp(document, kit, what="test", edition=EDITION)


def one_weight_document() -> bytes:
    """A document with no bold text at all: the band's bold font has nothing to share."""
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Plain</title>'
        '<style>@page { size: letter; margin: 1in 1in 1.3in 1in } html { font-family: "Open Sans" } h1 { font-weight: 400 }</style>'
        "</head><body><h1>Plain</h1><p>Only regular text here.</p></body></html>"
    )
    return TYPESETTER.typeset(html, base_url=ROOT, allowed_roots=[ROOT / "styles"], what="test")


@pytest.mark.parametrize("make", [tagged_document, one_weight_document], ids=["some glyphs missing", "a weight missing"])
def test_glyphs_the_document_lacks_come_from_a_small_supplement(make, monkeypatch):
    """Where the handout's fonts lack some of the band's glyphs (a middle dot, a digit, a whole
    weight), only those glyphs are embedded again, in a font of their own; the pages look and
    read exactly as with the kit's fonts embedded whole, and the file is smaller."""
    document, kit = make(), kit_for()
    stamped = apply_stamp(document, kit, what="test", edition=EDITION)
    whole = whole_font_stamp(document, kit, monkeypatch)
    assert bitmaps(stamped) == bitmaps(whole)
    assert texts(stamped) == texts(whole)
    assert len(stamped) < len(whole) - 1500

    kit_fonts = {str(name): ref.get_object() for name, ref in kit.reader.pages[0]["/Resources"]["/Font"].items()}
    used = stamp_fonts(stamped)
    supplements = {name: font for name, font in used.items() if name.endswith("HP")}
    assert supplements, used
    for name, font in supplements.items():
        kit_font = kit_fonts[name.removesuffix("HP")]
        assert str(font["/BaseFont"]).split("+")[1] == str(kit_font["/BaseFont"]).split("+")[1]
        assert glyph_count(font) <= 1 + len(kit.band_glyphs[name.removesuffix("HP")])  # glyph 0 and what is drawn, at most
    assert not any(font.indirect_reference is not None and font == kit_fonts.get(name) for name, font in used.items())


def test_a_supplement_is_made_once_and_gives_the_same_bytes():
    """Stamping the same document again reuses the supplement and writes identical bytes."""
    document, kit = tagged_document(2), kit_for()
    first = apply_stamp(document, kit, what="test", edition=EDITION)
    made = dict(kit.supplements)
    assert made and all(made.values())
    assert apply_stamp(document, kit, what="test", edition=EDITION) == first
    assert kit.supplements == made


# ---------------------------------------------------------------------------
# The text of the kit's glyphs: read with the package's one ToUnicode decoder


def type0_font(to_unicode: bytes):
    """A Type0 Identity-H font dictionary whose ToUnicode map is ``to_unicode`` (no program: only its text is read)."""
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    cmap = DecodedStreamObject()
    cmap.set_data(to_unicode)
    cid = DictionaryObject({NameObject("/W"): ArrayObject([NumberObject(5), ArrayObject([NumberObject(600)] * 4)])})
    return DictionaryObject(
        {
            NameObject("/Subtype"): NameObject("/Type0"),
            NameObject("/Encoding"): NameObject("/Identity-H"),
            NameObject("/DescendantFonts"): ArrayObject([cid]),
            NameObject("/ToUnicode"): cmap,
        }
    )


def test_a_kit_font_s_ligatures_and_characters_beyond_the_bmp_read_right():
    """A glyph that stands for two letters (a ligature) or for a character beyond the Basic
    Multilingual Plane reads as that text, from a bfchar or a bfrange, as the shared decoder
    reads it (the stamp's own parser took a bfrange's first target as one number, and a
    surrogate pair made that no character at all)."""
    from handoutpress.pdf.fonts import read_face
    from handoutpress.pdf.tounicode import to_unicode

    cmap = (
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        b"1 beginbfchar <0005> <00660069> endbfchar\n"  # "fi"
        b"2 beginbfrange <0006> <0007> <D83DDE00>\n"  # U+1F600, U+1F601: the low surrogate counts up
        b"<0008> <0008> [<00660066006C>] endbfrange\n"  # "ffl"
    )
    font = type0_font(cmap)
    face = read_face(font)
    assert [face.text(code) for code in (5, 6, 7, 8, 9)] == ["fi", "\U0001f600", "\U0001f601", "ffl", ""]
    assert face.unicode == to_unicode(font)
    assert face.width(5) == 600


def test_the_kit_reads_its_glyphs_text_with_the_shared_decoder():
    """Every font of a real kit: its glyphs' text is exactly what `handoutpress.pdf.tounicode` says."""
    from handoutpress.pdf.tounicode import to_unicode

    kit = kit_for()
    assert kit.faces
    for name, face in kit.faces.items():
        assert face.unicode == to_unicode(kit.font(name)), name
    assert kit.glyphs["8"][0] in kit.faces and kit.faces[kit.glyphs["8"][0]].text(kit.glyphs["8"][1]) == "8"


def test_a_supplement_keeps_the_text_of_ligatures_and_characters_beyond_the_bmp():
    """A supplement made of glyphs that read as "fi" and as U+1F600 says so in its own ToUnicode
    map, as the shared decoder reads it, so the stamp's text extracts the same."""
    import zlib
    from dataclasses import replace

    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    from handoutpress.pdf.fonts import make_supplement
    from handoutpress.pdf.tounicode import to_unicode

    kit = kit_for()
    name, codes = next(iter(kit.band_glyphs.items()))
    first, second = sorted(codes)[:2]
    face = replace(kit.faces[name], unicode={**kit.faces[name].unicode, first: "fi", second: "\U0001f600"})
    supplement = make_supplement(name, kit.font(name), face, frozenset({first, second}))
    cmap = DecodedStreamObject()
    cmap.set_data(zlib.decompress(supplement.to_unicode))
    text = to_unicode(DictionaryObject({NameObject("/Subtype"): NameObject("/Type0"), NameObject("/ToUnicode"): cmap}))
    assert {supplement.codes[first]: "fi", supplement.codes[second]: "\U0001f600"} == text
