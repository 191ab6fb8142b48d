"""Stage 4, stamp: the disclaimer, crisis lines, review months, page number and
edition go on every page, after typesetting, as a pagination artifact.

The band comes from a kit typeset once per worker (`handoutpress.stamp.kit`):
stamping a document typesets nothing. The band becomes one form XObject
shared by every page; the edition, the same on every page, one more; and each
page's own content ends with a few bytes writing its page number into the
band's slot. All of it is drawn inside
``/Artifact <</Type /Pagination /Subtype /Footer>> BDC ... EMC`` so screen
readers skip it while every printed page carries it.

Keeping the file small (it is emailed): the stamp is appended as an
incremental update (`handoutpress.pdf.update`), so nothing WeasyPrint wrote
(structure tree, outline, links, metadata, object streams) is rewritten.
Where the document already embeds the stamp's font with every glyph the stamp
draws (same outlines, same widths, same Unicode), the stamp draws with the
document's font instead of embedding a second copy. Where it lacks a few of
them (a middle dot, a digit its text never used, or a whole weight), only
those glyphs are embedded, as a small supplement font, and the band's runs
switch to it for them (`_stamp_resources`, `handoutpress.stamp.rewrite`): the
pages look and read the same.

Outside PDFs (`outside.py`) may have any page size and a ``/Rotate``: each
page gets a `Placement`, the matrix that sets the stamp upright as the reader
sees the page, and, when the page leaves no free band, a slight shrink of the
page's own content (links move with it).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    PdfObject,
    RectangleObject,
)

from handoutpress.errors import PdfError, Problem
from handoutpress.pdf.fonts import base_name, covers, document_fonts, embed_supplement, present_codes
from handoutpress.pdf.geometry import IDENTITY, Matrix, apply, cm_operator, transformed_box
from handoutpress.pdf.reader import ReaderPrefix
from handoutpress.pdf.update import IncrementalUpdate, flate_stream, serialized, stored_stream
from handoutpress.stamp.kit import StampKit
from handoutpress.stamp.rewrite import FontUse, Plan, rewrite

STAMP_XOBJECT = NameObject("/HPStamp")
EDITION_XOBJECT = NameObject("/HPEdition")
ARTIFACT_OPEN = b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC\n"


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
class StampRecord:
    """What `apply_stamp` knows of the file it wrote, for the audit that reads it next:
    ``prefix``, the parsed cross-reference of the original the update follows."""

    prefix: ReaderPrefix | None = None


@dataclass
class _KitStamp:
    """What one kit puts on the pages that use it: its forms, its fonts and their page names, its plan."""

    forms: dict[NameObject, IndirectObject]
    fonts: DictionaryObject
    renamed: dict[str, NameObject]
    plan: Plan


def apply_stamp(
    document: bytes,
    kit: StampKit | list[StampKit],
    *,
    what: str,
    edition: str | None = None,
    placements: list[Placement] | None = None,
    finish: Callable[[IncrementalUpdate], None] | None = None,
    record: StampRecord | None = None,
) -> bytes:
    """Lay the stamp over every page of ``document`` as a pagination artifact.

    ``kit`` is one kit (or one per page size, chosen per page by
    ``placements``); ``edition`` goes into the edition slot of every page.
    ``finish(update)``, if given, may change the catalog (``update.catalog``)
    before writing; ``update.metadata`` is the document information.
    ``record``, if given, receives what the audit of the stamped file may reuse.
    """
    kits = [kit] if isinstance(kit, StampKit) else list(kit)
    update, pages = _open(document, what)
    count = len(pages)
    placements = placements or [Placement()] * count
    for one in kits:
        if count >= 10**one.digits:
            raise PdfError(Problem(what, f"a stamp for up to {10**one.digits - 1} pages cannot number {count} pages"))
    # What each page's slots say. The edition is the same on every page: one small form per kit draws it.
    try:
        editions = [one.slots(None, count, edition) for one in kits]
        slots = [kits[place.stamp_index].slots(number, count, None) for number, place in enumerate(placements, 1)]
    except ValueError as exc:
        raise PdfError(Problem(what, str(exc))) from None
    prepared = [
        _prepare_kit(one, index, update, pages, editions[index], _codes_drawn(one, index, editions[index], placements, slots))
        for index, one in enumerate(kits)
    ]
    _stamp_pages(update, pages, placements, [content for content, _ in slots], prepared)
    if finish is not None:
        _finish(update, finish)
    written = update.write()
    if record is not None:
        record.prefix = update.reader_prefix()
    return written


def _open(document: bytes, what: str) -> tuple[IncrementalUpdate, list[Any]]:
    """The update to write the stamp in, and the document's pages; a broken file is one `PdfError`."""
    try:
        update = IncrementalUpdate(document)
        return update, list(update.reader.pages)
    except PdfError:
        raise
    except Exception as exc:  # pypdf raises several kinds for a broken file
        raise PdfError(Problem(what, f"cannot read PDF to stamp: {exc}")) from None


