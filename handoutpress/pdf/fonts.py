"""Embedded fonts: what a Type0 font draws, whether two fonts draw the same
glyphs, and a small font made of a few glyphs of another.

The stamp typesets its band with the handout's own typefaces; where the
handout already embeds one of them with every glyph the band draws (same
outlines, same widths, same Unicode), the band can draw with the handout's
copy instead of embedding a second one (`covers`); where a few glyphs are
missing, only those are embedded again (`make_supplement`, `embed_supplement`).

What it relies on: fonts are Type0 with Identity-H encoding and one CIDFontType2
descendant whose CIDs are glyph ids (``/CIDToGIDMap /Identity``), as WeasyPrint
writes them; anything else is reported as not covering, so the stamp embeds its
own font, which is always right. Glyph outlines are compared straight from the
TrueType ``loca``/``glyf`` tables when they are byte for byte alike, and with
fontTools (which also subsets the supplement) when they are not.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, IndirectObject, NameObject, NumberObject, PdfObject

from handoutpress.pdf.geometry import format_number
from handoutpress.pdf.tounicode import read_to_unicode, to_unicode
from handoutpress.pdf.update import IncrementalUpdate, stored_stream


def _dictionary(obj: PdfObject | None) -> DictionaryObject:
    """``obj`` (or what it refers to) as the dictionary the PDF says it is."""
    return cast(DictionaryObject, obj.get_object() if obj is not None else None)


def descendant(font: DictionaryObject) -> DictionaryObject:
    """The CID font a Type0 font draws with."""
    return _dictionary(cast(ArrayObject, font["/DescendantFonts"])[0])


def font_program(cid_font: DictionaryObject) -> bytes:
    """The TrueType program a CID font embeds, uncompressed."""
    descriptor = _dictionary(cid_font["/FontDescriptor"])
    return cast(Any, descriptor["/FontFile2"].get_object()).get_data()


@dataclass
class FontFace:
    """What a Type0 font's codes draw: their widths (thousandths of the size) and their text."""

    widths: dict[int, float]
    default_width: float
    unicode: dict[int, str]  # from its ToUnicode map (`handoutpress.pdf.tounicode`)

    def width(self, code: int) -> float:
        """The width of ``code``'s glyph, in thousandths of the font size."""
        return self.widths.get(code, self.default_width)

    def text(self, code: int) -> str:
        """The text ``code``'s glyph stands for; empty if the font does not say."""
        return self.unicode.get(code, "")


def read_face(font: DictionaryObject) -> FontFace:
    """The widths and Unicode text of a Type0 font's codes."""
    cid = descendant(font)
    return FontFace(cid_widths(cid), float(cast(Any, cid.get("/DW", 1000))), to_unicode(font))


def cid_widths(cid_font: DictionaryObject) -> dict[int, float]:
    """A CID font's ``/W`` array as code -> width."""
    out: dict[int, float] = {}
    items: list[Any] = list(cast(Iterable[Any], cid_font.get("/W", [])))
    i = 0
    while i < len(items):
        first = int(items[i])
        nxt = items[i + 1].get_object() if hasattr(items[i + 1], "get_object") else items[i + 1]
        if isinstance(nxt, list):
            for k, w in enumerate(nxt):
                out[first + k] = float(w)
            i += 2
        else:
            for g in range(first, int(nxt) + 1):
                out[g] = float(items[i + 2])
            i += 3
    return out


def base_name(font: DictionaryObject) -> str:
    """``/ABCDEF+Open-Sans-Bold`` -> ``Open-Sans-Bold`` (the subset tag dropped)."""
    return str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[-1]


def document_fonts(pages: Iterable[DictionaryObject]) -> dict[str, IndirectObject]:
    """The Type0 fonts the pages' resources name, by base name (the first of each)."""
    fonts: dict[str, IndirectObject] = {}
    for page in pages:
        resources = page.get("/Resources")
        font_dict = _dictionary(resources).get("/Font") if resources is not None else None
        if font_dict is None:
            continue
        for ref in _dictionary(font_dict).values():
            font = _dictionary(ref)
            if font.get("/Subtype") == "/Type0":
                fonts.setdefault(base_name(font), ref)
    return fonts


def present_codes(body: DictionaryObject, codes: set[int]) -> set[int]:
    """The codes among ``codes`` that the document's font ``body`` has (a width says it does)."""
    try:
        return codes & set(cid_widths(descendant(body)))
    except Exception:
        return set()


