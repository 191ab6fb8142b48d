"""The print list: several of the catalogue's PDFs joined, in the order staff chose, into one job.

Each document keeps its own pages as they were built: its stamp band and its
"Page n of N" are in the page content, so they travel with the page. The
joined PDF's outline has one entry per document (its title and version), so
a reader's sidebar shows where each begins. Nothing is written to disk.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from handoutpress.publish import WEB_VARIANT

VARIANT_NAMES = {"standard": "standard", "large-print": "large print", "faq-sheet": "FAQ sheet"}


def document_label(entry: dict) -> str:
    """How a document is named in the joined PDF's outline: "Title (large print, es)"."""
    variant = str(entry.get("variant", ""))
    return f"{entry.get('title') or entry.get('path')} ({VARIANT_NAMES.get(variant, variant)}, {entry.get('language', '')})"


def join_pdfs(documents: Sequence[tuple[str, Path]], title: str = "Print list") -> bytes:
    """The PDFs at the paths of ``documents`` ((outline label, file)), one after another, as one PDF."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for label, path in documents:
        writer.append(PdfReader(path), outline_item=label, import_outline=False)
    writer.add_metadata({"/Title": title, "/Creator": "Handout Press"})
    writer.page_mode = "/UseOutlines"
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def printable(entries: dict[str, dict]) -> set[str]:
    """The paths a print list may name: the catalogue's PDFs."""
    return {p for p, e in entries.items() if e.get("variant") != WEB_VARIANT and p.endswith(".pdf")}
