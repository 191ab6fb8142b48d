"""The QR code on page 1 of the standard and large-print handout, to the page of that printout's edition."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
import qrcode
from pypdf import PdfReader
from support import ROOT

from handoutpress.cli.main import main
from handoutpress.load.content import load_handout
from handoutpress.render import qr

HANDOUT_ID = "ketamine-and-your-other-medications"
URL = f"https://riverbend-clinic.example/handouts/en/{HANDOUT_ID}"
SHORT = f"riverbend-clinic.example/handouts/en/{HANDOUT_ID}"
ALT = f"QR code: read this handout online at {SHORT}"
# What the seed's printouts carry: the address of their own edition's page.
EDITION = load_handout(ROOT / "handouts" / "en" / f"{HANDOUT_ID}.yaml", ROOT).edition
PRINTED_URL = f"{URL}/{EDITION}/"
PRINTED_SHORT = f"{SHORT}/{EDITION}"
PRINTED_ALT = f"QR code: read this handout online at {PRINTED_SHORT}"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    source = ROOT / "handouts" / "en" / f"{HANDOUT_ID}.yaml"
    args = ["--root", str(ROOT), "build", str(source), "--out", str(out), "--jobs", "1", "--today", "2025-06-01", "--quiet"]
    assert main(args) == 0
    return out / "en"


def svg_modules(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules the SVG path draws (each ``M x y.5 h n``, stroked one module thick, is a run of n)."""
    assert b'fill="none" stroke="#000" stroke-width="1" d="M' in svg  # butt ends: a line covers exactly its modules
    dark = set()
    for x, y, n in re.findall(r"M(\d+) (\d+)\.5h(\d+)", svg.decode()):
        dark |= {(int(x) + k, int(y)) for k in range(int(n))}
    return dark


def test_svg_draws_exactly_the_qrcode_matrix():
    """The SVG's path covers exactly the dark modules of the code the qrcode library made, quiet zone included."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=qr.QUIET_ZONE)
    code.add_data(URL)
    code.make(fit=True)
    matrix = code.get_matrix()
    expected = {(x, y) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark}
    svg = qr.svg(URL)
    assert svg.startswith(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {len(matrix)} {len(matrix)}"'.encode())
    assert svg_modules(svg) == expected
    assert all(x >= qr.QUIET_ZONE and y >= qr.QUIET_ZONE for x, y in expected)  # four white modules all round


def test_same_address_same_bytes():
    """The code is deterministic: the same address gives the same SVG, a different one a different SVG."""
    assert qr.svg.__wrapped__(URL) == qr.svg.__wrapped__(URL)
    assert qr.svg.__wrapped__(URL) != qr.svg.__wrapped__(URL + "x")


def test_address_scheme_and_no_base_url():
    """Without an edition the address is <base_url><language>/<id>; without a base_url there is no code."""
    code = qr.qr_code(
        "https://riverbend-clinic.example/handouts/", "en", HANDOUT_ID, "QR code: read this handout online at {url}"
    )
    assert (code.url, code.short, code.alt) == (URL, SHORT, ALT)
    assert code.data_url == "data:image/svg+xml;base64," + base64.b64encode(qr.svg(URL)).decode()
    assert qr.handout_url("https://x.example/h", "es", "a") == "https://x.example/h/es/a"
    assert qr.qr_code(None, "en", HANDOUT_ID, "{url}") is None


def test_a_printout_names_its_edition():
    """With an edition the code holds <base_url><language>/<id>/<edition>/, printed without
    https:// and the closing slash; each edition gets its own code."""
    code = qr.qr_code("https://x.example/h/", "es", "a", "{url}", "2025.02-1a2b3c")
    assert (code.url, code.short, code.alt) == (
        "https://x.example/h/es/a/2025.02-1a2b3c/",
        "x.example/h/es/a/2025.02-1a2b3c",
        "x.example/h/es/a/2025.02-1a2b3c",
    )
    assert code.data_url == "data:image/svg+xml;base64," + base64.b64encode(qr.svg(code.url)).decode()
    assert qr.qr_code("https://x.example/h/", "es", "a", "{url}", "2025.02-ffffff").data_url != code.data_url


def _figures(reader: PdfReader) -> list:
    out, todo = [], [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if node.get("/S") == "/Figure":
            out.append(node)
        kids = node.get("/K")
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        todo.extend(k for k in kids if hasattr(k, "get_object") and hasattr(k.get_object(), "get"))
    return out


def _page1_text(path: Path) -> str:
    return PdfReader(path).pages[0].extract_text()


def _page_of(reader: PdfReader, figure) -> int | None:
    page = figure.get("/Pg")
    if page is None:
        return None
    return next(i for i, p in enumerate(reader.pages) if p.get_object() == page.get_object())


def _uris(page) -> list[str]:
    return [a.get_object()["/A"].get("/URI") for a in page.get("/Annots") or [] if "/A" in a.get_object()]


def test_standard_has_the_code_on_page_one_and_the_address_with_the_contacts(built):
    """Standard print: the tagged QR figure is on page 1 beside the title; its full
    address, that of the printout's edition, is printed and linked with the contact details at the end."""
    reader = PdfReader(built / "Ketamine-and-Your-Other-Medications.pdf")
    figure = next(f for f in _figures(reader) if f.get("/Alt") == PRINTED_ALT)
    assert _page_of(reader, figure) in (None, 0)
    assert "Read it online" in _page1_text(built / "Ketamine-and-Your-Other-Medications.pdf")
    last = reader.pages[-1]
    assert PRINTED_SHORT in re.sub(r"\s+", "", last.extract_text())
    assert PRINTED_URL in _uris(last)


def test_large_print_keeps_page_one_for_the_crisis_box(built):
    """Large print: page 1 holds the title and the crisis box; the QR code and its
    18 pt address sit with the contact details at the end."""
    reader = PdfReader(built / "Ketamine-and-Your-Other-Medications-Large-Print.pdf")
    first = _page1_text(built / "Ketamine-and-Your-Other-Medications-Large-Print.pdf")
    assert "In a crisis? Get help now" in first and "Ketamine and Your Other" in first
    figure = next(f for f in _figures(reader) if f.get("/Alt") == PRINTED_ALT)
    assert _page_of(reader, figure) >= len(reader.pages) - 2  # the closing section, which may span two pages
    closing = reader.pages[-2:]
    assert PRINTED_SHORT in re.sub(r"\s+", "", "".join(p.extract_text() for p in closing))
    assert any(PRINTED_URL in _uris(p) for p in closing)


def test_standard_keeps_the_crisis_box_on_page_one(built):
    """The QR code does not push the crisis box off page 1 of the standard handout."""
    assert "In a crisis? Get help now" in _page1_text(built / "Ketamine-and-Your-Other-Medications.pdf")


def test_faq_sheet_has_no_qr(built):
    """The FAQ sheet is a different document: no QR code."""
    reader = PdfReader(built / "Ketamine-and-Your-Other-Medications-FAQ.pdf")
    assert not any(str(f.get("/Alt", "")).startswith("QR code") for f in _figures(reader))
