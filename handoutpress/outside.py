"""Stamping a PDF the clinic did not make (a manufacturer's medication guide).

The same stamp as our own handouts, laid over each page of someone else's
PDF. The input is never modified; the output is written atomically.
"""

from __future__ import annotations

import io
from pathlib import Path

from .brand import load_brand
from .content import ReviewDate, display_path
from .errors import PdfError, Problem
from .publish import atomic_write
from .render import Project, load_labels
from .stamp import StampSpec, apply_stamp, stamp_pdf
from .variants import VARIANTS

MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_PAGES = 500


def stamp_outside_pdf(
    *,
    source: Path,
    target: Path,
    root: Path,
    brand_dir: Path,
    reviewed: ReviewDate | None,
    next_review: ReviewDate | None,
    language: str = "en",
) -> None:
    from pypdf import PdfReader

    shown = display_path(source, root)
    if not source.is_file():
        raise PdfError(Problem(shown, "no such file"))
    if target.resolve() == source.resolve():
        raise PdfError(Problem(shown, "--out must be a different file; the input is never overwritten"))
    if reviewed and next_review and next_review.first_day <= reviewed.first_day:
        raise PdfError(Problem(shown, f"--next-review {next_review} must be after --reviewed {reviewed}"))
    size = source.stat().st_size
    if size > MAX_INPUT_BYTES:
        raise PdfError(Problem(shown, f"PDF is too large ({size:,} bytes; the limit is {MAX_INPUT_BYTES:,})"))
    data = source.read_bytes()
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PdfError(Problem(shown, "PDF is encrypted; ask for an unprotected copy"))
        pages = reader.pages
        count = len(pages)
        box = pages[0].mediabox
        page_size = (float(box.width), float(box.height))
    except PdfError:
        raise
    except Exception as exc:
        raise PdfError(Problem(shown, f"not a readable PDF: {type(exc).__name__}: {exc}")) from None
    if count > MAX_PAGES:
        raise PdfError(Problem(shown, f"PDF has {count} pages; the limit is {MAX_PAGES}"))
    project = Project(root)
    brand = load_brand(brand_dir, root)
    brand.wording(language)
    load_labels(project.labels, language)
    variant = VARIANTS["standard"]
    spec = StampSpec(brand.sha256, language, variant.name, count, reviewed, next_review, None, page_size)
    stamped = apply_stamp(data, stamp_pdf(spec, brand=brand, variant=variant, project=project), what=shown)
    atomic_write(target, stamped)
