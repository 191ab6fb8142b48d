"""Stage 4, stamp: the disclaimer, crisis lines, review months, page number and
edition go on every page, after typesetting, as a pagination artifact.

What every page shares is typeset once per worker, by WeasyPrint from
``templates/stamp.html``, for a brand, language, variant, review months and
page size: the kit (`StampKit`). Its page 0 is the band, with two slots kept
free: one for the edition, one for "Page i of n". Pages 1 to 3 are never
drawn; they show where each slot lies and make the embedded font carry every
glyph the slots can need. Stamping a document then typesets nothing: the band
becomes one form XObject shared by every page, and each page gets a tiny form
that writes its edition and page number into the slots with those glyphs
(`StampKit.slots`). Both are drawn inside
``/Artifact <</Type /Pagination /Subtype /Footer>> BDC ... EMC`` so screen
readers skip them while every printed page carries them.

Keeping the file small (it is emailed): pypdf appends the stamp as an
incremental update, so nothing WeasyPrint wrote (structure tree, outline,
links, metadata, object streams) is rewritten. Where the document already
embeds the stamp's font with every glyph the stamp draws (same outlines, same
widths, same Unicode), the stamp draws with the document's font instead of
embedding a second copy. Where it lacks a few of them (a middle dot, a digit
its text never used, or a whole weight), only those glyphs are embedded, as
a small supplement font, and the band's runs switch to it for them
(`_stamp_resources`, `_rewrite`): the pages look and read the same.

Outside PDFs (`outside.py`) may have any page size and a ``/Rotate``: each
page gets a `Placement`, the matrix that sets the stamp upright as the reader
sees the page, and, when the page leaves no free band, a slight shrink of the
page's own content (links move with it).
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ContentStream,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    RectangleObject,
    StreamObject,
)

from handoutpress.errors import PdfError, Problem
from handoutpress.load.brand import Brand
from handoutpress.load.content import ReviewDate
from handoutpress.pdf.reader import LazyReader
from handoutpress.render.html import Project, load_labels, render_stamp_html
from handoutpress.render.variants import Variant
from handoutpress.typeset.engine import typeset

STAMP_XOBJECT = NameObject("/HPStamp")
EDITION_XOBJECT = NameObject("/HPEdition")
_FONT_NAME = rb"/[^\s/\[\]<>()%{}]+"  # a font's resource name in a content stream
ARTIFACT_OPEN = b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

# The slots are kept as wide as the widest value they take: editions look
# like 2025.02-1a2b3c (digits and lowercase hex), pages are counted in
# ``digits`` digits.
EDITION_CHARACTERS = "0123456789abcdef.-"
WIDEST_EDITION = "8888.88-dddddd"


@dataclass(frozen=True)
class StampSpec:
    """Everything that decides what a kit looks like; also its cache key."""

    brand_sha256: str
    language: str
    variant: str
    reviewed: ReviewDate | None
    next_review: ReviewDate | None
    with_edition: bool = True
    page_size: tuple[float, float] | None = None
    digits: int = 2  # page numbers up to 10**digits - 1


@dataclass(frozen=True)
class Placement:
    """How one page takes its stamp.

    ``stamp`` maps the stamp's upright page onto the page's user space (it
    undoes ``/Rotate`` and the media box origin); ``content`` is applied to the
    page's own content and links (identity unless the content is shrunk to
    free the band); ``stamp_index`` picks the kit (one per page size).
    """

    stamp: Matrix = IDENTITY
    content: Matrix = IDENTITY
    stamp_index: int = 0


@dataclass
class _Run:
    """Glyphs one text-showing operator draws on a kit page, and where."""

    font: str  # resource name, e.g. /UREGIQ
    size: float
    x: float  # text-space origin, in the coordinates of ``ctm``
    y: float
    ctm: Matrix
    codes: list[int]


@dataclass
class _Face:
    widths: dict[int, float]
    default_width: float
    unicode: dict[int, str]


@dataclass
class StampKit:
    """The band and its slots, ready to stamp any number of documents."""

    pdf: bytes  # the kit as typeset; page 0 is the band
    reader: PdfReader
    page_of: str  # label formats, e.g. "Page {page} of {pages}"
    edition_label: str
    digits: int
    colours: tuple[bytes, bytes]  # fill operators: text colour (page number), muted (edition)
    faces: dict[str, _Face]
    glyphs: dict[str, tuple[str, int]]  # character -> (font resource name, code)
    band_glyphs: dict[str, set[int]]  # font resource name -> codes the band draws
    page_slot: tuple[Matrix, float, float, float] | None  # ctm, right edge x, baseline y, size
    edition_slot: tuple[Matrix, float, float, float] | None  # ctm, left x, baseline y, size
    band_form: tuple[bytes, list[float]] = field(default=(b"", []))  # compressed content, media box
    band_content: bytes = b""  # the same, decoded
    colour_spaces: bool = True  # does the band name a colour space (else the stamp's resources leave them out)
    _supplements: dict = field(default_factory=dict)  # (font, codes) -> _Supplement | None
    _bands: dict = field(default_factory=dict)  # a plan's key -> the band's content rewritten for it, compressed

    @property
    def rewritable(self) -> bool:
        """Can `_rewrite` move the band's glyphs between fonts? (Hex strings and TJ/Tj only, as WeasyPrint writes.)"""
        return not re.search(rb"[()'\"]|\bBI\b", self.band_content)

    def supplement(self, name: str, codes: frozenset[int]) -> _Supplement | None:
        """A small font with only ``codes`` of the kit's font ``name``, made once per kit; None if it cannot be."""
        key = (name, codes)
        if key not in self._supplements:
            font = self.reader.pages[0]["/Resources"]["/Font"][name].get_object()
            try:
                self._supplements[key] = _make_supplement(name, font, self.faces[name], codes)
            except Exception:  # fontTools could not subset it: the stamp embeds the kit's font instead
                self._supplements[key] = None
        return self._supplements[key]

    def band_for(self, plan: dict[str, _Use]) -> bytes:
        """The band's content, compressed, with its glyphs drawn as ``plan`` says."""
        if not plan:
            return self.band_form[0]
        key = tuple(sorted((name, use.key) for name, use in plan.items()))
        if key not in self._bands:
            band = DecodedStreamObject()
            band.set_data(_rewrite(self.band_content, plan))
            self._bands[key] = band.flate_encode(level=9)._data
        return self._bands[key]

    def width(self, text: str, size: float) -> float:
        total = 0.0
        for char in text:
            font, code = self.glyphs[char]
            face = self.faces[font]
            total += face.widths.get(code, face.default_width)
        return total * size / 1000

    def slots(self, page: int | None, pages: int, edition: str | None) -> tuple[bytes, dict[str, set[int]]]:
        """The content writing the edition (if any) and page ``page`` of ``pages`` (if a page
        is given) into the slots, and the glyph codes it draws per font."""
        runs: list[tuple[str, tuple[Matrix, float, float, float], bytes, bool]] = []
        if edition and self.edition_slot is not None:
            runs.append((self.edition_label.format(edition=edition), self.edition_slot, self.colours[1], False))
        if page is not None and self.page_slot is not None:
            runs.append((self.page_of.format(page=page, pages=pages), self.page_slot, self.colours[0], True))
        used: dict[str, set[int]] = {}
        out = []
        for text, (ctm, x, y, size), colour, right_aligned in runs:
            missing = sorted({c for c in text if c not in self.glyphs})
            if missing:
                raise ValueError(f"the stamp's font has no glyph for {''.join(missing)!r} in {text!r}")
            if right_aligned:
                x -= self.width(text, size)
            out.append(b"q " + _cm(ctm) + b"BT\n" + colour + f"1 0 0 -1 {_num(x)} {_num(y)} Tm\n".encode())
            font = None
            chunk = bytearray()
            for char in text:
                name, code = self.glyphs[char]
                if name != font:
                    if chunk:
                        out.append(b"<" + chunk.hex().encode() + b"> Tj\n")
                        chunk.clear()
                    out.append(f"{name} {_num(size)} Tf\n".encode())
                    font = name
                chunk += code.to_bytes(2, "big")
                used.setdefault(name, set()).add(code)
            out.append(b"<" + chunk.hex().encode() + b"> Tj\nET Q\n")
        return b"".join(out), used


