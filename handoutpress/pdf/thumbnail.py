"""Page 1 of a PDF as a small PNG: the front desk's preview of a handout.

pdfium draws the page (it reads any PDF, ours or not, and needs no fonts of
its own); Pillow reduces it to a small palette. Where the picture is kept is
publishing's business (`publish.thumbnail_path`), not this module's.
"""

from __future__ import annotations

import io

THUMB_WIDTH_PX = 240  # shown at 120 CSS pixels: sharp on high-density screens


def thumbnail_png(pdf: bytes, width_px: int = THUMB_WIDTH_PX) -> bytes:
    """Page 1 of ``pdf`` as a PNG ``width_px`` wide (pdfium renders it)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        page = document[0]
        try:
            width_pt = page.get_width()
            bitmap = page.render(scale=width_px / width_pt, may_draw_forms=False)
            image = bitmap.to_pil()
        finally:
            page.close()
    finally:
        document.close()
    from PIL import Image

    # 64 colours look the same at this size and take a third of the bytes. The
    # fast octree palette and zlib's default level take an eighth of the time of a
    # median-cut palette with an optimised PNG, and give smaller files.
    buffer = io.BytesIO()
    image.convert("RGB").quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
