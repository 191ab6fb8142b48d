"""Stamping a PDF the clinic did not make (a manufacturer's medication guide).

The same stamp as our own handouts, laid over each page of someone else's
PDF, as a pagination artifact, upright as the reader sees the page:

* Every page is measured as it is displayed: its crop box, turned by its
  ``/Rotate``. Pages of each displayed size get a stamp typeset for that size
  (letter, A4, landscape and mixed sizes in one file all work).
* The lowest ink on the page (text, images, paths; a page-sized background
  fill does not count) is found with pdfium. Where it sits above the band, the
  page is left as it is. Where it does not, the page's own content is shrunk
  about the top centre of the displayed page, just enough to clear the band
  (a full letter page shrinks to about 93 %), and links move with it.
* The input is read under limits (size, pages, page sizes, and a wall-clock
  limit on reading and writing), so a hostile or broken file is refused with
  one line, never a traceback or a hang. The input is never modified, and an
  ``--out`` that is the input (the same path, a symlink or a hard link to it)
  is refused. The output is written atomically.

Outside PDFs are not tagged, so ``verify --outside``
(`handoutpress.verify.outside.audit_outside`) drops the rules the clinic cannot
make true of someone else's file. The stamp command sets ``/Lang`` from
``--language`` when the file has none. The caller says how the stamped file is
written (``write``: the command writes it atomically).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pypdf.generic import BooleanObject, DictionaryObject, NameObject, TextStringObject

from handoutpress.errors import PdfError, Problem
from handoutpress.load.brand import load_brand
from handoutpress.load.content import ReviewDate, display_path
from handoutpress.load.project import Project
from handoutpress.pdf.geometry import (
    IDENTITY,
    Box,
    Matrix,
    display_matrix,
    invert,
    multiply,
    scale_of,
    shrink_about,
    transformed_box,
)
from handoutpress.pdf.update import IncrementalUpdate
from handoutpress.render.html import Renderer
from handoutpress.render.variants import VARIANTS
from handoutpress.stamp.apply import Placement, apply_stamp
from handoutpress.stamp.kit import StampKits, StampSpec
from handoutpress.typeset.session import TypesetSession

MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_PAGES = 300
MAX_PAGE_SIZES = 8  # distinct displayed page sizes (a stamp is typeset for each)
TIME_LIMIT = 5.0  # seconds for reading and measuring the input, and again for writing it
GAP = 4.0  # points kept free between the content's lowest ink and the band
MIN_SCALE = 0.75  # a page that would need more shrinking than this is too small for the stamp
MIN_SIDE = 144.0  # points: pages smaller than 2 inches cannot carry the band


@dataclass(frozen=True)
class PageGeometry:
    """One page as the reader sees it."""

    width: float  # displayed width and height, in points
    height: float
    to_user: Matrix  # displayed (upright) coordinates -> the page's user space
    lowest_ink: float | None  # displayed y of the lowest ink; None for a blank page

    @property
    def size_key(self) -> tuple[float, float]:
        return (round(self.width, 2), round(self.height, 2))


def stamp_outside_pdf(
    *,
    source: Path,
    target: Path,
    root: Path,
    brand_dir: Path,
    reviewed: ReviewDate | None,
    next_review: ReviewDate | None,
    write: Callable[[Path, bytes], None],
    language: str | None = None,
) -> str:
    """Stamp ``source`` into ``target`` (written with ``write``); returns what was done, in one line."""
    shown = display_path(source, root)

    def refuse(message: str):
        return PdfError(Problem(shown, message))

    if not source.is_file():
        raise refuse("no such file")
    if _same_file(source, target):
        raise refuse("--out must be a different file; the input is never overwritten")
    if (reviewed is None) != (next_review is None):
        raise refuse("give both --reviewed and --next-review, or neither")
    if reviewed and next_review and next_review.first_day <= reviewed.first_day:
        raise refuse(f"--next-review {next_review} must be after --reviewed {reviewed}")
    size = source.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise refuse(f"PDF is too large ({size:,} bytes; the limit is {MAX_INPUT_BYTES:,})")
    data = source.read_bytes()
    if b"%PDF-" not in data[:1024]:
        raise refuse("not a PDF (no %PDF- header)")

    renderer = Renderer(Project(root))  # one command, one document: nothing to keep for later
    brand = load_brand(brand_dir, root)
    pages, own_language = _within_time(lambda: measure_pages(data, shown), shown, "reading")
    # The stamp speaks the document's language: verify reads /Lang to check it.
    own_base = own_language.split("-")[0].lower() if own_language else None
    if language is None:
        language = own_base or "en"
    elif own_base and own_base != language.split("-")[0].lower():
        raise refuse(f"the PDF is in {own_language!r} (/Lang); a stamp in {language!r} would not match it")
    brand.wording(language)
    renderer.labels.of(language)
    variant = VARIANTS["standard"]
    sizes = sorted({g.size_key for g in pages}, key=lambda s: (s[0] * s[1], s))
    if len(sizes) > MAX_PAGE_SIZES:
        raise refuse(f"PDF has {len(sizes)} different page sizes; the limit is {MAX_PAGE_SIZES}")
    stamps, band_tops = [], {}
    kits = StampKits(TypesetSession())
    for key in sizes:
        spec = StampSpec(brand.sha256, language, variant.name, reviewed, next_review, False, key, len(str(len(pages))))
        kit = kits.kit(spec, brand=brand, variant=variant, renderer=renderer)
        stamps.append(kit)
        band_tops[key] = band_top(kit.pdf)
    placements = [
        placement_for(g, band_tops[g.size_key], sizes.index(g.size_key), number, shown) for number, g in enumerate(pages, start=1)
    ]

    def finish(update: IncrementalUpdate) -> None:
        catalog = update.catalog
        if not str(catalog.get("/Lang", "") or ""):
            catalog[NameObject("/Lang")] = TextStringObject(language)
        if (update.metadata or {}).get("/Title"):
            prefs = catalog.get("/ViewerPreferences")
            prefs = prefs.get_object() if prefs is not None else DictionaryObject()
            prefs[NameObject("/DisplayDocTitle")] = BooleanObject(True)
            catalog[NameObject("/ViewerPreferences")] = prefs

    stamped = _within_time(lambda: apply_stamp(data, stamps, what=shown, placements=placements, finish=finish), shown, "stamping")
    write(target, stamped)
    shrunk = [f"{n} to {scale_of(p.content):.0%}" for n, p in enumerate(placements, start=1) if p.content != IDENTITY]
    summary = f"stamped {display_path(target, root)} ({len(pages)} page{'s' if len(pages) != 1 else ''}"
    return summary + (f"; content shrunk to clear the band: page {', page '.join(shrunk)})" if shrunk else ")")


def _same_file(source: Path, target: Path) -> bool:
    """Is ``target`` the input itself: the same path, a symlink to it, or a hard link to it?"""
    if source.resolve() == target.resolve():
        return True
    try:
        return os.path.samefile(source, target)
    except OSError:  # target does not exist yet
        return False


def _within_time(job, shown: str, doing: str):
    """Run ``job`` with a wall-clock limit.

    The job runs in a daemon thread; if it is not done in time the command
    refuses the file at once (the thread is abandoned and dies with the
    process), so even a file that makes pdfium or pypdf loop cannot hang it.
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = job()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=f"outside-pdf-{doing}", daemon=True)
    worker.start()
    worker.join(TIME_LIMIT)
    if worker.is_alive():
        raise PdfError(Problem(shown, f"PDF took more than {TIME_LIMIT:g} s to {doing.removesuffix('ing')}; refused"))
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, PdfError):
            raise error
        raise PdfError(Problem(shown, f"not a readable PDF: {type(error).__name__}: {error}")) from None
    return outcome["value"]


