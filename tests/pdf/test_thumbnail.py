"""pdf.thumbnail: the cheaper page-1 thumbnail the catalogue shows still looks like the page."""

from __future__ import annotations

import io

import pytest


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(3)


def test_thumbnail_is_a_small_palette_png_that_looks_like_the_page(stamped):
    """The thumbnail is 240 px wide, 64 colours at most, and within a few levels of pdfium's full-colour render."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageStat

    from handoutpress.pdf.thumbnail import thumbnail_png

    png = thumbnail_png(stamped)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == 240 and image.mode == "P"
    assert len(image.getcolors(256)) <= 64
    document = pdfium.PdfDocument(stamped)
    page = document[0]
    full = page.render(scale=240 / page.get_width(), may_draw_forms=False).to_pil().convert("RGB")
    page.close()
    document.close()
    assert full.size == image.size
    difference = ImageStat.Stat(ImageChops.difference(full, image.convert("RGB"))).mean
    assert max(difference) < 4, difference