def covers(body: DictionaryObject, stamp: DictionaryObject, stamp_face: FontFace, glyphs: set[int]) -> bool:
    """Does ``body`` (a Type0 font of the document) draw ``glyphs`` exactly as ``stamp`` (whose
    widths and text ``stamp_face`` holds, read once) does?"""
    try:
        if body.get("/Encoding") != "/Identity-H" or stamp.get("/Encoding") != "/Identity-H":
            return False
        body_cid, stamp_cid = descendant(body), descendant(stamp)
        if body_cid.get("/CIDToGIDMap") != "/Identity" or stamp_cid.get("/CIDToGIDMap") != "/Identity":
            return False
        body_widths = cid_widths(body_cid)
        if any(body_widths.get(g) != stamp_face.widths.get(g) for g in glyphs):
            return False
        body_map = read_to_unicode(body)  # only the glyphs asked about are looked up
        if any((body_map.get(g) if body_map is not None else None) != stamp_face.unicode.get(g) for g in glyphs):
            return False
        return same_outlines(font_program(body_cid), font_program(stamp_cid), glyphs)
    except Exception:  # any surprise: embed the stamp's own font, which is always right
        return False


def same_outlines(body: bytes, stamp: bytes, glyphs: set[int]) -> bool:
    """Do two TrueType programs draw ``glyphs`` (glyph ids) alike?"""
    if _same_glyph_bytes(body, stamp, glyphs):
        return True  # the usual case: both subset from one font file, glyph for glyph
    return _same_drawing(body, stamp, glyphs)


def _glyph_table(font: bytes):
    """``gid -> the glyph's bytes`` for a TrueType program, read from its loca and glyf tables."""
    tables = {}
    for i in range(int.from_bytes(font[4:6], "big")):
        record = font[12 + 16 * i : 28 + 16 * i]
        tables[record[:4]] = (int.from_bytes(record[8:12], "big"), int.from_bytes(record[12:16], "big"))
    head, loca, glyf = tables[b"head"], tables[b"loca"], tables[b"glyf"]
    long_offsets = int.from_bytes(font[head[0] + 50 : head[0] + 52], "big", signed=True) == 1
    width, scale = (4, 1) if long_offsets else (2, 2)
    count = loca[1] // width - 1

    def glyph(gid: int) -> bytes | None:
        if gid >= count:
            return None
        at = loca[0] + gid * width
        start = int.from_bytes(font[at : at + width], "big") * scale
        end = int.from_bytes(font[at + width : at + 2 * width], "big") * scale
        return font[glyf[0] + start : glyf[0] + end]

    return glyph


def _same_glyph_bytes(body: bytes, stamp: bytes, glyphs: set[int]) -> bool:
    """Are the glyphs byte for byte the same, simple glyphs only? (A composite sends us the slow way.)"""
    try:
        theirs, ours = _glyph_table(body), _glyph_table(stamp)
    except (KeyError, IndexError, ValueError):
        return False
    for gid in glyphs:
        data = ours(gid)
        if data is None or data != theirs(gid):
            return False
        if len(data) >= 2 and int.from_bytes(data[:2], "big", signed=True) < 0:
            return False  # a composite: its components must be compared too
    return True


def _same_drawing(body: bytes, stamp: bytes, glyphs: set[int]) -> bool:
    """The glyphs compared as fontTools reads them, composites by their components."""
    from fontTools.ttLib import TTFont

    body_font, stamp_font = TTFont(io.BytesIO(body), lazy=True), TTFont(io.BytesIO(stamp), lazy=True)
    body_glyf, stamp_glyf = body_font["glyf"], stamp_font["glyf"]
    body_order, stamp_order = body_font.getGlyphOrder(), stamp_font.getGlyphOrder()
    todo, seen = list(glyphs), set()
    while todo:
        gid = todo.pop()
        if gid in seen:
            continue
        seen.add(gid)
        if gid >= len(body_order) or gid >= len(stamp_order):
            return False
        theirs, ours = body_glyf[body_order[gid]], stamp_glyf[stamp_order[gid]]
        if ours.isComposite() or theirs.isComposite():
            # Subsetters may set a composite's flags differently; what draws is
            # its components and where they sit (components are compared too).
            if _components(theirs) != _components(ours):
                return False
            todo.extend(stamp_font.getGlyphID(c) for c in ours.getComponentNames(stamp_glyf))
        elif theirs.compile(body_glyf) != ours.compile(stamp_glyf):
            return False
    return True