_CACHE: OrderedDict[StampSpec, StampKit] = OrderedDict()
_CACHE_SIZE = 64


def stamp_kit(spec: StampSpec, *, brand: Brand, variant: Variant, project: Project) -> StampKit:
    """The kit for ``spec``; typeset once per worker per spec, then kept."""
    if spec in _CACHE:
        _CACHE.move_to_end(spec)
        return _CACHE[spec]
    labels = load_labels(project.labels, spec.language)
    page_of, edition_label = labels["page_of"], labels["edition"]
    widest = "8" * spec.digits
    widest_edition = edition_label.format(edition=WIDEST_EDITION) if spec.with_edition else None
    literal = re.sub(r"\{[a-z]+\}", "", page_of + (edition_label if spec.with_edition else ""))
    characters = sorted(set(literal) | set("0123456789") | (set(EDITION_CHARACTERS) if spec.with_edition else set()))
    html = render_stamp_html(
        project=project,
        brand=brand,
        language=spec.language,
        variant=variant,
        reviewed=spec.reviewed,
        next_review=spec.next_review,
        widest_page=page_of.format(page=widest, pages=widest),
        widest_edition=widest_edition,
        # Spaced out, so no two letters are shaped into one glyph.
        alphabet=" ".join(c for c in characters if not c.isspace()),
        page_size=spec.page_size,
    )
    pdf = typeset(
        html,
        base_url=project.root,
        allowed_roots=[project.styles, brand.folder],
        what="templates/stamp.html",
        tagged=False,
    )
    colours = brand.config.colours
    kit = _read_kit(pdf, page_of, edition_label, spec.digits, (_fill(colours.text), _fill(colours.muted)))
    _CACHE[spec] = kit
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return kit


def _fill(colour: str) -> bytes:
    """``#1a1a1a`` -> ``0.101961 0.101961 0.101961 rg``."""
    value = colour.lstrip("#")
    parts = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    return (" ".join(_num(round(p, 6)) for p in parts) + " rg\n").encode()


