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
    search = page.get_by_label("Search by title, topic, language or code")
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
    """Served: 'Open' fetches a valid PDF over HTTP; 'Print' fetches it as a print (``?channel=print``)
    and loads those bytes in a hidden frame to print."""
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
    with page.expect_response(lambda r: "channel=print" in r.url) as printed:
        row.locator("button.print").click()
    assert printed.value.url == f"{server.url}{entry['path']}?channel=print"  # so the record says "print"
    assert printed.value.status == 200
    frame = page.locator("#print-frame")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src").startswith(f"blob:{server.url.rstrip('/')}/")  # the fetched bytes, printed from a frame
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


def served_page(browser, server, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 500, has_touch=width < 500)
    page = context.new_page()
    page.goto(server.url)
    return context, page


def add_by_keyboard(page, path: str) -> None:
    """Focus a version's "Add to print list" button and press Enter, as a keyboard user would."""
    page.locator(f'li.output[data-path="{path}"] button.add').focus()
    page.keyboard.press("Enter")


def focused_text(page) -> str:
    return page.evaluate("document.activeElement.textContent")


def basket_labels(page) -> list[str]:
    return page.locator("#basket-items .item-label").all_text_contents()


def test_print_list_works_from_the_keyboard_alone(browser, server):
    """Add three versions with Enter, reorder and remove with Enter (focus follows the item moved),
    then "Print the list" posts the paths in that order and prints the joined PDF from a frame."""
    context, page = served_page(browser, server)
    refused: list[str] = []  # the page's policy must let it fetch the list and frame what it fetched
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    try:
        status = page.locator("#basket-count")
        assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
        assert page.locator("#basket-print").is_disabled()
        add_by_keyboard(page, "en/Walking-for-Your-Health.pdf")
        add_by_keyboard(page, "en/Sleep-and-Your-Mood-Large-Print.pdf")
        add_by_keyboard(page, "en/Sleep-and-Your-Mood-FAQ.pdf")
        assert status.text_content() == "Added Sleep and Your Mood, FAQ sheet. 3 documents in the print list."
        assert basket_labels(page) == [
            "Walking for Your Health, standard",
            "Sleep and Your Mood, large print",
            "Sleep and Your Mood, FAQ sheet",
        ]
        page.locator("#basket-items li").nth(2).get_by_role("button", name="Move up").focus()
        page.keyboard.press("Enter")
        assert basket_labels(page)[1] == "Sleep and Your Mood, FAQ sheet"
        assert focused_text(page) == "Move up: Sleep and Your Mood, FAQ sheet"  # focus went with the item
        page.keyboard.press("Enter")
        assert basket_labels(page)[0] == "Sleep and Your Mood, FAQ sheet"
        assert focused_text(page) == "Move down: Sleep and Your Mood, FAQ sheet"  # "Move up" is off at the top
        assert status.text_content() == "Moved Sleep and Your Mood, FAQ sheet to place 1. 3 documents in the print list."
        page.keyboard.press("Tab")  # Move down -> Remove
        page.keyboard.press("Enter")
        assert basket_labels(page) == ["Walking for Your Health, standard", "Sleep and Your Mood, large print"]
        assert focused_text(page).startswith("Remove: Walking for Your Health")
        add_by_keyboard(page, "en/Walking-for-Your-Health.pdf")  # the same document twice is allowed
        page.locator("#basket-print").focus()
        with page.expect_request(lambda r: r.url.endswith("/print-list")) as sent, page.expect_response(
            lambda r: r.url.endswith("/print-list")
        ) as answered:
            page.keyboard.press("Enter")
        assert sent.value.post_data == (
            "path=en%2FWalking-for-Your-Health.pdf&path=en%2FSleep-and-Your-Mood-Large-Print.pdf"
            "&path=en%2FWalking-for-Your-Health.pdf"
        )
        assert answered.value.status == 200
        page.locator("#print-frame").wait_for(state="attached")
        assert page.locator("#print-frame").get_attribute("src").startswith("blob:")
        # The frame navigates to the fetched bytes (headless chromium cannot show a print dialog: a print
        # crashes its page, so the test looks before the script asks for one, 400 ms after the frame loads).
        page.wait_for_timeout(150)
        assert refused == []
    finally:  # nothing more on this page: headless chromium's page crashes once the script asks to print
        context.close()


