"""The front desk's catalogue: out/index.html and its page-1 thumbnails."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser

import pytest
from support import ROOT, pdf_outputs
from support.frontdesk import build, make_project, manifest

from handoutpress.files import sha256
from handoutpress.frontdesk.catalogue import INDEX, fold, render_catalogue
from handoutpress.publish import thumbnail_path


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """One build of the small library, shared read-only by this module's tests."""
    root = make_project(tmp_path_factory.mktemp("catalogue") / "project")
    out = root / "out"
    assert build(root, out) == 0
    return root, out


@pytest.fixture
def own_copy(library, tmp_path):
    """A private copy of the built library, for tests that change it."""
    root, out = library
    copy = tmp_path / "project"
    shutil.copytree(root, copy)
    return copy, copy / "out"


class _Page(HTMLParser):
    """The parts of the catalogue the tests look at."""

    def __init__(self):
        super().__init__()
        self.outputs: list[dict] = []
        self.links: list[str] = []
        self.scripts_with_src = 0
        self.stylesheets = 0
        self.labels_for: set[str] = set()
        self.inputs: list[dict] = []
        self.badges: list[str] = []
        self._badge_depth = 0
        self._badge_text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "li" and "output" in (a.get("class") or "").split():
            self.outputs.append({"path": a.get("data-path"), "variant": a.get("data-variant")})
        if tag == "img" and self.outputs:
            self.outputs[-1]["img"] = a.get("src")
            self.outputs[-1]["alt"] = a.get("alt")
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        if tag == "script" and a.get("src"):
            self.scripts_with_src += 1
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets += 1
        if tag == "label":
            self.labels_for.add(a.get("for"))
        if tag in ("input", "select"):
            self.inputs.append(a)
        if tag == "span" and "badge" in (a.get("class") or "").split():
            self._badge_depth, self._badge_text = 1, ""
        elif tag == "span" and self._badge_depth:
            self._badge_depth += 1

    def handle_endtag(self, tag):
        if tag == "span" and self._badge_depth:
            self._badge_depth -= 1
            if not self._badge_depth:
                self.badges.append(self._badge_text)

    def handle_data(self, data):
        if self._badge_depth:
            self._badge_text += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def test_catalogue_lists_every_output_with_its_thumbnail(library):
    """index.html has one entry per manifest output, each with a page-1 PNG named by the PDF's sha256."""
    _, out = library
    outputs = pdf_outputs(manifest(out))
    page = parse((out / INDEX).read_text(encoding="utf-8"))
    assert sorted(o["path"] for o in page.outputs) == sorted(o["path"] for o in outputs)
    assert len(outputs) == 5
    by_path = {o["path"]: o for o in page.outputs}
    for entry in outputs:
        shown = by_path[entry["path"]]
        assert shown["variant"] == entry["variant"]
        assert shown["img"] == thumbnail_path(entry["sha256"])
        assert shown["alt"].startswith(f"Page 1 of {entry['title']}")
        png = (out / shown["img"]).read_bytes()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert sha256((out / entry["path"]).read_bytes()) == entry["sha256"]


def test_thumbnail_shows_page_one(library):
    """The thumbnail is a portrait page, 240 px wide, mostly white paper with some ink."""
    from PIL import Image

    _, out = library
    entry = next(o for o in manifest(out)["outputs"] if o["variant"] == "standard")
    image = Image.open(out / thumbnail_path(entry["sha256"])).convert("L")
    width, height = image.size
    assert width == 240
    assert height == round(240 * 792 / 612)  # letter paper
    histogram = image.histogram()
    white = sum(histogram[240:]) / (width * height)
    dark = sum(histogram[:100]) / (width * height)
    assert 0.5 < white < 0.98
    assert dark > 0.005


def test_catalogue_is_self_contained(library):
    """The page fetches nothing from a network: style and script are inline, links are relative."""
    _, out = library
    html = (out / INDEX).read_text(encoding="utf-8")
    page = parse(html)
    assert page.stylesheets == 0 and page.scripts_with_src == 0
    assert "<style>" in html and "<script>" in html
    external = [link for link in page.links if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("//")]
    assert external == []
    assert "@import" not in html and "url(" not in html


def test_review_status_badges_say_it_in_words(library):
    """Overdue and current reviews are badges with words, not only a colour."""
    _, out = library
    page = parse((out / INDEX).read_text(encoding="utf-8"))
    assert sorted(page.badges) == ["Review overdue: was due Feb 2026", "Reviewed, current: next Sep 2027"]
    html = (out / INDEX).read_text(encoding="utf-8")
    assert '<span class="badge badge-overdue">Review overdue' in html


