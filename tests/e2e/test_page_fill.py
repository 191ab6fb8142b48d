"""Pages a designer would sign off: no PDF ends on a page holding only its closing
"About this handout" block or filled less than a quarter, and no large-print
page but the first and the last is less than 55% full unless a table or
picture that cannot be split starts the next page. Checked on every seed
handout and a fixture handout, in every variant and language, with the
page-fill measure of support.pagefill (tested here first on pages made by hand).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import weasyprint
from support import ROOT, SEED_DAY, pdf_outputs
from support.pagefill import Margins, PageFill, measure_pages, variant_margins
from support.pdf import stamped_document
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.render.html import load_labels
from handoutpress.render.variants import VARIANTS

LAST_PAGE_LEAST = 0.25
LARGE_PRINT_LEAST = 0.55
# What may move whole to the next page and leave the page before it short.
UNSPLITTABLE = {"Table", "Figure"}
ONE_INCH = Margins(72.0, 72.0, 72.0, 72.0)


def _typeset(body: str, *, css: str = "") -> bytes:
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Fill</title><style>'
        '@page { size: letter; margin: 1in } html { font-family: "Open Sans"; font-size: 12pt; line-height: 1.45 }'
        f"{css}</style></head><body>{body}</body></html>"
    )
    return weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")


# ---------------------------------------------------------------------------
# The measure itself

# A letter page less 1 inch margins leaves a content area 9 inches high.


def test_a_box_down_half_the_content_area_reads_one_half():
    """A block filling the top half of the content area reads 0.5, and an empty page 0."""
    data = _typeset('<div style="height: 4.5in; background: #dde"></div><div style="break-before: page"></div>')
    first, second = measure_pages(data, ONE_INCH)
    assert first.fill == pytest.approx(0.5, abs=0.01)
    assert second.fill == 0.0


def test_text_down_half_the_content_area_reads_about_one_half():
    """Paragraphs of text running halfway down the content area read about 0.5,
    the white space between their lines and paragraphs counted as filled."""
    # 13 one-line paragraphs, 17.4 pt lines 7.2 pt apart: 312.6 pt of the 648 pt content area.
    paragraph = "<p style='margin: 0 0 0.6em'>Keep the same wake-up time every day.</p>"
    (page,) = measure_pages(_typeset(paragraph * 13), ONE_INCH)
    assert page.fill == pytest.approx(312.6 / 648, abs=0.03)
    assert page.top_line.startswith("Keep the same wake-up time every day.")


def test_a_full_page_of_text_reads_about_one():
    """Text from the top of the content area to its foot reads close to 1."""
    paragraph = "<p>" + "Many people notice a change in one or two weeks. " * 10 + "</p>"
    first, *_ = measure_pages(_typeset(paragraph * 12), ONE_INCH)
    assert first.fill > 0.95


def test_a_wide_gap_is_empty_and_a_narrow_one_is_not():
    """White space a reader sees (here 2 inches) is not counted; space under a third of an inch is."""
    line = "<p style='margin: 0'>One line of text.</p>"
    wide = measure_pages(_typeset(line + '<div style="height: 2in"></div>' + line), ONE_INCH)[0]
    narrow = measure_pages(_typeset(line + '<div style="height: 0.2in"></div>' + line), ONE_INCH)[0]
    assert wide.fill < 0.1
    assert narrow.fill == pytest.approx((2 * 0.2 + 0.2) / 9, abs=0.03)


def test_the_stamp_band_is_left_out():
    """A stamped page holding one line reads as one line: the stamp's band is not content."""
    last = measure_pages(stamped_document(2), variant_margins("standard"))[-1]
    assert last.text == "Last page."
    assert last.fill < 0.05


def test_a_page_says_what_opens_it():
    """The topmost printed thing's structure is reported, so a table moved whole can be told."""
    data = _typeset("<p>Before the table.</p><table style='break-before: page'><tr><th>Time</th><td>9 pm</td></tr></table>")
    first, second = measure_pages(data, ONE_INCH)
    assert "P" in first.opens_with and "Table" not in first.closes_with
    assert "Table" in second.opens_with
    assert _moved_whole(first, second)
    rows = "".join(f"<tr><th>Row {i}</th><td>Put screens away</td></tr>" for i in range(60))
    split = measure_pages(_typeset(f"<table><thead><tr><th>Time</th><th>What to do</th></tr></thead>{rows}</table>"), ONE_INCH)
    assert len(split) == 2 and "Table" in split[0].closes_with and not _moved_whole(*split)


def test_margins_come_from_the_stylesheets():
    """The content area is the one styles/ sets, and it keeps clear of the stamp's band."""
    for name, variant in VARIANTS.items():
        margins = variant_margins(name)
        assert margins.bottom == pytest.approx(variant.bottom_margin_in * 72), name
        assert margins.bottom >= variant.band.height_in * 72, name


# ---------------------------------------------------------------------------
# Every output of the seeds and of a fixture handout


@dataclass(frozen=True)
class Output:
    path: Path
    shown: str  # as the failure names it
    variant: str
    language: str