def _read_kit(pdf: bytes, page_of: str, edition_label: str, digits: int, colours: tuple[bytes, bytes]) -> StampKit:
    """Where the slots lie and which glyph draws which character, read from the typeset kit."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != 4:
        raise PdfError(Problem("templates/stamp.html", f"the stamp's kit has {len(reader.pages)} pages, not 4"))
    fonts: dict = {}
    for page in reader.pages:
        for name, ref in (page["/Resources"].get_object().get("/Font") or DictionaryObject()).get_object().items():
            fonts[str(name)] = ref.get_object()
    faces = {}
    for name, font in fonts.items():
        if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
            raise PdfError(Problem("templates/stamp.html", f"the stamp's font {name} is not a Type0 Identity-H font"))
        cid = font["/DescendantFonts"][0].get_object()
        faces[name] = _Face(_widths(cid), float(cid.get("/DW", 1000)), _to_unicode(font))
    runs = [_text_runs(reader.pages[i], reader) for i in range(4)]

    def face_width(run: _Run) -> float:
        face = faces[run.font]
        return sum(face.widths.get(c, face.default_width) for c in run.codes) * run.size / 1000

    page_slot = edition_slot = None
    if runs[1]:
        last = runs[1][-1]
        page_slot = (last.ctm, last.x + face_width(last), last.y, last.size)
    if runs[2]:
        first = runs[2][0]
        edition_slot = (first.ctm, first.x, first.y, first.size)
    glyphs: dict[str, tuple[str, int]] = {}
    for run in runs[1] + runs[2] + runs[3]:
        for code in run.codes:
            char = faces[run.font].unicode.get(code, "")
            if len(char) == 1:
                glyphs.setdefault(char, (run.font, code))
    band_glyphs: dict[str, set[int]] = {}
    for run in runs[0]:
        band_glyphs.setdefault(run.font, set()).update(run.codes)
    band_content = reader.pages[0].get_contents().get_data()
    band = DecodedStreamObject()
    band.set_data(band_content)
    band = band.flate_encode(level=9)
    kit = StampKit(
        pdf=pdf,
        reader=reader,
        page_of=page_of,
        edition_label=edition_label,
        digits=digits,
        colours=colours,
        faces=faces,
        glyphs=glyphs,
        band_glyphs=band_glyphs,
        page_slot=page_slot,
        edition_slot=edition_slot,
        band_form=(band._data, [float(v) for v in reader.pages[0].mediabox]),
        band_content=band_content,
        colour_spaces=re.search(rb"\s(cs|CS)\s", band_content) is not None,
    )
    return kit


def _text_runs(page, reader) -> list[_Run]:
    """Every text-showing operation on ``page``: its font, size, origin, matrix and glyph codes."""
    runs: list[_Run] = []
    ctm, stack = IDENTITY, []
    font, size, x, y = "", 0.0, 0.0, 0.0
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q" and stack:
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = multiply(tuple(float(v) for v in operands), ctm)
        elif operator == b"Tf":
            font, size = str(operands[0]), float(operands[1])
        elif operator == b"Tm":
            x, y = float(operands[4]), float(operands[5])
        elif operator == b"Td":
            x, y = x + float(operands[0]), y - float(operands[1])  # text space is flipped (1 0 0 -1 Tm)
        elif operator in (b"TJ", b"Tj"):
            items = operands[0] if operator == b"TJ" else operands[:1]
            codes = []
            for item in items:
                if isinstance(item, (bytes, str)) or hasattr(item, "original_bytes"):
                    raw = getattr(item, "original_bytes", item)
                    raw = raw.encode("latin-1") if isinstance(raw, str) else bytes(raw)
                    codes.extend(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2))
            if codes:
                runs.append(_Run(font, size, x, y, ctm, codes))
    return runs


def apply_stamp(
    document: bytes,
    kit: StampKit | list[StampKit],
    *,
    what: str,
    edition: str | None = None,
    placements: list[Placement] | None = None,
    finish=None,
) -> bytes:
    """Lay the stamp over every page of ``document`` as a pagination artifact.

    ``kit`` is one kit (or one per page size, chosen per page by
    ``placements``); ``edition`` goes into the edition slot of every page.
    ``finish(update)``, if given, may change the catalog (``update._root_object``)
    before writing; ``update.metadata`` is the document information.
    """
    kits = [kit] if isinstance(kit, StampKit) else list(kit)
    try:
        update = _Update(document)
        pages = list(update.reader.pages)
    except PdfError:
        raise
    except Exception as exc:  # pypdf raises several kinds for a broken file
        raise PdfError(Problem(what, f"cannot read PDF to stamp: {exc}")) from None
    count = len(pages)
    placements = placements or [Placement()] * count
    for one in kits:
        if count >= 10**one.digits:
            raise PdfError(Problem(what, f"a stamp for up to {10**one.digits - 1} pages cannot number {count} pages"))

    # What each page's slots say, then, per kit, the resources (fonts shared
    # with the document where the document's own font covers the stamp) and
    # the form with the band.
    # The edition is the same on every page: one small form per kit draws it.
    try:
        editions = [one.slots(None, count, edition) for one in kits]
        slots = [kits[place.stamp_index].slots(number, count, None) for number, place in enumerate(placements, 1)]
    except ValueError as exc:
        raise PdfError(Problem(what, str(exc))) from None
    prepared = []
    for index, one in enumerate(kits):
        used = {name: set(codes) for name, codes in one.band_glyphs.items()}
        for place, (_, codes) in [(Placement(stamp_index=index), editions[index]), *zip(placements, slots, strict=True)]:
            if place.stamp_index == index:
                for name, more in codes.items():
                    used.setdefault(name, set()).update(more)
        resources, fonts, plan = _stamp_resources(one, update, pages, used)
        suffix = str(index) if index else ""
        box = one.band_form[1]
        # The band: compressed once per kit (and plan).
        forms = {NameObject(STAMP_XOBJECT + suffix): update.add(_form(one.band_for(plan), box, resources))}
        if editions[index][0]:
            edition_data = zlib.compress(_rewrite(editions[index][0], plan), 9)
            forms[NameObject(EDITION_XOBJECT + suffix)] = update.add(_form(edition_data, box, resources))
        # On the pages, the stamp's fonts go by names of their own (kits may share font names).
        renamed = {str(name): NameObject(f"/HP{index}{str(name)[1:]}") for name in fonts}
        prepared.append((forms, fonts, renamed, plan))

    before = update.add(_stream(b"q\n"))
    shared_resources: dict[tuple[int, str], DictionaryObject] = {}
    for page, place, (content, _) in zip(pages, placements, slots, strict=True):
        forms, fonts, renamed, plan = prepared[place.stamp_index]
        _resource_for(page, "/XObject", shared_resources, update).update(forms)
        page_fonts = _resource_for(page, "/Font", shared_resources, update)
        for name, ref in fonts.items():
            page_fonts[renamed[str(name)]] = ref
        numbers = _rename_fonts(_rewrite(content, plan), renamed)

        if place.content != IDENTITY:
            opening = update.add(_stream(b"q\n" + _cm(place.content)))
            _move_annotations(page, place.content, update)
        else:
            opening = before
        after = update.add(_stream(_after_stream(place.stamp, list(forms), numbers)))
        parts = ArrayObject([opening])
        if page.get("/Contents") is not None:
            raw = page.raw_get("/Contents")
            if isinstance(raw.get_object(), ArrayObject):
                parts.extend(raw.get_object())
            else:
                parts.append(raw)
        parts.append(after)
        page[NameObject("/Contents")] = parts
        update.changed(page.indirect_reference, page)

    if finish is not None:
        catalog = update._root_object
        before_finish = _serialized(catalog)
        finish(update)
        if _serialized(catalog) != before_finish:
            update.changed(update.reader.trailer.raw_get("/Root"))
    return update.write()


def _serialized(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


class _Update:
    """An incremental update to a PDF, written by hand: the original bytes stay
    as they are, followed by the new and changed objects, a cross-reference
    section (a stream if the original ends with one, else a table) and a
    trailer with ``/Prev``, ``/Size``, ``/Root``, ``/Info`` and ``/ID`` kept.

    Nothing is cloned: objects are read lazily from the original, changed in
    place, and only those named by `changed` or `add` are written.
    """

    def __init__(self, document: bytes):
        self.reader = LazyReader(io.BytesIO(document))
        if self.reader.is_encrypted:
            raise ValueError("the PDF is encrypted")
        self.document = document
        self.prev, self.xref_stream = _last_xref(document)
        if self.prev is None:  # a broken startxref: rewrite the file once, then update that
            out = io.BytesIO()
            PdfWriter(clone_from=self.reader).write(out)
            self.__init__(out.getvalue())
            return
        self.size = int(self.reader.trailer["/Size"])
        self.objects: dict[int, tuple[int, object]] = {}  # number -> (generation, object)
        self.copied: dict[tuple[int, int, int], IndirectObject] = {}

    @property
    def _root_object(self):
        return self.reader.trailer["/Root"].get_object()

    @property
    def metadata(self):
        return self.reader.metadata

    def add(self, obj) -> IndirectObject:
        ref = IndirectObject(self.size, 0, self.reader)
        self.size += 1
        self.objects[ref.idnum] = (0, obj)
        return ref

    def changed(self, ref, obj=None) -> None:
        """The object at ``ref`` is to be written again; ``obj`` is it if it is not pypdf's cached copy (a page)."""
        if ref is not None:
            self.objects[ref.idnum] = (ref.generation, obj if obj is not None else ref.get_object())

    def copy(self, obj):
        """``obj`` from another PDF (the stamp), with every object it reaches added here once."""
        if isinstance(obj, IndirectObject):
            key = (id(obj.pdf), obj.idnum, obj.generation)
            if key not in self.copied:
                ref = self.copied[key] = self.add(NullObject())
                self.objects[ref.idnum] = (0, self.copy(obj.get_object()))
            return self.copied[key]
        if isinstance(obj, StreamObject):
            stream = EncodedStreamObject() if "/Filter" in obj else DecodedStreamObject()
            stream._data = obj._data
            for key, value in obj.items():
                if key != "/Length":
                    stream[NameObject(key)] = self.copy(value)
            return stream
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(k): self.copy(v) for k, v in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(v) for v in obj)
        return obj

    def write(self) -> bytes:
        """The document followed by the update. After a cross-reference stream, the
        update's dictionaries (pages, fonts, resources: a few hundred bytes each,
        alike) go into one compressed object stream; the streams stand alone."""
        out = io.BytesIO()
        out.write(self.document)
        if not self.document.endswith((b"\n", b"\r")):
            out.write(b"\n")
        entries: dict[int, tuple[int, int, int]] = {}  # number -> cross-reference entry (type, field 2, field 3)
        packed = {
            number: obj
            for number, (generation, obj) in self.objects.items()
            if self.xref_stream and generation == 0 and not isinstance(obj, StreamObject)
        }
        for number in sorted(self.objects):
            if number in packed:
                continue
            generation, obj = self.objects[number]
            entries[number] = (1, out.tell(), generation)
            out.write(f"{number} {generation} obj\n".encode())
            obj.write_to_stream(out)
            out.write(b"\nendobj\n")
        if packed:
            container = self.size
            self.size += 1
            header, body = [], bytearray()
            for index, number in enumerate(sorted(packed)):
                header.append(f"{number} {len(body)}")
                body += _serialized(packed[number]) + b"\n"
                entries[number] = (2, container, index)
            head = (" ".join(header) + "\n").encode()
            stream = DecodedStreamObject()
            stream.set_data(head + bytes(body))
            stream.update(
                {
                    NameObject("/Type"): NameObject("/ObjStm"),
                    NameObject("/N"): NumberObject(len(packed)),
                    NameObject("/First"): NumberObject(len(head)),
                }
            )
            entries[container] = (1, out.tell(), 0)
            out.write(f"{container} 0 obj\n".encode())
            stream.flate_encode(level=9).write_to_stream(out)
            out.write(b"\nendobj\n")
        trailer = DictionaryObject({NameObject("/Prev"): NumberObject(self.prev)})
        for key in ("/Root", "/Info", "/ID"):
            if key in self.reader.trailer:
                trailer[NameObject(key)] = self.reader.trailer.raw_get(key)
        start = out.tell()
        if self.xref_stream:
            number = self.size
            entries[number] = (1, start, 0)
            trailer[NameObject("/Size")] = NumberObject(number + 1)
            out.write(f"{number} 0 obj\n".encode())
            _xref_stream(entries, trailer).write_to_stream(out)
            out.write(b"\nendobj\n")
        else:
            trailer[NameObject("/Size")] = NumberObject(self.size)
            out.write(b"xref\n")
            for first, run in _runs(sorted(entries)):
                out.write(f"{first} {len(run)}\n".encode())
                for n in run:
                    out.write(f"{entries[n][1]:010d} {entries[n][2]:05d} n\r\n".encode())
            out.write(b"trailer\n")
            trailer.write_to_stream(out)
            out.write(b"\n")
        out.write(f"startxref\n{start}\n%%EOF\n".encode())
        return out.getvalue()


