"""A real standard handout, built and stamped, keeps what screen readers need."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from support import ROOT
from support.pdf import brand

from handoutpress.cli import main


@pytest.fixture(scope="module")
def handout(tmp_path_factory) -> PdfReader:
    out = tmp_path_factory.mktemp("out")
    source = ROOT / "handouts" / "en" / "ketamine-and-your-other-medications.yaml"
    assert main(["--root", str(ROOT), "build", str(source), "--out", str(out), "--jobs", "1", "--today", "2026-01-10", "--quiet"]) == 0
    path = out / "en" / "Ketamine-and-Your-Other-Medications.pdf"
    return PdfReader(io.BytesIO(path.read_bytes()))


def _elements(reader: PdfReader):
    todo = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if node.get("/S"):
            yield node
        kids = node.get("/K")
        kids = kids if isinstance(kids, list) else [kids] if kids is not None else []
        todo.extend(k for k in kids if hasattr(k, "get_object") and hasattr(k.get_object(), "get"))


def test_catalog_after_stamping(handout):
    """Stamping keeps /Lang, /MarkInfo, the structure tree, the outline and the window title."""
    root = handout.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert handout.metadata.title == "Ketamine and Your Other Medications"
    titles = [item.title for item in handout.outline if not isinstance(item, list)]
    assert titles[0] == "Ketamine and Your Other Medications"


def test_links_tagged_and_clickable(handout):
    """Every link annotation survives stamping, with a /StructParent tying it to a /Link element."""
    annotations = [a.get_object() for page in handout.pages for a in page.get("/Annots") or []]
    links = [a for a in annotations if a["/Subtype"] == "/Link"]
    assert links, "the handout has links"
    assert all("/StructParent" in a for a in links)
    assert sum(1 for e in _elements(handout) if e["/S"] == "/Link") == len(links)


def test_figures_have_alt_text_and_tables_have_headers(handout):
    """The logo and every image carry /Alt; table header cells are tagged TH."""
    figures = [e for e in _elements(handout) if e["/S"] == "/Figure"]
    assert figures and all(e.get("/Alt") for e in figures)
    assert any(e.get("/Alt") == brand().config.logo.alt for e in figures)
    tags = {e["/S"] for e in _elements(handout)}
    if "/Table" in tags:
        assert "/TH" in tags


def test_crisis_lines_and_disclaimer_in_tagged_body(handout):
    """The crisis wording and the full disclaimer are real text, not only the stamp."""
    first = handout.pages[0].extract_text()
    wording = brand().wording("en")
    assert first.count(wording.crisis_stamp) >= 2  # the crisis box and the stamp
    last = " ".join(handout.pages[-1].extract_text().split())
    assert " ".join(wording.disclaimer_full.split())[:60] in last
