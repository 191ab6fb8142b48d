"""The catalogue in a real browser: Debian's chromium driven by Playwright (nothing is downloaded).

Skipped, with the reason, only when there is no chromium binary or no Playwright.
"""

from __future__ import annotations

import io
import time
from datetime import date
from pathlib import Path

import pytest
from support import pdf_outputs
from support.browser import chromium, require_browser
from support.frontdesk import RunningServer, built_library, files_holding, manifest, pdf_text

NAME = "Ilse Vandermolen-Ortiz"

require_browser()


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return built_library(tmp_path_factory, "browser")


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def server(library):
    root, out = library
    with RunningServer(root, out, today=date.today()) as running:
        yield running


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def open_catalogue(page, out: Path):
    page.goto((out / "index.html").as_uri())
    return page


def visible_titles(page) -> list[str]:
    return page.locator(".handout:visible h3").all_text_contents()


def test_catalogue_from_disk_lists_every_output(page, library):
    """Opened from file://, the page shows every output in the manifest, under its topic."""
    _, out = library
    open_catalogue(page, out)
    shown = page.locator("li.output").evaluate_all("els => els.map(e => e.dataset.path)")
    assert sorted(shown) == sorted(o["path"] for o in pdf_outputs(manifest(out)))
    assert page.locator(".topic h2").all_text_contents() == ["Exercise", "Sleep"]
    assert page.locator("#shown").text_content() == "Showing all 2 handouts."


def test_typing_filters_by_title_topic_and_language(page, library):
    """Each key typed narrows the list; topics with nothing left are hidden; Escape clears."""
    _, out = library
    open_catalogue(page, out)
    search = page.get_by_label("Search by title, topic or language")
    search.press_sequentially("walk")
    assert visible_titles(page) == ["Walking for Your Health"]
    assert page.locator(".topic:visible h2").all_text_contents() == ["Exercise"]
    assert page.locator("#shown").text_content() == "Showing 1 of 2 handouts."
    search.fill("")
    search.press_sequentially("sleep")  # a topic
    assert visible_titles(page) == ["Sleep and Your Mood"]
    search.fill("")
    search.press_sequentially("english large")  # a language and a variant, in any order
    assert sorted(visible_titles(page)) == ["Sleep and Your Mood", "Walking for Your Health"]
    search.fill("")
    search.press_sequentially("spanish")
    assert visible_titles(page) == []
    assert page.locator("#none").is_visible()
    search.press("Escape")
    assert len(visible_titles(page)) == 2 and not page.locator("#none").is_visible()


def test_thumbnails_load(page, library):
    """Every thumbnail image loads (decoded, real width) when scrolled into view."""
    _, out = library
    open_catalogue(page, out)
    images = page.locator("img.thumb")
    assert images.count() == len(pdf_outputs(manifest(out)))
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
        images.nth(i).evaluate("img => img.decode()")
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert widths == [240] * images.count()


def test_open_from_disk_gives_the_pdf(page, library):
    """'Open' opens the PDF itself in a new tab, and that file is a valid PDF of the listed pages."""
    from pypdf import PdfReader

    _, out = library
    open_catalogue(page, out)
    entry = next(o for o in manifest(out)["outputs"] if o["variant"] == "large-print")
    link = page.locator(f'li.output[data-path="{entry["path"]}"] a.open')
    with page.context.expect_page() as opened:
        link.click()
    tab = opened.value
    assert tab.url == (out / entry["path"]).as_uri()
    reader = PdfReader(out / entry["path"])
    assert len(reader.pages) == entry["pages"]


def test_open_and_print_when_served(page, server, library):
    """Served: 'Open' fetches a valid PDF over HTTP; 'Print' loads it in a hidden frame to print."""
    from pypdf import PdfReader

    _, out = library
    page.goto(server.url)
    entry = next(o for o in manifest(out)["outputs"] if o["variant"] == "standard")
    row = page.locator(f'li.output[data-path="{entry["path"]}"]')
    href = row.locator("a.open").get_attribute("href")
    response = page.request.get(server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert len(PdfReader(io.BytesIO(body)).pages) == entry["pages"]
    assert body == (out / entry["path"]).read_bytes()
    row.locator("button.print").click()
    frame = page.locator("#print-frame")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src") == entry["path"]
    assert page.locator("#print-status").text_content() in ("Getting the PDF ready to print…", "The print dialog is open.")


def test_keyboard_reaches_search_and_buttons(page, library):
    """Tab goes skip link -> search box -> the first handout's web page -> its first Open link;
    Enter on Open opens the PDF."""
    _, out = library
    open_catalogue(page, out)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')").startswith("web/en/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Open")
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")
    assert opened.value.url.endswith(".pdf")


def test_phone_width_has_no_sideways_scrolling(browser, library):
    """At 360 px wide nothing overflows sideways and the buttons stay at least 44 px tall."""
    _, out = library
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        open_catalogue(page, out)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        heights = page.locator(".actions .button").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44
    finally:
        context.close()


def test_personalise_returns_page_one_with_the_name_and_leaves_no_trace(page, server, library):
    """The served form gives a PDF whose page 1 shows the name; the field is cleared; nothing keeps the name."""
    import tempfile

    root, out = library
    started = time.time() - 1
    received = []

    def keep_response(route):  # the bytes the browser got, as the server sent them
        response = route.fetch()
        received.append((response.status, response.headers.get("content-type"), response.body(), route.request.headers))
        route.fulfill(response=response)

    page.goto(server.url)
    page.context.route("**/personalise", keep_response)
    card = page.locator("li.handout", has_text="Sleep and Your Mood")
    card.locator("summary", has_text="Personalise for a patient").click()
    card.get_by_label("Version").select_option(label="Large print")
    card.get_by_label("Patient's preferred name").fill(NAME)
    card.get_by_label("Your initials").fill("jd")
    with page.context.expect_page() as opened:
        card.get_by_role("button", name="Make the PDF").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == server.url + "personalise"
    [(status, content_type, body, headers)] = received
    assert (status, content_type) == (200, "application/pdf")
    assert headers["origin"] == server.url.rstrip("/")
    first = pdf_text(body, 0)
    assert f"Given to: {NAME}" in " ".join(first.split())
    assert "Given by: JD" in first
    assert card.get_by_label("Patient's preferred name").input_value() == ""  # ready for the next patient
    tab.close()

    assert files_holding(out, NAME) == []
    assert files_holding(out, "Vandermolen") == []
    assert files_holding(root, "Vandermolen") == []
    assert files_holding(Path(tempfile.gettempdir()), "Vandermolen", since=started) == []
