"""How full each page of a PDF is, measured the way a designer looks at a page.

`measure_pages` takes each page's content area (the page less its CSS ``@page``
margins, which `variant_margins` reads from the variant's stylesheets in
styles/) and reports the fraction of that area's height covered by something
printed: the boxes pdfium gives for the page's text (`PdfTextPage` rects) and
the bounds of its other page objects (rules, box backgrounds, table borders,
images). The boxes are projected onto the vertical axis and merged; white
space shorter than `BRIDGE_PT` between two printed things (the leading
between lines, the space between paragraphs and around headings) counts as
filled, because the eye reads it as part of the text block. So a page whose
text runs halfway down its content area reads about 0.5 and a full page about
1.0, at any type size, and only white space a reader would notice is empty.

Left out: the stamp, which handoutpress.stamp draws in the bottom margin
(outside the content area) inside an ``/Artifact`` sequence carrying a /Type
and a /Subtype, unlike WeasyPrint's own decorations, which are plain
artifacts; and any path covering nearly the whole content area (a page
background).

Each page also reports the first line of text at its top, and the structure
element types (from the tagged PDF's structure tree) of the topmost and of the
lowest thing printed on it, so a test can tell which block opens a page and
whether a table or picture moved whole to it. (WeasyPrint tags each page as a
Part of its own, so an element split across pages is two elements: types, not
identities, are what can be compared.)
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pypdfium2
import pypdfium2.raw as pdfium_raw

from handoutpress.render.variants import VARIANTS
from support import ROOT

Box = tuple[float, float, float, float]  # left, bottom, right, top, in points

POINTS_PER = {"in": 72.0, "pt": 1.0, "mm": 72.0 / 25.4, "cm": 72.0 / 2.54, "px": 0.75}
# White space taller than this (a third of an inch) is a gap a reader sees.
BRIDGE_PT = 24.0
# A path at least this share of the content area is the page's background.
BACKGROUND_SHARE = 0.9
# Things whose tops (or feet) lie this close to the page's highest top (lowest foot) open (close) it together.
TOP_TOLERANCE_PT = 2.0


@dataclass(frozen=True)
class Margins:
    """A page's margins in points, in CSS order."""

    top: float
    right: float
    bottom: float
    left: float


@dataclass(frozen=True)
class PageFill:
    """One page: how much of its content area is filled, and what it holds."""

    number: int  # from 1
    fill: float  # 0.0 (empty) to 1.0 (printed from the top of the content area to its foot)
    text: str  # the page's text inside the content area, whitespace squashed
    top_line: str  # the first line of text at the top of the content area, whitespace squashed
    opens_with: tuple[str, ...]  # structure types (Document, Part, ..., P, Table, Figure) of the topmost printed thing
    closes_with: tuple[str, ...]  # the same for the lowest printed thing


def variant_margins(variant: str) -> Margins:
    """The ``@page`` margins the variant's stylesheets set (the last one wins, as in CSS)."""
    found = None
    for sheet in VARIANTS[variant].stylesheets:
        css = re.sub(r"/\*.*?\*/", "", (ROOT / "styles" / sheet).read_text(encoding="utf-8"), flags=re.S)
        for rule in re.findall(r"@page\s*\{([^}]*)\}", css):
            value = re.search(r"(?<![-\w])margin\s*:\s*([^;}]+)", rule)
            if value:
                found = value.group(1)
    if found is None:
        raise ValueError(f"no @page margin in the stylesheets of {variant}")
    sides = [_points(part) for part in found.split()]
    top, right, bottom, left = {1: sides * 4, 2: sides * 2, 3: [*sides, sides[1]], 4: sides}[len(sides)]
    return Margins(top, right, bottom, left)


def _points(length: str) -> float:
    match = re.fullmatch(r"([\d.]+)([a-z]+)", length.strip())
    if match is None:
        raise ValueError(f"not a CSS length: {length!r}")
    return float(match.group(1)) * POINTS_PER[match.group(2)]


def measure_pages(data: bytes, margins: Margins, *, bridge: float = BRIDGE_PT) -> list[PageFill]:
    """Every page's fill and contents (see the module's docstring), in page order."""
    document = pypdfium2.PdfDocument(data)
    try:
        return [_measure(document[index], index + 1, margins, bridge) for index in range(len(document))]
    finally:
        document.close()


def _measure(page: pypdfium2.PdfPage, number: int, margins: Margins, bridge: float) -> PageFill:
    width, height = page.get_size()
    area = (margins.left, margins.bottom, width - margins.right, height - margins.top)
    structure = _structure_by_mcid(page)
    text_page = page.get_textpage()
    try:
        text_boxes = _inside((text_page.get_rect(i) for i in range(text_page.count_rects())), area)
        text = _squash(text_page.get_text_bounded(*area))
        first = max(text_boxes, key=lambda box: box[3], default=None)
        top_line = _squash(text_page.get_text_bounded(area[0], first[1], area[2], first[3])) if first else ""
    finally:
        text_page.close()
    objects = [(box, structure.get(mcid, ())) for box, mcid in _object_boxes(page, area)]
    covered = _covered([*text_boxes, *(box for box, _ in objects)], bridge)
    return PageFill(
        number=number,
        fill=min(covered / (area[3] - area[1]), 1.0),
        text=text,
        top_line=top_line,
        opens_with=_extreme(objects, lambda box: box[3]),
        closes_with=_extreme(objects, lambda box: -box[1]),
    )