@pytest.fixture(scope="module")
def fixture_library(tmp_path_factory) -> list[Output]:
    """The fixture handout (support.project.GOOD_HANDOUT) built in every variant."""
    mini = MiniProject(tmp_path_factory.mktemp("fill") / "project")
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    out = mini.root / "out"
    assert mini.run("build", "--out", str(out), "--today", SEED_DAY, "--quiet") == 0
    return _outputs(out, "fixture")


def _outputs(out: Path, origin: str) -> list[Output]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return [Output(out / o["path"], f"{origin} {o['path']}", o["variant"], o["language"]) for o in pdf_outputs(manifest)]


def _every_output(built_library, fixture_library) -> list[Output]:
    seeds = _outputs(built_library.out, "seed")
    assert {(o.variant, o.language) for o in seeds} >= {(v, lang) for v in VARIANTS for lang in ("en", "es")}
    assert {o.variant for o in fixture_library} == set(VARIANTS)
    return seeds + fixture_library


def _pages(output: Output) -> list[PageFill]:
    return measure_pages(output.path.read_bytes(), variant_margins(output.variant))


def _opens_with_heading(page: PageFill, heading: str) -> bool:
    """The page's first line is (the start of) ``heading``: nothing printed comes before it."""
    return bool(page.top_line) and (" ".join(heading.split()).startswith(page.top_line) or page.top_line.startswith(heading))


def _moved_whole(page: PageFill, after: PageFill) -> bool:
    """A table or picture opens ``after`` without being continued from the foot of ``page``:
    it moved whole, so it could not be split where ``page`` ends."""
    moved = UNSPLITTABLE & set(after.opens_with)
    return bool(moved - set(page.closes_with))


def _findings(output: Output, pages: list[PageFill]) -> list[str]:
    labels = load_labels(ROOT / "labels", output.language)
    last = pages[-1]
    found = []
    if _opens_with_heading(last, labels["about_this_handout"]):
        found.append(
            f"{output.shown}: page {last.number} (the last) holds only the closing block {labels['about_this_handout']!r}"
        )
    if output.variant != "large-print" and _opens_with_heading(last, labels["contact_heading"]):
        # Here the whole closing section fits a page, so it can travel with what comes before it.
        found.append(f"{output.shown}: page {last.number} (the last) holds only the closing section")
    if len(pages) > 1 and last.fill < LAST_PAGE_LEAST:
        found.append(f"{output.shown}: page {last.number} (the last) is {last.fill:.0%} full, under {LAST_PAGE_LEAST:.0%}")
    if output.variant == "large-print":
        for page, after in zip(pages[1:-1], pages[2:], strict=True):
            if page.fill < LARGE_PRINT_LEAST and not _moved_whole(page, after):
                found.append(f"{output.shown}: page {page.number} is {page.fill:.0%} full, under {LARGE_PRINT_LEAST:.0%}")
    return found


def test_every_output_has_pages_a_designer_would_sign_off(built_library, fixture_library):
    """No output ends on a page holding only its closing block or under a quarter full,
    and no large-print page but the first and the last is under 55% full unless
    a table or picture that cannot be split starts the next page."""
    findings = []
    for output in _every_output(built_library, fixture_library):
        findings += _findings(output, _pages(output))
    assert not findings, "\n".join(findings)


def test_the_rules_catch_a_lonely_closing_block(tmp_path):
    """The check itself fails a last page that holds only "About this handout", naming output and page."""
    labels = load_labels(ROOT / "labels", "en")
    lonely = _typeset(f"<p>{'Text. ' * 40}</p><h2 style='break-before: page'>{labels['about_this_handout']}</h2><p>Short.</p>")
    path = tmp_path / "lonely.pdf"
    path.write_bytes(lonely)
    output = Output(path, "made by hand", "standard", "en")
    findings = _findings(output, measure_pages(lonely, ONE_INCH))
    assert findings[0] == "made by hand: page 2 (the last) holds only the closing block 'About this handout'"
    assert findings[1].startswith("made by hand: page 2 (the last) is ")


def test_the_rules_catch_a_short_large_print_page_unless_a_table_moved_whole(tmp_path):
    """A large-print page under 55% full is named, but not when a table that moved whole opens the next page."""
    block = '<div style="height: 8in; background: #dde"></div>'
    table = "<table><tr><th>9 pm</th><td>Put screens away</td></tr></table>"
    found = {}
    for name, opening in (("text", "<p>Lights out.</p>"), ("table", table)):
        pages = (
            f"{block}<p style='break-before: page'>Short.</p><div style='break-before: page'>{opening}{block}</div><p>Last.</p>"
        )
        data = _typeset(pages)
        (tmp_path / name).write_bytes(data)
        findings = _findings(Output(tmp_path / name, f"by hand ({name})", "large-print", "en"), measure_pages(data, ONE_INCH))
        found[name] = [finding for finding in findings if "under 55%" in finding]
    assert found == {"text": ["by hand (text): page 2 is 1% full, under 55%"], "table": []}
