"""The print list: POST /print-list joins the chosen PDFs, in order, into one PDF that keeps each one's pages."""

from __future__ import annotations

import io
import subprocess
from urllib.parse import urlencode

import pytest
from support.frontdesk import asgi, built_library, manifest

from handoutpress.frontdesk.forms import MAX_LIST
from handoutpress.frontdesk.serve import Library, create_app

HEADERS = {"host": "127.0.0.1:8000", "content-type": "application/x-www-form-urlencoded", "origin": "http://127.0.0.1:8000"}
SLEEP, WALKING = "en/Sleep-and-Your-Mood.pdf", "en/Walking-for-Your-Health.pdf"
SLEEP_LARGE = "en/Sleep-and-Your-Mood-Large-Print.pdf"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return built_library(tmp_path_factory, "printlist")


@pytest.fixture(scope="module")
def app(library):
    root, out = library
    return create_app(Library(root, out))


def post(app, *paths: str, extra: list[tuple[str, str]] = ()):
    body = urlencode([("path", p) for p in paths] + list(extra)).encode()
    return asgi(app, "/print-list", method="POST", headers=HEADERS, body=body)


def page_text(pdf: bytes, page: int) -> str:
    """pdftotext's text of one page (1-based), as a reader prints it."""
    done = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def test_the_list_is_one_pdf_in_the_order_chosen(app, library):
    """Three documents (one twice) come back as one PDF: their pages in order, each page as it was built."""
    from pypdf import PdfReader

    _, out = library
    status, headers, body = post(app, WALKING, SLEEP_LARGE, WALKING)
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert headers["cache-control"] == "no-store, private"
    pages = {p: len(PdfReader(out / p).pages) for p in (WALKING, SLEEP_LARGE)}
    joined = PdfReader(io.BytesIO(body))
    assert len(joined.pages) == 2 * pages[WALKING] + pages[SLEEP_LARGE]
    originals = [*PdfReader(out / WALKING).pages, *PdfReader(out / SLEEP_LARGE).pages, *PdfReader(out / WALKING).pages]
    for mine, theirs in zip(joined.pages, originals, strict=True):
        assert mine.get_contents().get_data() == theirs.get_contents().get_data()  # stamp and all, untouched


def test_each_document_keeps_its_own_page_numbers_and_stamp(app, library):
    """Page 1 of the second document still says "Page 1 of N" (its own N) and carries the stamp band."""
    from pypdf import PdfReader

    _, out = library
    _, _, body = post(app, SLEEP, SLEEP_LARGE)
    first = len(PdfReader(out / SLEEP).pages)
    second = len(PdfReader(out / SLEEP_LARGE).pages)
    assert f"Page 1 of {first}" in page_text(body, 1)
    start_of_second = page_text(body, first + 1)
    assert f"Page 1 of {second}" in start_of_second
    assert "Emergency: 911" in start_of_second and "988" in start_of_second
    assert f"Page {second} of {second}" in page_text(body, first + second)


def test_the_outline_has_one_entry_per_document(app):
    """A reader's sidebar lists each document where it begins, by title, version and language."""
    from pypdf import PdfReader

    _, _, body = post(app, WALKING, SLEEP_LARGE)
    reader = PdfReader(io.BytesIO(body))
    entries = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    walking_pages = len(PdfReader(io.BytesIO(post(app, WALKING)[2])).pages)
    assert entries == [
        ("Walking for Your Health (standard, en)", 0),
        ("Sleep and Your Mood (large print, en)", walking_pages),
    ]
    assert reader.metadata.title == "Print list (2 documents)"


@pytest.mark.parametrize(
    ("paths", "extra", "lines"),
    [
        ((), [], ["path: add at least one PDF to the print list"]),
        ((WALKING, "en/Nope.pdf", "web/en/walking/index.html"), [], ["path[2]: not a PDF in this catalogue", "path[3]: not a PDF in this catalogue"]),
        (("../handouts/en/walking.yaml",), [("name", "x")], ["name: not a field of the print list", "path[1]: not a PDF in this catalogue"]),
        ((WALKING,) * (MAX_LIST + 1), [], [f"path: at most {MAX_LIST} documents in one print list, got {MAX_LIST + 1}"]),
    ],
)
def test_bad_lists_get_400_with_one_line_per_problem(app, paths, extra, lines):
    """An empty list, a path that is not one of the catalogue's PDFs (a web page is not), another field or too many."""
    status, headers, body = post(app, *paths, extra=extra)
    assert status == 400 and headers["content-type"].startswith("text/plain")
    assert body.decode().splitlines() == ["Please check the print list:", *lines]


def test_thirty_documents_are_allowed(app, library):
    """The most a list may hold is answered, duplicates and all."""
    from pypdf import PdfReader

    _, out = library
    status, _, body = post(app, *([SLEEP, WALKING] * (MAX_LIST // 2)))
    assert status == 200
    per_pair = len(PdfReader(out / SLEEP).pages) + len(PdfReader(out / WALKING).pages)
    assert len(PdfReader(io.BytesIO(body)).pages) == per_pair * MAX_LIST // 2


def test_only_a_small_form_from_the_catalogue_is_read(app):
    """Another encoding is 415, a huge body 413, another site's Origin 403, a GET finds nothing."""
    assert asgi(app, "/print-list", method="POST", headers={**HEADERS, "content-type": "application/json"}, body=b"[]")[0] == 415
    assert post(app, *(["x" * 100] * 200))[0] == 413
    other = {**HEADERS, "origin": "https://evil.example"}
    assert asgi(app, "/print-list", method="POST", headers=other, body=b"path=" + WALKING.encode())[0] == 403
    assert asgi(app, "/print-list")[0] == 404


def test_every_listed_pdf_can_be_in_a_list(app, library):
    """Each PDF of the manifest (every variant) can be printed through the list."""
    _, out = library
    pdfs = [o["path"] for o in manifest(out)["outputs"] if o["variant"] != "web"]
    status, _, body = post(app, *pdfs)
    assert status == 200 and body.startswith(b"%PDF")


def test_a_served_list_is_joined_in_the_press_under_the_time_limit(library):
    """Through the desk's press the list is the same PDF; past --time-limit it is a one-line 409."""
    from handoutpress.frontdesk.press import DeskPress

    root, out = library
    alone = post(create_app(Library(root, out)), SLEEP, WALKING)[2]
    with DeskPress(root, 1) as press:
        status, _, body = post(create_app(Library(root, out), press=press), SLEEP, WALKING)
    assert status == 200 and body == alone
    with DeskPress(root, 1, time_limit=0.0001) as press:
        status, _, body = post(create_app(Library(root, out), press=press), SLEEP, WALKING)
    assert (status, body) == (409, b"print-list: joining 2 documents took longer than the limit of 0.0001 s\n")