def _squash(text: str) -> str:
    return " ".join(text.split())


def _inside(boxes, area: Box) -> list[Box]:
    """The boxes clipped to the content area; those wholly outside it dropped."""
    x0, y0, x1, y1 = area
    out = []
    for left, bottom, right, top in boxes:
        left, bottom, right, top = max(left, x0), max(bottom, y0), min(right, x1), min(top, y1)
        if right > left and top > bottom:
            out.append((left, bottom, right, top))
    return out


def _object_boxes(page: pypdfium2.PdfPage, area: Box) -> Iterator[tuple[Box, int]]:
    """Bounds (clipped to the content area) and marked-content id of each page object
    but the stamp's and the background's."""
    background = BACKGROUND_SHARE * (area[2] - area[0]) * (area[3] - area[1])
    for obj in page.get_objects(max_depth=1):
        if _is_stamp(obj):
            continue
        clipped = _inside([obj.get_bounds()], area)
        if not clipped:
            continue
        left, bottom, right, top = clipped[0]
        if obj.type == pdfium_raw.FPDF_PAGEOBJ_PATH and (right - left) * (top - bottom) >= background:
            continue
        yield clipped[0], pdfium_raw.FPDFPageObj_GetMarkedContentID(obj.raw)


def _is_stamp(obj: pypdfium2.PdfObject) -> bool:
    """Drawn inside the stamp's ``/Artifact <</Type /Pagination /Subtype /Footer>>`` sequence."""
    for index in range(pdfium_raw.FPDFPageObj_CountMarks(obj.raw)):
        mark = pdfium_raw.FPDFPageObj_GetMark(obj.raw, index)
        if _mark_string(pdfium_raw.FPDFPageObjMark_GetName, mark) != "Artifact":
            continue
        count = pdfium_raw.FPDFPageObjMark_CountParams(mark)
        keys = {_mark_string(pdfium_raw.FPDFPageObjMark_GetParamKey, mark, i) for i in range(count)}
        if {"Type", "Subtype"} <= keys:
            return True
    return False


def _mark_string(function: Callable, *arguments) -> str:
    """A mark's name or key: pdfium's ask-for-the-size-then-fill UTF-16 call."""
    size = ctypes.c_ulong()
    function(*arguments, None, 0, ctypes.byref(size))
    buffer = ctypes.create_string_buffer(size.value)
    function(*arguments, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), size.value, ctypes.byref(size))
    return buffer.raw.decode("utf-16-le").rstrip("\x00")


def _structure_by_mcid(page: pypdfium2.PdfPage) -> dict[int, tuple[str, ...]]:
    """For each marked-content id on the page, the types of its structure elements, root first."""
    tree = pdfium_raw.FPDF_StructTree_GetForPage(page.raw)
    found: dict[int, tuple[str, ...]] = {}
    if not tree:
        return found
    try:
        for index in range(pdfium_raw.FPDF_StructTree_CountChildren(tree)):
            _walk(pdfium_raw.FPDF_StructTree_GetChildAtIndex(tree, index), (), found)
    finally:
        pdfium_raw.FPDF_StructTree_Close(tree)
    return found


def _walk(element, above: tuple[str, ...], found: dict[int, tuple[str, ...]]) -> None:
    if not element:
        return
    chain = (*above, _element_type(element))
    for index in range(pdfium_raw.FPDF_StructElement_GetMarkedContentIdCount(element)):
        found[pdfium_raw.FPDF_StructElement_GetMarkedContentIdAtIndex(element, index)] = chain
    for index in range(pdfium_raw.FPDF_StructElement_CountChildren(element)):
        _walk(pdfium_raw.FPDF_StructElement_GetChildAtIndex(element, index), chain, found)


def _element_type(element) -> str:
    size = pdfium_raw.FPDF_StructElement_GetType(element, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium_raw.FPDF_StructElement_GetType(element, buffer, size)
    return buffer.raw.decode("utf-16-le").rstrip("\x00")


def _extreme(objects: list[tuple[Box, tuple[str, ...]]], height: Callable[[Box], float]) -> tuple[str, ...]:
    """The structure of the tagged object printed furthest in ``height``'s direction
    (the leftmost of those within `TOP_TOLERANCE_PT` of it)."""
    tagged = [(box, types) for box, types in objects if types]
    if not tagged:
        return ()
    most = max(height(box) for box, _ in tagged)
    level = [(box[0], types) for box, types in tagged if height(box) >= most - TOP_TOLERANCE_PT]
    return min(level, key=lambda item: item[0])[1]


def _covered(boxes: list[Box], bridge: float) -> float:
    """Height of the union of the boxes' vertical extents, gaps under ``bridge`` closed."""
    covered = 0.0
    start = end = None
    for low, high in sorted((box[1], box[3]) for box in boxes):
        if start is None or end is None or low > end + bridge:
            if start is not None and end is not None:
                covered += end - start
            start, end = low, high
        else:
            end = max(end, high)
    if start is not None and end is not None:
        covered += end - start
    return covered
