"""Stage 3, typeset: HTML becomes a tagged PDF with WeasyPrint.

Two safety rules live here:

* `ProjectFetcher` is the only way WeasyPrint reads anything. It serves
  ``data:`` URLs and files inside the allowed folders (resolved, symlinks
  followed and checked), and refuses everything else: other files, ``http``,
  ``ftp``... Nothing outside the project is read and no network is contacted.
* Every warning WeasyPrint logs while rendering a document (an image it could
  not load, a URL it refused, CSS it did not understand) fails that document.
  WeasyPrint prefers to log and carry on; a patient handout with a silently
  missing picture or box is not acceptable.

WeasyPrint itself is imported lazily, so commands that typeset nothing start fast.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import Problem, RenderError

PDF_VARIANT = "pdf/ua-1"

_local = threading.local()


class _WarningCollector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.messages.append(record.getMessage())


def _font_config():
    """One FontConfiguration per process: fontconfig's scan is the slow part."""
    if getattr(_local, "font_config", None) is None:
        from weasyprint.text.fonts import FontConfiguration

        _local.font_config = FontConfiguration()
    return _local.font_config


class _ImageCache(dict):
    """Images WeasyPrint has read, by URL. A failure is never kept: WeasyPrint
    would answer the next document's request with it silently, and only the
    warning a failed load logs stops a handout with a missing picture."""

    def __setitem__(self, url, image) -> None:
        if image is not None:
            super().__setitem__(url, image)


@lru_cache(maxsize=1)
def _image_cache() -> _ImageCache:
    """Images WeasyPrint has read (the logo, assets), kept for the next document in this process.

    `build.forget_cached_inputs` empties it (with every other ``lru_cache``)
    when the files behind those URLs change.
    """
    return _ImageCache()


def make_fetcher(allowed_roots: Iterable[Path]):
    """A WeasyPrint URL fetcher that reads only ``data:`` URLs and allowed files."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = tuple(Path(r).resolve() for r in allowed_roots)

    class ProjectFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return _data_url(url, URLFetcherResponse)
            if scheme != "file":
                raise ValueError(f"blocked {scheme or 'relative'} URL {url!r}: only project files are read")
            path = Path(unquote(urlsplit(url).path)).resolve()
            if not any(path.is_relative_to(root) for root in roots):
                raise ValueError(f"blocked file outside the project's assets: {path.name}")
            if not path.is_file():
                raise ValueError(f"file not found: {path.name}")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".css":
                mime = "text/css"
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

    return ProjectFetcher()


def _data_url(url: str, response_class):
    header, _, payload = url.partition(",")
    mime = header[5:].split(";")[0] or "text/plain"
    body = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    return response_class(url, body=body, headers={"Content-Type": mime})


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
    """Typeset ``html`` into PDF bytes; raise `RenderError` on any warning.

    ``what`` names the document in messages (the handout's file and variant).
    ``facts``, if given, receives ``pages``: the number of pages typeset.
    ``created`` (an ISO date) becomes the PDF's creation and modification date,
    so the same inputs always give the same bytes.
    """
    from weasyprint import HTML

    collector = _WarningCollector()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    previous_level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        if created:
            html = html.replace(
                "<head>",
                f'<head><meta name="dcterms.created" content="{created}"><meta name="dcterms.modified" content="{created}">',
                1,
            )
        document = HTML(
            string=html,
            base_url=base_url.resolve().as_uri() + "/",
            url_fetcher=make_fetcher(allowed_roots),
        )
        options = {"pdf_variant": PDF_VARIANT} if tagged else {}
        rendered = document.render(font_config=_font_config(), cache=_image_cache(), **options)
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