def _last_xref(document: bytes) -> tuple[int | None, bool]:
    """The original's last cross-reference offset, and whether it is a stream; None if it is broken."""
    found = re.search(rb"startxref\s+(\d+)\s*%%EOF\s*$", document[-1024:])
    if found is None:
        return None, False
    offset = int(found[1])
    head = document[offset : offset + 64]
    if head.startswith(b"xref"):
        return offset, False
    if re.match(rb"\d+\s+\d+\s+obj", head) and b"/XRef" in document[offset : offset + 1024]:
        return offset, True
    return None, False


def _runs(numbers: list[int]):
    """[3, 4, 5, 9] -> (3, [3, 4, 5]), (9, [9])."""
    run: list[int] = []
    for n in numbers:
        if run and n != run[-1] + 1:
            yield run[0], run
            run = []
        run.append(n)
    if run:
        yield run[0], run


def _xref_stream(entries: dict[int, tuple[int, int, int]], trailer: DictionaryObject):
    second = max(1, (max(e[1] for e in entries.values()).bit_length() + 7) // 8)
    third = max(1, (max(e[2] for e in entries.values()).bit_length() + 7) // 8)
    index, rows = ArrayObject(), bytearray()
    for first, run in _runs(sorted(entries)):
        index.extend([NumberObject(first), NumberObject(len(run))])
        for n in run:
            kind, field2, field3 = entries[n]
            rows += bytes([kind]) + field2.to_bytes(second, "big") + field3.to_bytes(third, "big")
    stream = DecodedStreamObject()
    stream.set_data(bytes(rows))
    stream.update(trailer)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XRef"),
            NameObject("/Index"): index,
            NameObject("/W"): ArrayObject([NumberObject(1), NumberObject(second), NumberObject(third)]),
        }
    )
    return stream.flate_encode()


