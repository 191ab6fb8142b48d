"""The stamp's kit: what every stamped page shares, typeset once and then reused.

What every page shares is typeset by WeasyPrint from ``templates/stamp.html``,
for a brand, language, variant, review months and page size (a `StampSpec`):
the kit (`StampKit`). Its page 0 is the band, with two slots kept free: one
for the edition, one for "Page i of n". Pages 1 to 3 are never drawn; they
show where each slot lies and make the embedded font carry every glyph the
slots can need. Stamping a document then typesets nothing: `StampKit.slots`
writes the edition and page number into the slots with those glyphs.

`StampKits` keeps the kits a worker has typeset, the most recently used
first, so each is typeset once per worker; it belongs to whoever stamps
(the batch's worker session, the outside-PDF command) and is passed along.
Workers of one build on one machine share their kits through a `KitShelf`
(a folder the build makes and removes): a kit's PDF is the same bytes in
every worker, so the first to need a kit typesets it and the others read it.

What it relies on: the kit's PDF as WeasyPrint writes it (four pages, Type0
Identity-H fonts, text shown with hex strings), read with the shared content
tokenizer (`handoutpress.pdf.syntax`) and ToUnicode decoder (through
`handoutpress.pdf.fonts.read_face`).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from handoutpress.errors import PdfError, Problem
from handoutpress.load.brand import Brand
from handoutpress.load.content import ReviewDate
from handoutpress.pdf.fonts import FontFace, Supplement, make_supplement, read_face
from handoutpress.pdf.geometry import IDENTITY, Matrix, as_matrix, cm_operator, format_number, multiply
from handoutpress.pdf.syntax import INLINE_IMAGE, PdfString, operations, text_operations
from handoutpress.render.html import Renderer
from handoutpress.render.variants import Variant
from handoutpress.stamp.rewrite import Plan, rewrite
from handoutpress.typeset.session import TypesetSession

# The slots are kept as wide as the widest value they take: editions look
# like 2025.02-1a2b3c (digits and lowercase hex), pages are counted in
# ``digits`` digits.
EDITION_CHARACTERS = "0123456789abcdef.-"
WIDEST_EDITION = "8888.88-dddddd"

KEPT_KITS = 64  # kits a worker keeps (a batch needs one per language, variant and review months)

Slot = tuple[Matrix, float, float, float]  # ctm, x (right edge for the page number, left for the edition), baseline y, size


@dataclass(frozen=True)
class StampSpec:
    """Everything that decides what a kit looks like; also its key in `StampKits`."""

    brand_sha256: str
    language: str
    variant: str
    reviewed: ReviewDate | None
    next_review: ReviewDate | None
    with_edition: bool = True
    page_size: tuple[float, float] | None = None
    digits: int = 2  # page numbers up to 10**digits - 1


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
class StampKit:
    """The band and its slots, ready to stamp any number of documents."""

    pdf: bytes  # the kit as typeset; page 0 is the band
    reader: PdfReader
    page_of: str  # label formats, e.g. "Page {page} of {pages}"
    edition_label: str
    digits: int
    colours: tuple[bytes, bytes]  # fill operators: text colour (page number), muted (edition)
    faces: dict[str, FontFace]
    glyphs: dict[str, tuple[str, int]]  # character -> (font resource name, code)
    band_glyphs: dict[str, set[int]]  # font resource name -> codes the band draws
    page_slot: Slot | None
    edition_slot: Slot | None
    band_form: tuple[bytes, list[float]] = field(default=(b"", []))  # compressed content, media box
    band_content: bytes = b""  # the same, decoded
    colour_spaces: bool = True  # does the band name a colour space (else the stamp's resources leave them out)
    # Made once per kit, on first need:
    supplements: dict[tuple[str, frozenset[int]], Supplement | None] = field(default_factory=dict)
    rewritten_bands: dict[tuple, bytes] = field(default_factory=dict)  # a plan's key -> the band rewritten for it, compressed

    @cached_property
    def rewritable(self) -> bool:
        """Can `rewrite` move the band's glyphs between fonts? (Hex strings shown with TJ and Tj only,
        and no inline image, as WeasyPrint writes.)"""
        for operation in text_operations(self.band_content):
            if operation.operator not in (b"Tf", b"TJ", b"Tj"):
                return False
            if any(isinstance(piece, PdfString) and not piece.hex for piece in operation.pieces):
                return False
        return not any(True for _ in operations(self.band_content, _INLINE_IMAGES))

    def font(self, name: str) -> DictionaryObject:
        """The band's font ``name`` (a resource name of the kit's page 0)."""
        fonts = cast(Any, self.reader.pages[0]["/Resources"])["/Font"]
        return cast(DictionaryObject, fonts[name].get_object())

    def supplement(self, name: str, codes: frozenset[int]) -> Supplement | None:
        """A small font with only ``codes`` of the kit's font ``name``, made once per kit; None if it cannot be."""
        key = (name, codes)
        if key not in self.supplements:
            try:
                self.supplements[key] = make_supplement(name, self.font(name), self.faces[name], codes)
            except Exception:  # fontTools could not subset it: the stamp embeds the kit's font instead
                self.supplements[key] = None
        return self.supplements[key]

    def band_for(self, plan: Plan) -> bytes:
        """The band's content, compressed, with its glyphs drawn as ``plan`` says."""
        if not plan:
            return self.band_form[0]
        key = tuple(sorted((name, use.key) for name, use in plan.items()))
        if key not in self.rewritten_bands:
            self.rewritten_bands[key] = zlib.compress(rewrite(self.band_content, plan), 9)
        return self.rewritten_bands[key]

    def width(self, text: str, size: float) -> float:
        """How wide ``text`` is, drawn at ``size`` with the kit's glyphs."""
        total = 0.0
        for char in text:
            font, code = self.glyphs[char]
            total += self.faces[font].width(code)
        return total * size / 1000

    def slots(self, page: int | None, pages: int, edition: str | None) -> tuple[bytes, dict[str, set[int]]]:
        """The content writing the edition (if any) and page ``page`` of ``pages`` (if a page
        is given) into the slots, and the glyph codes it draws per font."""
        runs: list[tuple[str, Slot, bytes, bool]] = []
        if edition and self.edition_slot is not None:
            runs.append((self.edition_label.format(edition=edition), self.edition_slot, self.colours[1], False))
        if page is not None and self.page_slot is not None:
            runs.append((self.page_of.format(page=page, pages=pages), self.page_slot, self.colours[0], True))
        used: dict[str, set[int]] = {}
        out = []
        for text, slot, colour, right_aligned in runs:
            out.append(self._slot_text(text, slot, colour, right_aligned, used))
        return b"".join(out), used

    def _slot_text(self, text: str, slot: Slot, colour: bytes, right_aligned: bool, used: dict[str, set[int]]) -> bytes:
        """``text`` written into ``slot``, a Tf before each change of font; its codes are added to ``used``."""
        ctm, x, y, size = slot
        missing = sorted({c for c in text if c not in self.glyphs})
        if missing:
            raise ValueError(f"the stamp's font has no glyph for {''.join(missing)!r} in {text!r}")
        if right_aligned:
            x -= self.width(text, size)
        out = [b"q " + cm_operator(ctm) + b"BT\n" + colour + f"1 0 0 -1 {format_number(x)} {format_number(y)} Tm\n".encode()]
        font = None
        chunk = bytearray()
        for char in text:
            name, code = self.glyphs[char]
            if name != font:
                if chunk:
                    out.append(b"<" + chunk.hex().encode() + b"> Tj\n")
                    chunk.clear()
                out.append(f"{name} {format_number(size)} Tf\n".encode())
                font = name
            chunk += code.to_bytes(2, "big")
            used.setdefault(name, set()).add(code)
        out.append(b"<" + chunk.hex().encode() + b"> Tj\nET Q\n")
        return b"".join(out)