# ---------------------------------------------------------------------------
# Measuring pages


def measure_pages(data: bytes, shown: str) -> tuple[list[PageGeometry], str | None]:
    """Each page's displayed size, orientation and lowest ink; the document's /Lang."""
    import pypdfium2
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        raise PdfError(Problem(shown, "PDF is encrypted; ask for an unprotected copy"))
    count = len(reader.pages)
    if count == 0:
        raise PdfError(Problem(shown, "PDF has no pages"))
    if count > MAX_PAGES:
        raise PdfError(Problem(shown, f"PDF has {count} pages; the limit is {MAX_PAGES}"))
    document = pypdfium2.PdfDocument(data)
    try:
        if len(document) != count:
            raise PdfError(Problem(shown, f"PDF is damaged: its page tree lists {count} pages, pdfium finds {len(document)}"))
        out = []
        for number, page in enumerate(reader.pages, start=1):
            box = _visible_box(page)
            rotate = int(page.get("/Rotate", 0) or 0) % 360
            if rotate % 90:
                raise PdfError(Problem(shown, f"page {number}: /Rotate {rotate} is not a multiple of 90"))
            to_user, width, height = display_matrix(box, rotate)
            if min(width, height) < MIN_SIDE:
                raise PdfError(Problem(shown, f"page {number}: {width:g} x {height:g} pt is too small for the stamp"))
            ink = _ink_boxes(document[number - 1], box)
            lowest = None
            to_display = invert(to_user)
            for box in ink:
                bottom = transformed_box(to_display, box)[1]
                lowest = bottom if lowest is None else min(lowest, bottom)
            out.append(PageGeometry(width, height, to_user, lowest))
        catalog = cast(DictionaryObject, reader.trailer["/Root"].get_object())
        own_language = str(catalog.get("/Lang", "") or "").strip() or None
        return out, own_language
    finally:
        document.close()