def _after_stream(matrix: Matrix, forms: list[NameObject], numbers: bytes) -> bytes:
    """After the page's own content: restore its graphics state, then draw the band and
    the edition (forms every page shares) and this page's number (``numbers``, written
    here, in the page's content: a form of its own would cost a few hundred bytes a
    page), together, as one pagination artifact. It starts with a newline: the
    page's last stream may end without one."""
    return (
        b"\nQ\n"
        + ARTIFACT_OPEN
        + b"q "
        + (_cm(matrix) if matrix != IDENTITY else b"")
        + b" ".join(name.encode() + b" Do" for name in forms)
        + b"\n"
        + numbers
        + b"Q\nEMC\n"
    )


def _form(data: bytes, box: list[float], resources):
    """A form XObject drawing ``data`` (content already compressed with Flate) over ``box``."""
    form = EncodedStreamObject()
    form._data = data
    form.update(
        {
            NameObject("/Filter"): NameObject("/FlateDecode"),
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Form"),
            NameObject("/BBox"): RectangleObject(box),
            NameObject("/Resources"): resources,
        }
    )
    return form


_TF = re.compile(rb"(" + _FONT_NAME + rb")(\s+[-+0-9.]+\s+Tf\b)")


def _rename_fonts(content: bytes, names: dict[str, NameObject]) -> bytes:
    """``content`` (the stamp's own, `StampKit.slots`) with its fonts called by the page's names for them."""
    return _TF.sub(lambda m: names[m[1].decode()].encode() + m[2], content)