def test_clear_empties_the_print_list_and_keeps_the_keyboard_in_it(browser, server):
    """Clear, pressed with Enter, empties the list, says so, disables itself and moves focus to the list's heading."""
    context, page = served_page(browser, server)
    try:
        add_by_keyboard(page, "en/Walking-for-Your-Health.pdf")
        add_by_keyboard(page, "en/Walking-for-Your-Health.pdf")
        page.locator("#basket-clear").focus()
        page.keyboard.press("Enter")
        assert basket_labels(page) == []
        assert page.locator("#basket-count").text_content() == "Cleared. The print list is empty."
        assert page.evaluate("document.activeElement.id") == "basket-h"
        assert page.locator("#basket-clear").is_disabled() and page.locator("#basket-print").is_disabled()
    finally:
        context.close()


def test_served_catalogue_with_the_print_list_open_has_no_axe_violations(browser, server, tmp_path):
    """axe-core (WCAG 2.1 A and AA) finds nothing on the served page with three documents in the print list and
    a code in the search box, at desk and phone widths; the screenshots are kept for a person to look at."""
    from support.browser import horizontal_overflow, run_axe

    for name, width, height in (("desktop", 1280, 900), ("phone", 390, 844)):
        context, page = served_page(browser, server, width, height)
        try:
            for path in ("en/Sleep-and-Your-Mood.pdf", "en/Walking-for-Your-Health-Large-Print.pdf", "en/Sleep-and-Your-Mood.pdf"):
                page.locator(f'li.output[data-path="{path}"] button.add').click()
            page.get_by_label("Search by title, topic, language or code").fill("F33.1")
            result = run_axe(page)
            assert result.rules_run > 20
            assert result.lines() == [], "\n".join(result.lines())
            assert horizontal_overflow(page) <= 0
            page.screenshot(path=str(tmp_path / f"catalogue-{name}.png"), full_page=True)
        finally:
            context.close()


def test_a_code_in_the_search_finds_handouts_and_the_links_carry_it(browser, server):
    """An ICD-10-CM code finds a handout coded with it or a category above it (dot and case ignored);
    RxNorm is exact; while a code is held, the desk's links, Print and forms carry ?via=."""
    context, page = served_page(browser, server)
    try:
        search = page.get_by_label("Search by title, topic, language or code")
        for typed, titles in (
            ("f33.1", ["Sleep and Your Mood"]),
            ("F3310", ["Sleep and Your Mood"]),
            ("G47.00", ["Sleep and Your Mood"]),
            ("G47", []),  # a parent does not find a handout coded with a child
            ("6130", ["Sleep and Your Mood"]),
            ("613", []),  # RxNorm and the others are exact
            ("F32", []),
        ):
            search.fill(typed)
            assert visible_titles(page) == titles, typed
        search.fill("f331")
        assert page.locator("#shown").text_content() == "Showing 1 of 2 handouts for ICD-10-CM F33.1."
        card = page.locator("li.handout", has_text="Sleep and Your Mood")
        assert card.locator("a.open").first.get_attribute("href") == "en/Sleep-and-Your-Mood.pdf?via=icd10cm%3AF33.1"
        assert card.locator("p.web-page a").get_attribute("href") == "web/en/sleep-and-mood/index.html?via=icd10cm%3AF33.1"
        assert card.locator("form").get_attribute("action") == "personalise?via=icd10cm%3AF33.1"
        search.fill("sleep")
        assert card.locator("a.open").first.get_attribute("href") == "en/Sleep-and-Your-Mood.pdf"
        search.fill("F33.1")
        with page.expect_request(lambda r: "channel=print" in r.url) as printed:
            card.locator("button.print").first.click()
        assert printed.value.url == server.url + "en/Sleep-and-Your-Mood.pdf?channel=print&via=icd10cm%3AF33.1"
    finally:  # last on this page: headless chromium's page crashes once the script asks to print
        context.close()