def _visible_box(page) -> Box:
    """The crop box clipped to the media box: what a viewer shows."""
    media = [float(v) for v in page.mediabox]
    crop = [float(v) for v in page.cropbox]
    mx0, my0, mx1, my1 = min(media[0], media[2]), min(media[1], media[3]), max(media[0], media[2]), max(media[1], media[3])
    cx0, cy0, cx1, cy1 = min(crop[0], crop[2]), min(crop[1], crop[3]), max(crop[0], crop[2]), max(crop[1], crop[3])
    box = (max(mx0, cx0), max(my0, cy0), min(mx1, cx1), min(my1, cy1))
    return box if box[2] > box[0] and box[3] > box[1] else (mx0, my0, mx1, my1)


def _ink_boxes(pdfium_page, box: Box) -> list[Box]:
    """Bounds (user space) of what the page draws, less page-sized background fills."""
    import pypdfium2.raw as raw

    x0, y0, x1, y1 = box
    area = (x1 - x0) * (y1 - y0)
    out = []
    for obj in pdfium_page.get_objects(max_depth=1):
        left, bottom, right, top = obj.get_bounds()
        if right <= x0 or left >= x1 or top <= y0 or bottom >= y1:
            continue  # entirely off the visible page
        left, bottom, right, top = max(left, x0), max(bottom, y0), min(right, x1), min(top, y1)
        if obj.type == raw.FPDF_PAGEOBJ_PATH and (right - left) * (top - bottom) >= 0.9 * area:
            continue  # a background fill or a page frame, not content
        out.append((left, bottom, right, top))
    return out


def band_top(stamp: bytes) -> float:
    """Height above the page's foot of the top of the stamp's band (its page 0)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(stamp)
    try:
        tops = [obj.get_bounds()[3] for obj in document[0].get_objects(max_depth=1)]
    finally:
        document.close()
    return max(tops) if tops else 0.0


def placement_for(page: PageGeometry, top: float, stamp_index: int, number: int, shown: str) -> Placement:
    """The stamp upright at the foot of the displayed page; the content shrunk if it reaches the band."""
    clear = top + GAP
    if page.lowest_ink is None or page.lowest_ink >= clear:
        return Placement(stamp=page.to_user, content=IDENTITY, stamp_index=stamp_index)
    lowest = max(page.lowest_ink, 0.0)
    scale = (page.height - clear) / (page.height - lowest)
    if scale < MIN_SCALE:
        raise PdfError(Problem(shown, f"page {number}: the page is too small to make room for the stamp"))
    # In displayed coordinates: scale about the top centre.
    shrink = shrink_about(page.width / 2, page.height, scale)
    to_display = invert(page.to_user)
    content = multiply(multiply(to_display, shrink), page.to_user)
    return Placement(stamp=page.to_user, content=content, stamp_index=stamp_index)
