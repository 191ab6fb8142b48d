"""The only way WeasyPrint reads anything while it typesets a handout.

`make_fetcher` serves ``data:`` URLs and files inside the allowed folders
(resolved, symlinks followed and checked), and refuses everything else: other
files, ``http``, ``ftp``... Nothing outside the project is read and no network
is contacted. A refusal is an exception WeasyPrint turns into a logged
warning, and the session (`handoutpress.typeset.session`) fails the document
on any warning.

What it relies on: WeasyPrint's public `URLFetcher` and `URLFetcherResponse`
(imported when a fetcher is made, so commands that typeset nothing start fast).
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit


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
    """A ``data:`` URL's bytes (base64 or percent-encoded) as a fetcher's response."""
    header, _, payload = url.partition(",")
    mime = header[5:].split(";")[0] or "text/plain"
    body = base64.b64decode(payload) if header.endswith(";base64") else unquote(payload).encode()
    return response_class(url, body=body, headers={"Content-Type": mime})
