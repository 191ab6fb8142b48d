"""Output variants as data: which template, which styles, how big the stamp is.

Adding a variant is adding an entry to `VARIANTS`; no stage has a branch per
variant beyond reading these fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handoutpress.load.content import Handout


@dataclass(frozen=True)
class StampBand:
    """Where the stamp sits on the page; the variant's CSS keeps this area free."""

    font_size: str  # CSS length
    bottom: str  # distance from the page's bottom edge to the band's bottom
    side: str  # left and right inset
    height_in: float  # the band's full height from the page edge, in inches (<= bottom margin)


@dataclass(frozen=True)
class Variant:
    name: str  # as in the manifest: standard, large-print, faq-sheet
    template: str
    stylesheets: tuple[str, ...]
    band: StampBand
    file_suffix: str  # appended to the file name a patient sees
    bottom_margin_in: float  # the page's bottom margin, in inches: must cover the band
    applies: Callable[[Handout], bool]
    faq_template: str | None = None  # used instead of `template` for kind: faq
    # What follows the title on page 1, in order. The crisis box must land on
    # page 1 whatever the type size, so large print puts it first.
    page_one: tuple[str, ...] = ("takeaways", "crisis")
    qr_place: str = "title"  # "title" (beside the title) or "closing" (with the contact details)


STANDARD_BAND = StampBand(font_size="8.5pt", bottom="0.4in", side="0.75in", height_in=0.95)
LARGE_BAND = StampBand(font_size="18pt", bottom="0.45in", side="1in", height_in=2.05)

VARIANTS: dict[str, Variant] = {
    "standard": Variant(
        name="standard",
        template="handout.html",
        faq_template="faq.html",
        stylesheets=("handout.css",),
        band=STANDARD_BAND,
        file_suffix="",
        bottom_margin_in=1.2,
        applies=lambda h: True,
    ),
    "large-print": Variant(
        name="large-print",
        template="handout.html",
        faq_template="faq.html",
        stylesheets=("handout.css", "large-print.css"),
        band=LARGE_BAND,
        file_suffix="Large-Print",
        bottom_margin_in=2.2,
        page_one=("crisis", "takeaways"),
        qr_place="closing",
        applies=lambda h: True,
    ),
    "faq-sheet": Variant(
        name="faq-sheet",
        template="faq.html",
        stylesheets=("handout.css",),
        band=STANDARD_BAND,
        file_suffix="FAQ",
        bottom_margin_in=1.2,
        applies=lambda h: h.kind == "handout" and bool(h.faq),
    ),
}


def template_for(variant: Variant, handout: Handout) -> str:
    if handout.kind == "faq" and variant.faq_template:
        return variant.faq_template
    return variant.template


PAPER = {
    # CSS size keyword, width and height in points
    "letter": ("letter", 612.0, 792.0),
    "A4": ("A4", 595.28, 841.89),
}