_INLINE_IMAGES = frozenset({INLINE_IMAGE})


class KitShelf:
    """Kit PDFs the workers of one build share through ``folder``, named by their spec and ``key``
    (what else shapes a kit in that build: its shared inputs and brand).

    A worker puts each kit it typesets here; another worker needing the same
    kit reads its PDF instead of typesetting it (about 40 ms a kit). The build
    makes the folder and removes it; a worker only ever writes into it while it
    exists, and anything it cannot read or write here it simply typesets.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key

    def _path(self, spec: StampSpec) -> Path:
        return self.folder / (hashlib.sha256(f"{self.key}\0{spec!r}".encode()).hexdigest() + ".pdf")

    def get(self, spec: StampSpec) -> bytes | None:
        """The kit PDF another worker put here for ``spec``, or None."""
        try:
            return self._path(spec).read_bytes()
        except OSError:
            return None

    def put(self, spec: StampSpec, pdf: bytes) -> None:
        """Leave ``pdf`` for the other workers, whole (written aside, then renamed), if the folder is still there."""
        try:
            fd, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError:
            return  # the build removed the shelf: nobody needs the kit any more
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(pdf)
            os.replace(temporary, self._path(spec))
        except OSError:
            Path(temporary).unlink(missing_ok=True)


class StampKits:
    """The kits one worker has typeset, by spec, the most recently used kept (`KEPT_KITS`).

    ``shelf``: where kits typeset by the build's other workers are found (and
    this worker's are left), when they share one (`KitShelf`).
    """

    def __init__(self, typesetter: TypesetSession, size: int = KEPT_KITS) -> None:
        self.typesetter = typesetter
        self.size = size
        self.shelf: KitShelf | None = None
        self._kits: OrderedDict[StampSpec, StampKit] = OrderedDict()

    def __contains__(self, spec: StampSpec) -> bool:
        return spec in self._kits

    def __len__(self) -> int:
        return len(self._kits)

    def specs(self) -> list[StampSpec]:
        """The specs of the kits kept, the least recently used first."""
        return list(self._kits)

    def clear(self) -> None:
        """Forget every kit (the brand, a template or the labels changed)."""
        self._kits.clear()

    def kit(self, spec: StampSpec, *, brand: Brand, variant: Variant, renderer: Renderer) -> StampKit:
        """The kit for ``spec``: typeset the first time it is asked for, then kept."""
        if spec in self._kits:
            self._kits.move_to_end(spec)
            return self._kits[spec]
        kit = self._from_shelf(spec, brand, renderer)
        if kit is None:
            pdf = kit_pdf(spec, brand=brand, variant=variant, renderer=renderer, typesetter=self.typesetter)
            kit = kit_from_pdf(spec, pdf, brand=brand, renderer=renderer)
            if self.shelf is not None:
                self.shelf.put(spec, pdf)
        self._kits[spec] = kit
        if len(self._kits) > self.size:
            self._kits.popitem(last=False)
        return kit


    def _from_shelf(self, spec: StampSpec, brand: Brand, renderer: Renderer) -> StampKit | None:
        """The kit another worker typeset for ``spec``, read from the shelf; None if there is none to read."""
        pdf = self.shelf.get(spec) if self.shelf is not None else None
        if pdf is None:
            return None
        try:
            return kit_from_pdf(spec, pdf, brand=brand, renderer=renderer)
        except Exception:  # a file that is not a kit after all: typeset it here
            return None


def typeset_kit(spec: StampSpec, *, brand: Brand, variant: Variant, renderer: Renderer, typesetter: TypesetSession) -> StampKit:
    """The kit for ``spec``, rendered with ``renderer`` and typeset now with ``typesetter``."""
    pdf = kit_pdf(spec, brand=brand, variant=variant, renderer=renderer, typesetter=typesetter)
    return kit_from_pdf(spec, pdf, brand=brand, renderer=renderer)


def kit_from_pdf(spec: StampSpec, pdf: bytes, *, brand: Brand, renderer: Renderer) -> StampKit:
    """The kit for ``spec`` read from its typeset PDF (`kit_pdf`), with the labels and colours it fills its slots with."""
    labels = renderer.labels.of(spec.language)
    colours = brand.config.colours
    return read_kit(pdf, labels["page_of"], labels["edition"], spec.digits, (_fill(colours.text), _fill(colours.muted)))


def kit_pdf(spec: StampSpec, *, brand: Brand, variant: Variant, renderer: Renderer, typesetter: TypesetSession) -> bytes:
    """The kit's PDF for ``spec``: ``templates/stamp.html`` rendered with ``renderer`` and typeset now with ``typesetter``."""
    project = renderer.project
    labels = renderer.labels.of(spec.language)
    page_of, edition_label = labels["page_of"], labels["edition"]
    widest = "8" * spec.digits
    widest_edition = edition_label.format(edition=WIDEST_EDITION) if spec.with_edition else None
    literal = re.sub(r"\{[a-z]+\}", "", page_of + (edition_label if spec.with_edition else ""))
    characters = sorted(set(literal) | set("0123456789") | (set(EDITION_CHARACTERS) if spec.with_edition else set()))
    html = renderer.stamp_html(
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
    pdf = typesetter.typeset(
        html,
        base_url=project.root,
        allowed_roots=[project.styles, brand.folder],
        what="templates/stamp.html",
        tagged=False,
    )
    return pdf


def _fill(colour: str) -> bytes:
    """``#1a1a1a`` -> ``0.101961 0.101961 0.101961 rg``."""
    value = colour.lstrip("#")
    parts = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    return (" ".join(format_number(round(p, 6)) for p in parts) + " rg\n").encode()


def read_kit(pdf: bytes, page_of: str, edition_label: str, digits: int, colours: tuple[bytes, bytes]) -> StampKit:
    """Where the slots lie and which glyph draws which character, read from the typeset kit."""
    reader = PdfReader(io.BytesIO(pdf))
    if len(reader.pages) != 4:
        raise PdfError(Problem("templates/stamp.html", f"the stamp's kit has {len(reader.pages)} pages, not 4"))
    faces = _faces(reader)
    runs = [_text_runs(page.get_contents().get_data()) for page in reader.pages]  # type: ignore[union-attr]  # every kit page draws

    def face_width(run: _Run) -> float:
        return sum(faces[run.font].width(c) for c in run.codes) * run.size / 1000

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
            char = faces[run.font].text(code)
            if len(char) == 1:
                glyphs.setdefault(char, (run.font, code))
    band_glyphs: dict[str, set[int]] = {}
    for run in runs[0]:
        band_glyphs.setdefault(run.font, set()).update(run.codes)
    band_content = reader.pages[0].get_contents().get_data()  # type: ignore[union-attr]
    return StampKit(
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
        band_form=(zlib.compress(band_content, 9), [float(v) for v in reader.pages[0].mediabox]),
        band_content=band_content,
        colour_spaces=any(True for _ in operations(band_content, _COLOUR_SPACE_OPERATORS)),
    )


_COLOUR_SPACE_OPERATORS = frozenset({b"cs", b"CS"})


def _faces(reader: PdfReader) -> dict[str, FontFace]:
    """Every font the kit's pages name, as a `FontFace`; each must be Type0 Identity-H, as WeasyPrint writes."""
    fonts: dict[str, DictionaryObject] = {}
    for page in reader.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        page_fonts = cast(DictionaryObject, (resources.get("/Font") or DictionaryObject()).get_object())
        for name, ref in page_fonts.items():
            fonts[str(name)] = ref.get_object()
    faces = {}
    for name, font in fonts.items():
        if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
            raise PdfError(Problem("templates/stamp.html", f"the stamp's font {name} is not a Type0 Identity-H font"))
        faces[name] = read_face(font)
    return faces


_RUN_OPERATORS = frozenset({b"q", b"Q", b"cm", b"Tf", b"Tm", b"Td", b"TJ", b"Tj"})


def _text_runs(content: bytes) -> list[_Run]:
    """Every text-showing operation of a kit page's ``content``: its font, size, origin, matrix and glyph codes."""
    runs: list[_Run] = []
    ctm: Matrix = IDENTITY
    stack: list[Matrix] = []
    font, size, x, y = "", 0.0, 0.0, 0.0
    for operands, operator in operations(content, _RUN_OPERATORS):
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q" and stack:
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = multiply(as_matrix(operands), ctm)
        elif operator == b"Tf":
            font, size = str(operands[0]), float(operands[1])
        elif operator == b"Tm":
            x, y = float(operands[4]), float(operands[5])
        elif operator == b"Td":
            x, y = x + float(operands[0]), y - float(operands[1])  # text space is flipped (1 0 0 -1 Tm)
        elif operator in (b"TJ", b"Tj"):
            items = operands[0] if operator == b"TJ" else operands[:1]
            codes: list[int] = []
            for item in items:
                if isinstance(item, PdfString):
                    raw = item.value()
                    codes.extend(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2))
            if codes:
                runs.append(_Run(font, size, x, y, ctm, codes))
    return runs