def _codes_drawn(
    kit: StampKit,
    index: int,
    edition: tuple[bytes, dict[str, set[int]]],
    placements: list[Placement],
    slots: list[tuple[bytes, dict[str, set[int]]]],
) -> dict[str, set[int]]:
    """The glyph codes the stamp draws with kit number ``index``, per font: the band's, the edition's
    and the page numbers' on the pages that take this kit."""
    used = {name: set(codes) for name, codes in kit.band_glyphs.items()}
    for place, (_, codes) in [(Placement(stamp_index=index), edition), *zip(placements, slots, strict=True)]:
        if place.stamp_index == index:
            for name, more in codes.items():
                used.setdefault(name, set()).update(more)
    return used


def _prepare_kit(
    kit: StampKit,
    index: int,
    update: IncrementalUpdate,
    pages: list[Any],
    edition: tuple[bytes, dict[str, set[int]]],
    used: dict[str, set[int]],
) -> _KitStamp:
    """The kit's resources (fonts shared with the document where its own font covers the stamp)
    and its forms (the band, compressed once per kit and plan, and the edition) added to ``update``."""
    resources, fonts, plan = _stamp_resources(kit, update, pages, used)
    suffix = str(index) if index else ""
    box = kit.band_form[1]
    forms = {NameObject(STAMP_XOBJECT + suffix): update.add(_form(kit.band_for(plan), box, resources))}
    if edition[0]:
        edition_data = zlib.compress(rewrite(edition[0], plan), 9)
        forms[NameObject(EDITION_XOBJECT + suffix)] = update.add(_form(edition_data, box, resources))
    # On the pages, the stamp's fonts go by names of their own (kits may share font names).
    renamed = {str(name): NameObject(f"/HP{index}{str(name)[1:]}") for name in fonts}
    return _KitStamp(forms, fonts, renamed, plan)


def _stamp_pages(
    update: IncrementalUpdate,
    pages: list[Any],
    placements: list[Placement],
    numbers: list[bytes],
    prepared: list[_KitStamp],
) -> None:
    """Each page's contents wrapped: its own content in q/Q (shrunk if its placement says so),
    then the stamp's forms and its page number; the stamp's resources added to the page's."""
    before = update.add(flate_stream(b"q\n"))
    shared_resources: dict[tuple[int, str], DictionaryObject] = {}
    for page, place, number in zip(pages, placements, numbers, strict=True):
        stamp = prepared[place.stamp_index]
        _resource_for(page, "/XObject", shared_resources, update).update(stamp.forms)
        page_fonts = _resource_for(page, "/Font", shared_resources, update)
        for name, ref in stamp.fonts.items():
            page_fonts[stamp.renamed[str(name)]] = ref
        drawn = rewrite(number, stamp.plan, stamp.renamed)
        if place.content != IDENTITY:
            opening = update.add(flate_stream(b"q\n" + cm_operator(place.content)))
            _move_annotations(page, place.content, update)
        else:
            opening = before
        after = update.add(flate_stream(_after_stream(place.stamp, list(stamp.forms), drawn)))
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


def _finish(update: IncrementalUpdate, finish: Callable[[IncrementalUpdate], None]) -> None:
    """Let ``finish`` change the catalog; it is written again only if it changed."""
    catalog = update.catalog
    before_finish = serialized(catalog)
    finish(update)
    if serialized(catalog) != before_finish:
        update.changed(update.catalog_reference)


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
        + (cm_operator(matrix) if matrix != IDENTITY else b"")
        + b" ".join(name.encode() + b" Do" for name in forms)
        + b"\n"
        + numbers
        + b"Q\nEMC\n"
    )