def _resource_for(page, key: str, shared: dict[tuple[int, str], DictionaryObject], update: _Update) -> DictionaryObject:
    """The dictionary ``key`` (/XObject, /Font) of the page's resources, ready for the stamp's entries.

    WeasyPrint gives every page the same resources object; it is updated once
    (the stamp's fonts and band added to it) instead of copied into every
    page, which would cost a few hundred bytes a page.
    """
    raw = page.raw_get("/Resources") if "/Resources" in page else _inherited_resources(page)
    if raw is not None and hasattr(raw, "idnum"):
        if (raw.idnum, key) not in shared:
            resources = raw.get_object()
            existing = resources.get(key)
            shared[raw.idnum, key] = DictionaryObject(existing.get_object() if existing is not None else {})
            resources[NameObject(key)] = shared[raw.idnum, key]
            update.changed(raw)
        return shared[raw.idnum, key]
    resources = DictionaryObject(raw.get_object() if raw is not None else {})
    existing = resources.get(key)
    entries = DictionaryObject(existing.get_object() if existing is not None else {})
    resources[NameObject(key)] = entries
    page[NameObject("/Resources")] = resources
    return entries


def _inherited_resources(page):
    """Resources a page takes from its parents in the page tree (outside PDFs do this)."""
    node, seen = page.get("/Parent"), 0
    while node is not None and seen < 64:
        node = node.get_object()
        if "/Resources" in node:
            # A copy for this page: the parent's dictionary is shared with its other pages.
            return DictionaryObject(node["/Resources"].get_object())
        node, seen = node.get("/Parent"), seen + 1
    return None


def _cm(m: Matrix) -> bytes:
    return (" ".join(_num(v) for v in m) + " cm\n").encode()


def _num(value: float) -> str:
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _stream(data: bytes):
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode()


# ---------------------------------------------------------------------------
# Resources: reuse the document's fonts where they cover the stamp


def _stamp_resources(kit: StampKit, update: _Update, pages, used: dict[str, set[int]]):
    """The kit's resource dictionary, added to ``update`` once, and the plan for its fonts.

    ``used``: the codes the stamp draws, per font of the kit. Each font is, in
    order of preference: the document's own font, when it draws every one of
    those glyphs as the kit does; the document's font for the glyphs it has,
    plus a small supplement for the rest (a few glyphs the handout's text
    never used, a middle dot or a digit); a small font with just the glyphs
    the stamp draws; the kit's font, copied whole. The plan (font -> `_Use`)
    says where `_rewrite` moves glyphs; it is empty when nothing moves.
    """
    source = kit.reader.pages[0]["/Resources"].get_object()
    body_fonts = _document_fonts(pages)
    fonts = DictionaryObject()
    plan: dict[str, _Use] = {}
    stamp_fonts = source.get("/Font")
    for name, ref in (stamp_fonts.get_object() if stamp_fonts else {}).items():
        if name not in used:
            continue  # the kit's alphabet pages need it, the stamp does not
        font = ref.get_object()
        match = body_fonts.get(_base_name(font))
        codes = used[name]
        present = _present(match.get_object(), codes) if match is not None else set()
        if present and not _covers(match.get_object(), font, present):
            present = set()
        if present == codes:
            fonts[NameObject(name)] = match
            continue
        supplement = kit.supplement(name, frozenset(codes - present)) if kit.rewritable else None
        if supplement is None:
            fonts[NameObject(name)] = update.copy(ref)
            continue
        if present:
            fonts[NameObject(name)] = match
        fonts[supplement.name] = _add_supplement(update, font, supplement)
        plan[name] = _Use(supplement.name, supplement.codes, rename=not present)
    resources = DictionaryObject()
    for key, value in source.items():
        if key == "/Font":
            resources[NameObject("/Font")] = update.add(fonts)
        elif key in ("/XObject", "/Pattern", "/Shading") and not value.get_object():
            continue  # WeasyPrint writes empty dictionaries; they cost bytes and say nothing
        elif key == "/ColorSpace" and not kit.colour_spaces:
            continue  # the band paints in plain RGB; the page forms too
        else:
            resources[NameObject(key)] = update.copy(value)
    return update.add(resources), fonts, plan


def _base_name(font) -> str:
    """``/ABCDEF+Open-Sans-Bold`` -> ``Open-Sans-Bold`` (the subset tag dropped)."""
    return str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[-1]


def _document_fonts(pages) -> dict:
    fonts: dict = {}
    for page in pages:
        resources = page.get("/Resources")
        font_dict = resources.get_object().get("/Font") if resources is not None else None
        if font_dict is None:
            continue
        for ref in font_dict.get_object().values():
            font = ref.get_object()
            if font.get("/Subtype") == "/Type0":
                fonts.setdefault(_base_name(font), ref)
    return fonts