def test_every_form_control_has_a_label(library):
    """The search box (and each personalise field when served) has a visible label."""
    root, out = library
    page = parse((out / INDEX).read_text(encoding="utf-8"))
    assert [i.get("id") for i in page.inputs] == ["q"]
    served = parse(render_catalogue(manifest(out), templates=root / "templates", styles=root / "styles", personalise=True))
    ids = [i.get("id") for i in served.inputs]
    assert len(ids) == 1 + 2 * 4  # search, and per handout: version, name, date, initials
    assert set(ids) <= served.labels_for


def test_unchanged_build_keeps_thumbnails_and_changed_pdf_replaces_its_own(own_copy):
    """A rebuild reuses each thumbnail; editing one handout swaps only its thumbnails; others' files stay."""
    root, out = own_copy
    thumbs = out / "thumbs"
    foreign = thumbs / "notes.txt"
    foreign.write_text("kept", encoding="utf-8")
    before = {p.name: p.stat().st_mtime_ns for p in thumbs.glob("*.png")}
    assert build(root, out) == 0
    assert {p.name: p.stat().st_mtime_ns for p in thumbs.glob("*.png")} == before

    walking_before = {o["sha256"] for o in manifest(out)["outputs"] if o["id"] == "walking"}
    text = (root / "handouts/en/walking.yaml").read_text(encoding="utf-8")
    (root / "handouts/en/walking.yaml").write_text(text.replace("ten minutes", "fifteen minutes"), encoding="utf-8")
    assert build(root, out) == 0
    outputs = pdf_outputs(manifest(out))
    wanted = {f"{o['sha256']}.png" for o in outputs}
    assert {p.name for p in thumbs.glob("*.png")} == wanted
    assert not walking_before & {o["sha256"] for o in outputs}
    kept = {name for name in before if name in wanted}
    assert len(kept) == 3  # the sleep handout's three outputs did not change
    assert foreign.read_text(encoding="utf-8") == "kept"


def test_removed_handout_leaves_the_catalogue_and_its_thumbnails_go(own_copy):
    """Deleting a handout's source removes its entries and its thumbnails at the next build."""
    root, out = own_copy
    gone = {o["sha256"] for o in manifest(out)["outputs"] if o["id"] == "walking"}
    (root / "handouts/en/walking.yaml").unlink()
    assert build(root, out) == 0
    html = (out / INDEX).read_text(encoding="utf-8")
    assert "Walking for Your Health" not in html
    assert not any((out / thumbnail_path(d)).exists() for d in gone)
    assert len(parse(html).outputs) == 3


def test_damaged_pdf_gets_no_preview_and_the_page_is_still_written(own_copy):
    """A PDF pdfium cannot read costs its thumbnail only; the catalogue says 'No preview'."""
    from handoutpress.frontdesk.catalogue import write_catalogue
    from handoutpress.load.brand import load_brand
    from handoutpress.load.project import Project

    root, out = own_copy
    entry = next(o for o in manifest(out)["outputs"] if o["variant"] == "faq-sheet")
    (out / thumbnail_path(entry["sha256"])).unlink()
    (out / entry["path"]).write_bytes(b"%PDF-1.7\nnot really\n")
    report = write_catalogue(out, Project(root), load_brand(root / "brands/default", root))
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"{entry['path']}: no thumbnail: PdfiumError")
    html = (out / INDEX).read_text(encoding="utf-8")
    assert len(parse(html).outputs) == 5
    assert not (out / thumbnail_path(entry["sha256"])).exists()


