"""The web edition in a real browser: axe-core's WCAG 2.0/2.1 A and AA rules, reflow at
320 px, 200% zoom, the keyboard and the heading outline, on every page the build writes.

Debian's chromium is driven by Playwright (nothing is downloaded) and axe-core comes
from the project's ``node_modules`` (``npm ci``, run by ``./run.sh``). Two sites are
checked, each built once for this module and served by a plain static web server on
127.0.0.1, as any host would serve ``out/web/``: the seed handouts of the real project
(English and Spanish, with their edition pages) and the test fixture handout
(`support.project.GOOD_HANDOUT`, with its table and the "Words to know" box).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from support import TODAY
from support.browser import (
    StaticSite,
    axe_rule_ids,
    chromium,
    heading_levels,
    horizontal_overflow,
    outside_viewport,
    reachable_in_dom_order,
    require_browser,
    run_axe,
    skipped_levels,
    tab_through,
)
from support.project import GOOD_HANDOUT, MiniProject

require_browser()

# The viewports: a desktop window, and the narrowest phone WCAG 1.4.10 asks for.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 640}
# 200% zoom of the desktop window: the browser lays the page out in half as many CSS
# pixels (640 x 450) and paints each one twice as big. A 640 px viewport at device
# scale factor 2 is exactly that layout, as chromium's own zoom would make it.
ZOOMED = {"width": 640, "height": 450}


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def fixture_out(tmp_path_factory) -> Path:
    """The fixture handout, built once into its project's out/."""
    project = MiniProject(tmp_path_factory.mktemp("web-browser") / "project", glossary=True)
    project.write("handouts/en/sleep-and-mood.yaml", GOOD_HANDOUT)
    out = project.root / "out"
    assert project.run("build", "--out", str(out), "--today", TODAY, "--jobs", "1", "--quiet") == 0
    return out


@pytest.fixture(scope="module", params=["seed", "fixture"])
def site(request, fixture_out):
    """One built web edition served on 127.0.0.1, with the list of its pages."""
    out = request.getfixturevalue("built_library").out if request.param == "seed" else fixture_out
    web = out / "web"
    pages = sorted(web.rglob("*.html"))
    assert pages, f"the build wrote no web pages into {web}"
    with StaticSite(web) as served:
        served.pages = pages  # type: ignore[attr-defined]
        yield served


@contextlib.contextmanager
def new_tab(browser, viewport: dict, scale: float = 1):
    """A browser tab of ``viewport`` (CSS pixels) at device scale ``scale``, closed afterwards."""
    context = browser.new_context(viewport=viewport, device_scale_factor=scale)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_pages(browser, site, viewport: dict, scale: float = 1):
    """Each page of ``site`` in turn, loaded in one browser tab of ``viewport``: (path, tab)."""
    with new_tab(browser, viewport, scale) as tab:
        for path in site.pages:
            tab.goto(site.url_of(path), wait_until="load")
            yield path.relative_to(site.folder).as_posix(), tab


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "320px"])
def test_axe_finds_no_wcag_a_or_aa_violation_on_any_page(browser, site, viewport):
    """axe-core's WCAG 2.0/2.1 A and AA rules (colour contrast among them) find nothing on any page."""
    found: list[str] = []
    for _, tab in open_pages(browser, site, viewport):
        result = run_axe(tab)
        assert result.rules_run >= 50, f"axe ran only {result.rules_run} rules on {tab.url}"
        found.extend(result.lines())
    assert not found, f"{len(found)} accessibility violations:\n" + "\n".join(found)


def test_axe_runs_the_wcag_rules_this_suite_relies_on(browser, site):
    """The rule set selected by the WCAG A/AA tags holds the checks the issue names (contrast, language, names)."""
    with new_tab(browser, DESKTOP) as tab:
        tab.goto(site.url_of(site.pages[0]))
        rules = axe_rule_ids(tab)
    assert len(rules) >= 50
    for rule in ("color-contrast", "html-has-lang", "document-title", "image-alt", "link-name", "list", "td-headers-attr"):
        assert rule in rules