def _covers(body, stamp, glyphs: set[int]) -> bool:
    """Does ``body`` (a Type0 font of the document) draw ``glyphs`` exactly as ``stamp`` does?"""
    try:
        if body.get("/Encoding") != "/Identity-H" or stamp.get("/Encoding") != "/Identity-H":
            return False
        body_cid, stamp_cid = body["/DescendantFonts"][0].get_object(), stamp["/DescendantFonts"][0].get_object()
        if body_cid.get("/CIDToGIDMap") != "/Identity" or stamp_cid.get("/CIDToGIDMap") != "/Identity":
            return False
        body_widths, stamp_widths = _widths(body_cid), _widths(stamp_cid)
        if any(body_widths.get(g) != stamp_widths.get(g) for g in glyphs):
            return False
        body_map, stamp_map = _to_unicode(body), _to_unicode(stamp)
        if any(body_map.get(g) != stamp_map.get(g) for g in glyphs):
            return False
        return _same_outlines(body_cid, stamp_cid, glyphs)
    except Exception:  # any surprise: embed the stamp's own font, which is always right
        return False


def _widths(cid_font) -> dict[int, float]:
    out: dict[int, float] = {}
    items = list(cid_font.get("/W", []))
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


_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")


def _to_unicode(font) -> dict[int, str]:
    stream = font.get("/ToUnicode")
    if stream is None:
        return {}
    data = stream.get_object().get_data()
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[::2], codes[1::2], strict=False):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be", "replace")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in block.strip().splitlines():
            codes = _HEX.findall(line)
            if len(codes) == 3 and b"[" not in line:
                start, end, dst = int(codes[0], 16), int(codes[1], 16), int(codes[2], 16)
                for k in range(end - start + 1):
                    out[start + k] = chr(dst + k)
            elif len(codes) >= 3:
                start = int(codes[0], 16)
                for k, dst_hex in enumerate(codes[2:]):
                    out[start + k] = bytes.fromhex(dst_hex.decode()).decode("utf-16-be", "replace")
    return out


def _same_outlines(body_cid, stamp_cid, glyphs: set[int]) -> bool:
    def program(cid_font) -> bytes:
        return cid_font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()

    body, stamp = program(body_cid), program(stamp_cid)
    if _same_glyph_bytes(body, stamp, glyphs):
        return True  # the usual case: both subset from one font file, glyph for glyph
    return _same_drawing(body, stamp, glyphs)


# ---------------------------------------------------------------------------
# Supplements: the few glyphs the document's font lacks


@dataclass(frozen=True)
class _Supplement:
    """A font with some glyphs of a kit's font, renumbered from 1 (`_make_supplement`)."""

    name: NameObject  # its resource name: the kit font's name + "HP"
    codes: dict[int, int]  # the kit font's code -> this font's code
    base_font: str  # /ABCDEF+Open-Sans (a subset tag of its own)
    program: bytes  # the TrueType program, compressed
    length1: int  # ... its length uncompressed
    widths: list[float]  # by this font's code, from 0
    to_unicode: bytes  # the ToUnicode CMap, compressed


@dataclass(frozen=True)
class _Use:
    """How the stamp draws one font of its kit: the codes in ``codes`` with the
    supplement ``name`` (renumbered), the others with the document's font;
    ``rename``: every glyph from the supplement (the document has none of them)."""

    name: NameObject
    codes: dict[int, int]
    rename: bool

    @property
    def key(self):
        return (str(self.name), tuple(sorted(self.codes.items())), self.rename)


def _present(body, codes: set[int]) -> set[int]:
    """The codes among ``codes`` that the document's font ``body`` has (a width says it does)."""
    try:
        return codes & set(_widths(body["/DescendantFonts"][0].get_object()))
    except Exception:
        return set()


def _make_supplement(name: str, font, face: _Face, codes: frozenset[int]) -> _Supplement:
    """``codes`` of the kit's ``font`` as a font of their own: glyph 0, then those glyphs
    (and the components they are built of), in their order, without hinting or layout tables."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    cid = font["/DescendantFonts"][0].get_object()
    program = cid["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
    ttf = TTFont(io.BytesIO(program), recalcTimestamp=False)  # the same bytes every time
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
        widths[new] = face.widths.get(code, face.default_width)
    entries = [
        f"<{new:04X}> <{text.encode('utf-16-be').hex().upper()}>\n"
        for new, text in sorted((new, face.unicode.get(code, "")) for code, new in mapping.items())
        if text
    ]
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        f"{len(entries)} beginbfchar\n"
        + "".join(entries)
        + "endbfchar endcmap CMapName currentdict /CMap defineresource pop end end\n"
    )
    digest = hashlib.sha256(data).digest()
    tag = "".join(chr(ord("A") + b % 26) for b in digest[:6])
    return _Supplement(
        name=NameObject(f"{name}HP"),
        codes=mapping,
        base_font=f"/{tag}+{_base_name(font)}",
        program=zlib.compress(data, 9),
        length1=len(data),
        widths=widths,
        to_unicode=zlib.compress(cmap.encode("ascii"), 9),
    )


def _add_supplement(update: _Update, font, supplement: _Supplement) -> IndirectObject:
    """The supplement as a Type0 font of the document, described as the kit's font is."""

    def compressed(data: bytes, **extra) -> EncodedStreamObject:
        stream = EncodedStreamObject()
        stream._data = data
        stream[NameObject("/Filter")] = NameObject("/FlateDecode")
        for key, value in extra.items():
            stream[NameObject(key)] = value
        return stream

    cid = font["/DescendantFonts"][0].get_object()
    descriptor = DictionaryObject(
        {
            NameObject(k): update.copy(v)
            for k, v in cid["/FontDescriptor"].get_object().items()
            if k not in ("/FontFile2", "/CIDSet")
        }
    )
    descriptor[NameObject("/FontName")] = NameObject(supplement.base_font)
    descriptor[NameObject("/FontFile2")] = update.add(
        compressed(supplement.program, **{"/Length1": NumberObject(supplement.length1)})
    )
    descendant = DictionaryObject(
        {NameObject(k): update.copy(v) for k, v in cid.items() if k not in ("/W", "/FontDescriptor", "/CIDSet", "/DW")}
    )
    descendant.update(
        {
            NameObject("/BaseFont"): NameObject(supplement.base_font),
            NameObject("/CIDToGIDMap"): NameObject("/Identity"),
            NameObject("/FontDescriptor"): update.add(descriptor),
            NameObject("/W"): ArrayObject([NumberObject(0), ArrayObject(FloatObject(_num(w)) for w in supplement.widths)]),
        }
    )
    return update.add(
        DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type0"),
                NameObject("/BaseFont"): NameObject(supplement.base_font),
                NameObject("/Encoding"): NameObject("/Identity-H"),
                NameObject("/DescendantFonts"): ArrayObject([update.add(descendant)]),
                NameObject("/ToUnicode"): update.add(compressed(supplement.to_unicode)),
            }
        )
    )