def test_titles_and_topics_are_escaped(library):
    """Markup in a title or topic is shown as text, never run."""
    root, out = library
    data = manifest(out)
    data["outputs"][0] = {
        **data["outputs"][0],
        "title": "<script>alert(1)</script>",
        "topics": ['"><img src=x onerror=alert(2)>'],
    }
    html = render_catalogue(data, templates=root / "templates", styles=root / "styles")
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_text_folds_accents_like_the_page_script(library):
    """Each card's search text holds title, topics and language names, accent-free and lower case."""
    root, out = library
    data = manifest(out)
    data["outputs"] = [{**o, "language": "es", "title": "Cómo dormir mejor"} for o in data["outputs"] if o["id"] == "walking"]
    html = render_catalogue(data, templates=root / "templates", styles=root / "styles")
    search = re.search(r'data-search="([^"]*)"', html)[1]
    assert search == "como dormir mejor exercise es espanol spanish standard large print"
    assert fold("ÉSPAÑOL Ünïcode") == "espanol unicode"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_text_colours_reach_wcag_aa():
    """Every text/background pair the stylesheet uses reaches 4.5:1 (the focus ring 3:1)."""
    css = (ROOT / "styles" / "catalogue.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    colours["white"] = "#ffffff"
    pairs = [
        ("ink", "white"),
        ("muted", "white"),
        ("muted", "tint"),
        ("primary", "white"),
        ("primary", "tint"),
        ("white", "primary"),
        ("white", "primary-dark"),
        ("white", "overdue-bg"),
        ("due-ink", "due-bg"),
        ("current-ink", "current-bg"),
    ]
    low = {
        f"{t} on {b}": round(_contrast(colours[t], colours[b]), 2) for t, b in pairs if _contrast(colours[t], colours[b]) < 4.5
    }
    assert low == {}
    assert _contrast(colours["focus"], colours["white"]) >= 3


def test_new_thumbnail_is_written_atomically_and_only_once(own_copy, monkeypatch):
    """A missing thumbnail is made through files.atomic_write; present ones are not rewritten."""
    import handoutpress.frontdesk.catalogue as catalogue
    from handoutpress.load.project import Project

    root, out = own_copy
    entry = manifest(out)["outputs"][0]
    (out / thumbnail_path(entry["sha256"])).unlink()
    written = []
    real = catalogue.atomic_write
    monkeypatch.setattr(
        catalogue, "atomic_write", lambda path, data: (written.append(path.relative_to(out).as_posix()), real(path, data))
    )
    report = catalogue.write_catalogue(out, Project(root))
    assert written == [thumbnail_path(entry["sha256"]), INDEX]
    assert report.thumbnails_made == [thumbnail_path(entry["sha256"])]
    assert report.thumbnails_removed == []


def test_catalogue_handles_a_topicless_unknown_variant():
    """An output without topics and with a variant the page does not know still shows, under 'Other'."""
    from handoutpress.frontdesk.catalogue import catalogue_view

    groups = catalogue_view(
        [{"path": "en/x.pdf", "id": "x", "title": "X", "language": "en", "variant": "pocket-card", "pages": 1}]
    )
    assert [g["topic"] for g in groups] == ["Other"]
    assert groups[0]["handouts"][0]["outputs"][0]["variant_label"] == "Pocket card"


def test_missing_catalogue_stylesheet_is_one_line_and_the_pdfs_stay(own_copy, capsys):
    """Without styles/catalogue.css the build still writes PDFs and manifest, then says why index.html is not written."""
    root, out = own_copy
    (root / "styles" / "catalogue.css").unlink()
    (out / INDEX).unlink()
    assert build(root, out, "--force") == 1
    err = capsys.readouterr().err.splitlines()
    assert "styles/catalogue.css: catalogue (index.html) not written: No such file or directory" in err
    assert not (out / INDEX).exists()
    assert len(pdf_outputs(manifest(out))) == 5


def test_editing_the_catalogue_template_rebuilds_no_pdf(mini, capsys):
    """The catalogue's template shapes index.html only: changing it rewrites the
    catalogue and leaves every PDF unchanged."""
    from support.project import GOOD_HANDOUT

    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    out = mini.root / "out"
    assert mini.run("build", "--out", str(out), "--today", "2025-06-01", "--jobs", "1", "--quiet") == 0
    before = {p: p.read_bytes() for p in out.rglob("*.pdf")}
    template = mini.root / "templates" / "catalogue.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n{# edited by the front-desk lead #}\n", encoding="utf-8")
    capsys.readouterr()
    assert mini.run("build", "--out", str(out), "--today", "2025-06-01", "--jobs", "1", "--quiet") == 0
    summary = capsys.readouterr().out
    assert summary.startswith("0 built"), summary
    assert {p: p.read_bytes() for p in out.rglob("*.pdf")} == before


def test_cards_show_their_codes_and_carry_them_for_the_search(library):
    """A coded handout's card says its codes by system and holds them for the page's script; an uncoded one neither."""
    _, out = library
    html = (out / INDEX).read_text(encoding="utf-8")
    assert '<label for="q">Search by title, topic, language or code</label>' in html
    assert '<p class="codes"><span class="sr">Codes: </span>ICD-10-CM G47.0, F33; RxNorm 6130</p>' in html
    assert 'data-codes="icd10cm:G47.0 icd10cm:F33 rxnorm:6130"' in html
    assert html.count('class="codes"') == 1 and 'data-codes=""' in html


def test_the_print_list_and_banner_are_only_on_the_served_page(library):
    """From disk there is no print list and no "Add" button; served, both, and a banner only while events wait."""
    root, out = library
    from_disk = (out / INDEX).read_text(encoding="utf-8")
    assert 'id="basket"' not in from_disk and "Add to print list" not in from_disk
    served = render_catalogue(manifest(out), templates=root / "templates", styles=root / "styles", personalise=True)
    assert 'id="basket"' in served and served.count("Add to print list<span") == 5
    assert 'id="records-banner"' not in served
    waiting = render_catalogue(
        manifest(out), templates=root / "templates", styles=root / "styles", personalise=True, pending=3
    )
    assert "so 3 events wait on this computer" in waiting
