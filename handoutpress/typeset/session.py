"""Stage 3, typeset: HTML becomes a tagged PDF with WeasyPrint.

A `TypesetSession` is what one worker keeps between documents: the font
configuration (fontconfig's scan is the slow part), the raster images it has
read (`ImageCache`) and the head's stylesheets, parsed (`ParsedStylesheets`).
Whoever typesets many documents makes one session and passes it along (the
batch's worker session, the stamp's kits); `typeset` makes a fresh one for a
single document.

Two safety rules live here and in `handoutpress.typeset.fetcher`:

* WeasyPrint reads nothing but ``data:`` URLs and files inside the allowed
  folders (`make_fetcher`).
* Every warning WeasyPrint logs while rendering a document (an image it could
  not load, a URL it refused, CSS it did not understand) fails that document.
  WeasyPrint prefers to log and carry on; a patient handout with a silently
  missing picture or box is not acceptable.

What it relies on: WeasyPrint's public `HTML`, `CSS` and `FontConfiguration`,
its ``weasyprint`` logger, and the ``cache`` argument of ``HTML.render`` (a
mapping it files images in). WeasyPrint is imported lazily, so commands that
typeset nothing start fast.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from handoutpress.errors import Problem, RenderError
from handoutpress.typeset.fetcher import make_fetcher
from handoutpress.typeset.stylesheets import ParsedStylesheets, head_stylesheets

PDF_VARIANT = "pdf/ua-1"


class WarningCollector(logging.Handler):
    """Every warning WeasyPrint logs while it is attached, as text."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


class ImageCache(dict):
    """Raster images WeasyPrint has read from files, by URL, and the image data it files with them.

    Not kept:

    * a failure: WeasyPrint would answer the next document's request with it
      silently, and only the warning a failed load logs stops a handout with
      a missing picture;
    * an SVG image: it holds the layout of the document that first drew it
      (every computed style, megabytes), so keeping one keeps that document
      alive for the life of the worker. Reading a small SVG again is cheap;
    * anything from a ``data:`` URL: it is the document's own (its QR code),
      never asked for by the next one.
    """

    def __setitem__(self, key, value) -> None:
        from weasyprint.images import SVGImage

        if value is None or isinstance(value, SVGImage) or str(key).startswith("data:"):
            return
        super().__setitem__(key, value)


class TypesetSession:
    """Typesetting for one worker: the fonts, images and stylesheets kept between its documents.

    Not for two threads at once (WeasyPrint's font configuration is not);
    a process that typesets from several threads takes turns (the front desk
    holds a lock).
    """

    def __init__(self) -> None:
        self._font_config = None
        self.images = ImageCache()
        self.stylesheets = ParsedStylesheets()

    @property
    def font_config(self):
        """WeasyPrint's font configuration, made on first use."""
        if self._font_config is None:
            from weasyprint.text.fonts import FontConfiguration

            self._font_config = FontConfiguration()
        return self._font_config

    def forget_files(self) -> None:
        """Drop the images read from files (they may have changed); the fonts stay, and the
        stylesheets too, since they are kept by their text."""
        self.images = ImageCache()

    def prepared_stylesheets(self, html: str, fetcher, base_url: str, warnings: list[str]) -> tuple[str, list]:
        """``(html without its head's stylesheets, [CSS, ...])`` parsed once per session, or
        ``(html, [])`` when WeasyPrint is to parse them with the document."""
        found = head_stylesheets(html, fetcher, base_url)
        if found is None:
            return html, []
        kept, sources = found
        return kept, self.stylesheets.parsed(sources, fetcher, self.font_config, warnings)

    def typeset(
        self,
        html: str,
        *,
        base_url: Path,
        allowed_roots: Iterable[Path],
        what: str,
        tagged: bool = True,
        created: str | None = None,
        facts: dict | None = None,
    ) -> bytes:
        """Typeset ``html`` into PDF bytes; raise `RenderError` on any warning.

        ``what`` names the document in messages (the handout's file and variant).
        ``facts``, if given, receives ``pages``: the number of pages typeset.
        ``created`` (an ISO date) becomes the PDF's creation and modification date,
        so the same inputs always give the same bytes.
        """
        from weasyprint import HTML

        collector = WarningCollector()
        logger = logging.getLogger("weasyprint")
        logger.addHandler(collector)
        previous_level = logger.level
        logger.setLevel(logging.WARNING)
        try:
            if created:
                html = _with_dates(html, created)
            base = base_url.resolve().as_uri() + "/"
            fetcher = make_fetcher(allowed_roots)
            html, stylesheets = self.prepared_stylesheets(html, fetcher, base, collector.messages)
            document = HTML(string=html, base_url=base, url_fetcher=fetcher)
            options = {"pdf_variant": PDF_VARIANT} if tagged else {}
            rendered = document.render(font_config=self.font_config, cache=self.images, stylesheets=stylesheets, **options)
            if facts is not None:  # the batch needs the page count; reading it here saves parsing the PDF again
                facts["pages"] = len(rendered.pages)
            pdf = rendered.write_pdf(**options)
        except RenderError:
            raise
        except Exception as exc:  # WeasyPrint raises many kinds; the reader needs one line.
            raise RenderError(Problem(what, f"typesetting failed: {type(exc).__name__}: {exc}")) from None
        finally:
            logger.removeHandler(collector)
            logger.setLevel(previous_level)
        if collector.messages:
            first = collector.messages[0].splitlines()[0]
            more = f" (and {len(collector.messages) - 1} more)" if len(collector.messages) > 1 else ""
            raise RenderError(Problem(what, f"typesetter warning: {first}{more}"))
        return pdf


def _with_dates(html: str, created: str) -> str:
    """``html`` with ``created`` as its creation and modification date (WeasyPrint reads them from the head)."""
    return html.replace(
        "<head>",
        f'<head><meta name="dcterms.created" content="{created}"><meta name="dcterms.modified" content="{created}">',
        1,
    )


def typeset(
    html: str,
    *,
    base_url: Path,
    allowed_roots: Iterable[Path],
    what: str,
    tagged: bool = True,
    created: str | None = None,
    facts: dict | None = None,
) -> bytes:
    """`TypesetSession.typeset` in a fresh session: one document, nothing kept afterwards."""
    return TypesetSession().typeset(
        html, base_url=base_url, allowed_roots=allowed_roots, what=what, tagged=tagged, created=created, facts=facts
    )