def test_at_320px_nothing_scrolls_sideways(browser, site):
    """At 320 CSS px wide (WCAG 1.4.10 reflow) no page is wider than the screen and no text runs off it."""
    problems = []
    for name, tab in open_pages(browser, site, PHONE):
        if horizontal_overflow(tab) > 0:
            problems.append(f"{name}: {horizontal_overflow(tab)} px wider than the screen")
        problems.extend(f"{name}: {what} reaches past the screen" for what in outside_viewport(tab))
        # Tables reflow into stacked rows there; they must still be tables to a screen reader.
        if tab.get_by_role("table").count() != tab.locator("table").count():
            problems.append(f"{name}: a table restyled for the phone lost its table role")
    assert not problems, "\n".join(problems)


def test_at_200_percent_zoom_the_page_reflows_and_stays_readable(browser, site):
    """Zoomed to 200% (640 CSS px at scale 2): no sideways scroll, no text cut off, body text at least 16 CSS px."""
    problems = []
    for name, tab in open_pages(browser, site, ZOOMED, scale=2):
        if horizontal_overflow(tab) > 0:
            problems.append(f"{name}: {horizontal_overflow(tab)} px wider than the window")
        problems.extend(f"{name}: {what} reaches past the window" for what in outside_viewport(tab))
        body = tab.evaluate("parseFloat(getComputedStyle(document.querySelector('main') || document.body).fontSize)")
        if body < 16:
            problems.append(f"{name}: body text is {body} px")
    assert not problems, "\n".join(problems)


def test_keyboard_reaches_every_link_in_reading_order_with_a_visible_focus(browser, site):
    """Tab stops at every link and control, in the order the page reads, each with an outline or focus ring."""
    problems = []
    for name, tab in open_pages(browser, site, DESKTOP):
        expected = reachable_in_dom_order(tab)
        stops = tab_through(tab, limit=len(expected) + 3)
        if [stop["html"] for stop in stops] != expected:
            reached = [stop["html"] for stop in stops]
            first = next((i for i, (a, b) in enumerate(zip(reached, expected, strict=False)) if a != b), min(len(reached), len(expected)))
            problems.append(
                f"{name}: {len(reached)} Tab stops for {len(expected)} links and controls; first difference at stop {first + 1}: "
                f"{reached[first] if first < len(reached) else '(none)'} instead of {expected[first] if first < len(expected) else '(none)'}"
            )
        problems.extend(f"{name}: no visible focus on {stop['html']} ({stop['outline']})" for stop in stops if not stop["indicated"])
    assert not problems, "\n".join(problems)


def test_headings_are_in_order(browser, site):
    """Every page has one h1 first, and no heading level is skipped on the way down."""
    problems = []
    for name, tab in open_pages(browser, site, DESKTOP):
        problems.extend(f"{name}: {problem}" for problem in skipped_levels(heading_levels(tab)))
    assert not problems, "\n".join(problems)


def test_the_checks_catch_a_page_that_fails_them(browser, tmp_path):
    """A page built to fail (no alt, low contrast, skipped heading, a wide table, no focus ring) fails each check."""
    bad = tmp_path / "bad" / "index.html"
    bad.parent.mkdir()
    bad.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bad</title>'
        "<style>a:focus{outline:none} .pale{color:#bbb;background:#fff} table{width:900px}</style></head>"
        '<body><main><h1>Bad</h1><h3>Skipped</h3><p class="pale">Hard to read</p><img src="x.png">'
        '<a href="#a">one</a><table><tr><td>wide</td></tr></table></main></body></html>',
        encoding="utf-8",
    )
    with StaticSite(tmp_path) as served, new_tab(browser, PHONE) as tab:
        tab.goto(served.url_of(bad))
        rules = {line.split(": ")[1].split(" ")[0] for line in run_axe(tab).lines()}
        assert {"color-contrast", "image-alt"} <= rules
        assert horizontal_overflow(tab) > 0
        assert skipped_levels(heading_levels(tab)) == ["h1 followed by h3"]
        assert [stop["indicated"] for stop in tab_through(tab, 5)] == [False]