_TEXT_OPERATOR = re.compile(rb"(" + _FONT_NAME + rb")\s+([-+0-9.]+)\s+Tf\b|\[([^\]]*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj")
_TJ_ITEM = re.compile(rb"<([0-9A-Fa-f]*)>|([-+0-9.]+)")


def _rewrite(content: bytes, plan: dict[str, _Use]) -> bytes:
    """``content`` with each glyph of a planned font drawn by the font the plan gives it.

    A run (TJ or Tj) is cut where the font changes, with a Tf before each
    piece; the kerning numbers stay where they were, and both fonts have the
    same widths, so every glyph lands where it did. After the run the font is
    the one the original content has there, so what follows (and q/Q) is
    unchanged. Only for content `StampKit.rewritable` accepts.
    """
    if not plan:
        return content
    state = {"font": "", "size": b"0"}

    def current(name: str) -> str:
        use = plan.get(name)
        return str(use.name) if use is not None and use.rename else name

    def replace(match: re.Match) -> bytes:
        if match[1] is not None:
            state["font"], state["size"] = match[1].decode(), match[2]
            return current(state["font"]).encode() + b" " + match[2] + b" Tf"
        use = plan.get(state["font"])
        if use is None:
            return match[0]
        items = _TJ_ITEM.findall(match[3]) if match[3] is not None else [(match[4], b"")]
        base, extra = state["font"], str(use.name)
        segments: list[tuple[str, list[bytes]]] = []
        for hexcodes, number in items:
            if number:
                if not segments:
                    segments.append((current(base), []))
                segments[-1][1].append(b" " + number + b" ")
                continue
            raw = bytes.fromhex(hexcodes.decode())
            for i in range(0, len(raw) - 1, 2):
                code = int.from_bytes(raw[i : i + 2], "big")
                font = extra if code in use.codes else base
                glyph = b"<%04x>" % use.codes.get(code, code)
                if not segments or segments[-1][0] != font:
                    segments.append((font, []))
                segments[-1][1].append(glyph)
        out, actual = [], current(base)
        for font, parts in segments:
            if font != actual:
                out.append(font.encode() + b" " + state["size"] + b" Tf")
                actual = font
            out.append(b"[" + b"".join(parts) + b"] TJ")
        if actual != current(base):
            out.append(current(base).encode() + b" " + state["size"] + b" Tf")
        return b"\n".join(out)

    return _TEXT_OPERATOR.sub(replace, content)


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
# Geometry for outside PDFs


def multiply(a: Matrix, b: Matrix) -> Matrix:
    """``a`` then ``b``, in PDF's row-vector convention."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def invert(m: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def _move_annotations(page, matrix: Matrix, update: _Update) -> None:
    """Links follow the content when it is shrunk, so they stay on their words."""
    annots = page.get("/Annots") or []
    if annots and isinstance(page.raw_get("/Annots"), IndirectObject):
        update.changed(page.raw_get("/Annots"))
    for ref in annots:
        annot = ref.get_object()
        if isinstance(ref, IndirectObject):
            update.changed(ref)
        rect = annot.get("/Rect")
        if rect is None:
            continue
        x0, y0, x1, y1 = (float(v) for v in rect)
        corners = [apply(matrix, x, y) for x in (x0, x1) for y in (y0, y1)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        annot[NameObject("/Rect")] = ArrayObject(FloatObject(round(v, 3)) for v in (min(xs), min(ys), max(xs), max(ys)))
        quads = annot.get("/QuadPoints")
        if quads is not None:
            values = [float(v) for v in quads.get_object()]
            moved = []
            for i in range(0, len(values) - 1, 2):
                moved.extend(apply(matrix, values[i], values[i + 1]))
            annot[NameObject("/QuadPoints")] = ArrayObject(FloatObject(round(v, 3)) for v in moved)