def _components(glyph) -> list:
    if not glyph.isComposite():
        return []
    return [(c.glyphName, c.x, c.y, repr(getattr(c, "transform", None))) for c in glyph.components]


# ---------------------------------------------------------------------------
# Supplements: a few glyphs of a font, as a font of their own


@dataclass(frozen=True)
class Supplement:
    """A font with some glyphs of another, renumbered from 1 (`make_supplement`)."""

    name: NameObject  # its resource name: the original's name + "HP"
    codes: dict[int, int]  # the original font's code -> this font's code
    base_font: str  # /ABCDEF+Open-Sans (a subset tag of its own)
    program: bytes  # the TrueType program, compressed
    length1: int  # ... its length uncompressed
    widths: list[float]  # by this font's code, from 0
    to_unicode: bytes  # the ToUnicode CMap, compressed


def make_supplement(name: str, font: DictionaryObject, face: FontFace, codes: frozenset[int]) -> Supplement:
    """``codes`` of the Type0 ``font`` (resource name ``name``) as a font of their own: glyph 0,
    then those glyphs (and the components they are built of), in their order, without hinting or
    layout tables."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    ttf = TTFont(io.BytesIO(font_program(descendant(font))), recalcTimestamp=False)  # the same bytes every time
    order = ttf.getGlyphOrder()
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=[order[code] for code in sorted(codes)])
    subsetter.subset(ttf)
    out = io.BytesIO()
    ttf.save(out)
    data = out.getvalue()
    new_order = ttf.getGlyphOrder()
    mapping = {code: new_order.index(order[code]) for code in codes}
    widths = [0.0] * len(new_order)
    for code, new in mapping.items():
        widths[new] = face.width(code)
    texts = sorted((new, face.text(code)) for code, new in mapping.items())
    digest = hashlib.sha256(data).digest()
    tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
    return Supplement(
        name=NameObject(f"{name}HP"),
        codes=mapping,
        base_font=f"/{tag}+{base_name(font)}",
        program=zlib.compress(data, 9),
        length1=len(data),
        widths=widths,
        to_unicode=zlib.compress(_to_unicode_cmap([(new, text) for new, text in texts if text]), 9),
    )


def _to_unicode_cmap(entries: list[tuple[int, str]]) -> bytes:
    """A ToUnicode CMap saying each code of ``entries`` reads as its text."""
    lines = [f"<{code:04X}> <{text.encode('utf-16-be').hex().upper()}>\n" for code, text in entries]
    return (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(lines)} beginbfchar\n"
        + "".join(lines)
        + "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end\n"
    ).encode("ascii")


def embed_supplement(update: IncrementalUpdate, font: DictionaryObject, supplement: Supplement) -> IndirectObject:
    """The supplement as a Type0 font of the document, described as ``font`` (its original) is."""
    cid = descendant(font)
    descriptor = DictionaryObject(
        {
            NameObject(k): update.copy(v)
            for k, v in _dictionary(cid["/FontDescriptor"]).items()
            if k not in ("/FontFile2", "/CIDSet")
        }
    )
    descriptor[NameObject("/FontName")] = NameObject(supplement.base_font)
    descriptor[NameObject("/FontFile2")] = update.add(
        stored_stream(supplement.program, {"/Length1": NumberObject(supplement.length1)})
    )
    descendant_font = DictionaryObject(
        {NameObject(k): update.copy(v) for k, v in cid.items() if k not in ("/W", "/FontDescriptor", "/CIDSet", "/DW")}
    )
    widths = ArrayObject(FloatObject(format_number(w)) for w in supplement.widths)
    descendant_font.update(
        {
            NameObject("/BaseFont"): NameObject(supplement.base_font),
            NameObject("/CIDToGIDMap"): NameObject("/Identity"),
            NameObject("/FontDescriptor"): update.add(descriptor),
            NameObject("/W"): ArrayObject([NumberObject(0), widths]),
        }
    )
    return update.add(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): NameObject(supplement.base_font),
                NameObject("/Encoding"): NameObject("/Identity-H"),
                NameObject("/DescendantFonts"): ArrayObject([update.add(descendant_font)]),
                NameObject("/ToUnicode"): update.add(stored_stream(supplement.to_unicode)),
            }
        )
    )
