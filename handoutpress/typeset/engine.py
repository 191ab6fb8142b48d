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

A worker keeps what does not change between documents: the fonts, the images
it has read, and the parsed stylesheets (see `_prepared_stylesheets`).

WeasyPrint itself is imported lazily, so commands that typeset nothing start fast.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from handoutpress.errors import Problem, RenderError

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


@lru_cache(maxsize=1)
def _image_cache() -> _ImageCache:
    """Images WeasyPrint has read (the logo, assets), kept for the next document in this process.

    `build.forget_cached_inputs` empties it (with every other ``lru_cache``)
    when the files behind those URLs change.
    """
    return _ImageCache()


# The stylesheets in the <head> that render.py writes: the brand's <style> block, then the links.
_HEAD_STYLESHEET = re.compile(r'<style>(?P<text>.*?)</style>|<link rel="stylesheet" href="(?P<href>[^"<>]+)">', re.DOTALL)
# At-rules whose effect lives in the document's own state, not in the parsed sheet:
# a sheet using them is left for WeasyPrint to parse with the document.
_DOCUMENT_STATE = re.compile(r"@(counter-style|layer)\b", re.IGNORECASE)


def _prepared_stylesheets(html: str, fetcher, base_url: str, collector: _WarningCollector) -> tuple[str, list]:
    """The head's stylesheets parsed once per worker: ``(html without them, [CSS, ...])``.

    Parsing and compiling the same stylesheets for every document costs about
    a tenth of its typesetting. WeasyPrint can take sheets parsed beforehand,
    but gives them the "user" origin; so every stylesheet of the head is taken
    out, in its order, or none is, and the cascade among them is the same as
    when they are linked (the tests compare the PDFs byte for byte). A sheet
    is kept parsed by its text (a linked file is read again each time, so an
    edited file is parsed again); the warnings its parsing logged are logged
    again for every document that uses it, so a bad rule fails them all, not
    only the first.
    """
    head_end = html.find("</head>")
    if head_end < 0:
        return html, []
    head = html[:head_end]
    found = list(_HEAD_STYLESHEET.finditer(head))
    if len(found) != head.count("<style") + head.count("<link"):
        return html, []  # a stylesheet written some other way: WeasyPrint parses them all
    sources = []
    for match in found:
        if match["href"] is None:
            text, url = match["text"], base_url
        else:
            url = urljoin(base_url, unescape(match["href"]))
            try:
                text = fetcher.fetch(url).read().decode("utf-8-sig")
            except (ValueError, UnicodeDecodeError):
                return html, []  # WeasyPrint reports it, as for any document
        if _DOCUMENT_STATE.search(text):
            return html, []
        sources.append((text, url))
    cache = _stylesheet_cache()
    sheets = []
    for text, url in sources:
        key = (text, url)
        if key not in cache:
            from weasyprint import CSS

            before = len(collector.messages)
            css = CSS(string=text, base_url=url, url_fetcher=fetcher, font_config=_font_config())
            cache[key] = (css, tuple(collector.messages[before:]))
        else:
            collector.messages.extend(cache[key][1])
        sheets.append(cache[key][0])
    pieces, last = [], 0
    for match in found:
        pieces.append(head[last : match.start()])
        last = match.end()
    pieces.append(html[last:])
    return "".join(pieces), sheets


def _stylesheet_cache() -> dict:
    """Parsed stylesheets of this thread (they belong to its font configuration)."""
    if getattr(_local, "stylesheets", None) is None or len(_local.stylesheets) > 64:
        _local.stylesheets = {}
    return _local.stylesheets


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
        base = base_url.resolve().as_uri() + "/"
        fetcher = make_fetcher(allowed_roots)
        html, stylesheets = _prepared_stylesheets(html, fetcher, base, collector)
        document = HTML(string=html, base_url=base, url_fetcher=fetcher)
        options = {"pdf_variant": PDF_VARIANT} if tagged else {}
        rendered = document.render(font_config=_font_config(), cache=_image_cache(), stylesheets=stylesheets, **options)
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