def _form(data: bytes, box: list[float], resources: PdfObject):
    """A form XObject drawing ``data`` (content already compressed with Flate) over ``box``."""
    return stored_stream(
        data,
        {
            "/Type": NameObject("/XObject"),
            "/Subtype": NameObject("/Form"),
            "/BBox": RectangleObject(box),
            "/Resources": resources,
        },
    )


def _resource_for(page, key: str, shared: dict[tuple[int, str], DictionaryObject], update: IncrementalUpdate) -> DictionaryObject:
    """The dictionary ``key`` (/XObject, /Font) of the page's resources, ready for the stamp's entries.

    WeasyPrint gives every page the same resources object; it is updated once
    (the stamp's fonts and band added to it) instead of copied into every
    page, which would cost a few hundred bytes a page.
    """
    raw = page.raw_get("/Resources") if "/Resources" in page else _inherited_resources(page)
    if isinstance(raw, IndirectObject):
        if (raw.idnum, key) not in shared:
            resources = cast(DictionaryObject, raw.get_object())
            existing = resources.get(key)
            shared[raw.idnum, key] = DictionaryObject(existing.get_object() if existing is not None else {})
            resources[NameObject(key)] = shared[raw.idnum, key]
            update.changed(raw)
        return shared[raw.idnum, key]
    resources = DictionaryObject(cast(DictionaryObject, raw.get_object()) if raw is not None else {})
    existing = resources.get(key)
    entries = DictionaryObject(existing.get_object() if existing is not None else {})
    resources[NameObject(key)] = entries
    page[NameObject("/Resources")] = resources
    return entries


def _inherited_resources(page) -> DictionaryObject | None:
    """Resources a page takes from its parents in the page tree (outside PDFs do this)."""
    node, seen = page.get("/Parent"), 0
    while node is not None and seen < 64:
        node = node.get_object()
        if "/Resources" in node:
            # A copy for this page: the parent's dictionary is shared with its other pages.
            return DictionaryObject(node["/Resources"].get_object())
        node, seen = node.get("/Parent"), seen + 1
    return None


def _move_annotations(page, matrix: Matrix, update: IncrementalUpdate) -> None:
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
        moved_box = transformed_box(matrix, (x0, y0, x1, y1))
        annot[NameObject("/Rect")] = ArrayObject(FloatObject(round(v, 3)) for v in moved_box)
        quads = annot.get("/QuadPoints")
        if quads is not None:
            values = [float(v) for v in quads.get_object()]
            moved: list[float] = []
            for i in range(0, len(values) - 1, 2):
                moved.extend(apply(matrix, values[i], values[i + 1]))
            annot[NameObject("/QuadPoints")] = ArrayObject(FloatObject(round(v, 3)) for v in moved)


# ---------------------------------------------------------------------------
# Resources: reuse the document's fonts where they cover the stamp


def _stamp_resources(
    kit: StampKit, update: IncrementalUpdate, pages: list[Any], used: dict[str, set[int]]
) -> tuple[IndirectObject, DictionaryObject, Plan]:
    """The kit's resource dictionary, added to ``update`` once, its fonts, and the plan for them.

    ``used``: the codes the stamp draws, per font of the kit. Each font is, in
    order of preference: the document's own font, when it draws every one of
    those glyphs as the kit does; the document's font for the glyphs it has,
    plus a small supplement for the rest (a few glyphs the handout's text
    never used, a middle dot or a digit); a small font with just the glyphs
    the stamp draws; the kit's font, copied whole. The plan (font -> `FontUse`)
    says where `rewrite` moves glyphs; it is empty when nothing moves.
    """
    source = cast(DictionaryObject, cast(Any, kit.reader.pages[0]["/Resources"]).get_object())
    body_fonts = document_fonts(pages)
    fonts = DictionaryObject()
    plan: Plan = {}
    stamp_fonts = source.get("/Font")
    for name, ref in (cast(DictionaryObject, stamp_fonts.get_object()) if stamp_fonts else DictionaryObject()).items():
        if name not in used:
            continue  # the kit's alphabet pages need it, the stamp does not
        font = ref.get_object()
        match = body_fonts.get(base_name(font))
        codes = used[name]
        body = cast(DictionaryObject, match.get_object()) if match is not None else None
        present = present_codes(body, codes) if body is not None else set()
        if present and not covers(cast(DictionaryObject, body), font, kit.faces[name], present):
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
        fonts[supplement.name] = embed_supplement(update, font, supplement)
        plan[name] = FontUse(supplement.name, supplement.codes, rename=not present)
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
