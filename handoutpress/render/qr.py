"""The QR code on page 1: a phone camera opens the online page of that printout's edition.

Only when the brand has a ``base_url``. A printout names its own edition, so
the page it opens can say whether the paper in the patient's hand is still
current (see `handoutpress.web.editions`)::

    <base_url><language>/<id>/<edition>/
    e.g. https://riverbend-clinic.example/handouts/en/ketamine-and-your-other-medications/2025.02-1a2b3c/

(``id`` is the YAML file's name without ``.yaml``; ``edition`` is the
handout's review month and content hash), so it is stable across builds of
the same text and independent of the PDF's file name. Without an edition the
address is the handout's current page, ``<base_url><language>/<id>``. The
address is printed beside the code without ``https://`` and without the
closing slash, for people without a camera. The code is made by the
``qrcode`` library (medium error correction, the standard four-module quiet
zone), drawn as one SVG path (vector, no raster) and embedded as a ``data:``
URL; the same address always gives the same bytes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


@dataclass(frozen=True)
class QrCode:
    url: str  # what the code holds
    short: str  # printed beside it in full, without https://, for people without a camera
    data_url: str  # the SVG, as an <img> source
    alt: str  # the figure's alternative text


def handout_url(base_url: str, language: str, handout_id: str, edition: str | None = None) -> str:
    """The web address of a handout's current page, or of one edition's page when ``edition`` is given."""
    url = base_url.rstrip("/") + f"/{language}/{handout_id}"
    return url + f"/{edition}/" if edition else url


@lru_cache(maxsize=256)
def svg(url: str) -> bytes:
    """The QR code for ``url`` as a compact SVG.

    The ``qrcode`` library makes the code (version, error correction, mask);
    the SVG draws each row's runs of dark modules as one line each, a module
    thick with square ends, in a single stroked path: the same picture as
    ``qrcode.image.svg.SvgPathImage`` at about a fifth of its size (it matters
    in a file that is emailed), and two path commands per run instead of five
    (it matters to the typesetter, which reads the path for every document).
    """
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the quiet zone
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if row[x]:
                start = x
                while x < size and row[x]:
                    x += 1
                runs.append(f"M{start} {y}.5h{x - start}")
            else:
                x += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<path fill="none" stroke="#000" stroke-width="1" d="{"".join(runs)}"/></svg>'
    ).encode("ascii")


def qr_code(base_url: str | None, language: str, handout_id: str, alt_template: str, edition: str | None = None) -> QrCode | None:
    """The page-1 QR code of a handout's ``edition``, or None when the brand has no ``base_url``.

    ``alt_template`` comes from the labels (``qr_alt``) with ``{url}``.
    """
    if not base_url:
        return None
    url = handout_url(base_url, language, handout_id, edition)
    parts = urlsplit(url)
    # Printed in full (a cut address leads nowhere); the closing slash is left to the web server.
    short = parts.netloc.removeprefix("www.") + parts.path.rstrip("/")
    data = "data:image/svg+xml;base64," + base64.b64encode(svg(url)).decode("ascii")
    return QrCode(url=url, short=short, data_url=data, alt=alt_template.format(url=short))
