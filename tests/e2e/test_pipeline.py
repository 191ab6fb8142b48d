"""The whole pipeline on the real library: PDFs that are stamped, titled,
tagged and complete, and a command line with the promised exit statuses."""

from __future__ import annotations

import re

import pytest
from pypdf import PdfReader
from support import SEED_DAY, pdf_outputs
from support.project import GOOD_HANDOUT

EXPECTED_OUTPUTS = {
    ("ketamine-and-your-other-medications", "standard"),
    ("ketamine-and-your-other-medications", "large-print"),
    ("ketamine-and-your-other-medications", "faq-sheet"),
    ("ketamine-and-antidepressants", "standard"),
    ("ketamine-and-antidepressants", "large-print"),
    ("ketamine-and-antidepressants", "faq-sheet"),
}


def _english(built):
    return [o for o in pdf_outputs(built.manifest) if o["language"] == "en"]


def test_every_seed_output_is_built(built_library):
    """Both seed handouts give a standard, a large-print and an FAQ-sheet PDF."""
    assert built_library.status == 0
    made = {(o["id"], o["variant"]) for o in _english(built_library)}
    assert EXPECTED_OUTPUTS <= made
    for o in built_library.manifest["outputs"]:
        assert (built_library.out / o["path"]).is_file()


def test_every_page_carries_the_stamp(built_library):
    """Each page's text holds the disclaimer, 911, 988, both review months,
    'Page i of n' and the edition."""
    for o in _english(built_library):
        reader = PdfReader(built_library.out / o["path"])
        assert len(reader.pages) == o["pages"]
        for i, page in enumerate(reader.pages, start=1):
            text = re.sub(r"\s+", " ", page.extract_text())
            assert "Emergency: 911 · Call or text 988" in text, (o["path"], i)
            assert "For education only. Not a substitute for advice from your own care team." in text
            assert "Reviewed February 2025" in text and "Next review February 2026" in text
            assert f"Page {i} of {o['pages']}" in text
            assert f"Edition {o['edition']}" in text


def test_metadata_title_author_subject_language(built_library):
    """Title, author, subject and /Lang are set from the content and brand."""
    by_key = {(o["id"], o["variant"]): o for o in _english(built_library)}
    o = by_key[("ketamine-and-your-other-medications", "standard")]
    reader = PdfReader(built_library.out / o["path"])
    meta = reader.metadata
    assert meta.title == "Ketamine and Your Other Medications"
    assert meta.author == "Riverbend Community Mental Health"
    assert meta.subject.startswith("Using Spravato or IV ketamine")
    assert reader.trailer["/Root"]["/Lang"] == "en"
    faq = PdfReader(built_library.out / by_key[("ketamine-and-your-other-medications", "faq-sheet")]["path"])
    assert faq.metadata.title == "Ketamine and Your Other Medications: Questions and answers"
    large = PdfReader(built_library.out / by_key[("ketamine-and-your-other-medications", "large-print")]["path"])
    assert large.metadata.title == "Ketamine and Your Other Medications (Large print)"


def test_fonts_are_embedded(built_library):
    """Every font on every page, including the stamp's, is embedded."""
    for o in _english(built_library):
        reader = PdfReader(built_library.out / o["path"])
        for page in reader.pages:
            for font in _fonts(page["/Resources"]):
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] if "/DescendantFonts" in font else font["/FontDescriptor"]
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]


def _fonts(resources):
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
            yield from _fonts(xobject["/Resources"])


def test_manifest_fields(built_library):
    """The manifest lists each output with the fields PRODUCT.md names."""
    required = {"path", "id", "title", "language", "kind", "variant", "pages", "bytes", "sha256", "inputs_sha256",
                "reviewed", "next_review", "review_status", "edition"}
    for o in pdf_outputs(built_library.manifest):
        assert required <= set(o)
        assert o["bytes"] == (built_library.out / o["path"]).stat().st_size
    statuses = {o["review_status"] for o in _english(built_library)}
    assert statuses == {"current"}  # on 2025-06-01 the seed review (next February 2026) is current


def test_stamp_band_never_covers_content(built_library):
    """No body text is drawn inside the stamp's band at the foot of the page."""
    from handoutpress.render.variants import VARIANTS

    for o in _english(built_library):
        band_top = VARIANTS[o["variant"]].band.height_in * 72
        margin = VARIANTS[o["variant"]].bottom_margin_in * 72
        assert band_top <= margin
        reader = PdfReader(built_library.out / o["path"])
        for page in reader.pages:
            lowest = []

            def visit(text, cm, tm, font, size, lowest=lowest):
                if text.strip():
                    lowest.append(tm[5] * cm[3] + cm[5])

            # The page's own content only: the stamp is drawn through a form XObject.
            page.extract_text(visitor_text=visit)
            body = [y for y in lowest if y > band_top]
            stamp = [y for y in lowest if y <= band_top]
            assert body, "page has body text"
            assert all(y >= margin - 14 for y in body), (o["path"], min(body))
            assert stamp, "stamp text present in the band"


def test_overdue_is_built_and_reported(mini, capsys):
    """A handout past its next review is built, listed overdue, and fails only under --strict."""
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    out = mini.root / "out"
    assert mini.run("build", "--out", str(out), "--today", "2026-11-20", "--jobs", "1") == 0
    err = capsys.readouterr().err
    assert "handouts/en/sleep-and-your-mood.yaml: review is overdue: next review was due 2026-02" in err
    import json

    manifest = json.loads((out / "manifest.json").read_text())
    assert {o["review_status"] for o in manifest["outputs"]} == {"overdue"}
    assert mini.run("build", "--out", str(out), "--today", "2026-11-20", "--strict") == 1


def test_bad_handout_does_not_stop_the_others(mini, capsys):
    """One broken file fails with its message; the good one is still built; exit 1."""
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    mini.write("handouts/en/broken.yaml", GOOD_HANDOUT.replace("next_review: 2026-02", "next_review: 2026-13"))
    out = mini.root / "out"
    assert mini.run("build", "--out", str(out), "--today", SEED_DAY, "--jobs", "1") == 1
    err = capsys.readouterr().err
    assert "handouts/en/broken.yaml:6: review.next_review: expected YYYY-MM or YYYY-MM-DD, got '2026-13'" in err
    assert (out / "en" / "Sleep-and-Your-Mood.pdf").is_file()
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["build", "--jobs", "many"], "generate.py: argument --jobs: invalid int value: 'many'"),
        (["build", "--today", "20/11/2026"], "generate.py: argument --today: expected YYYY-MM-DD, got '20/11/2026'"),
        (["build", "--jobs", "-1"], "generate.py: --jobs must be 0 or more, got -1"),
    ],
)
def test_command_line_mistakes_exit_2(mini, capsys, argv, message):
    """A wrong command line is one line on stderr and exit status 2."""
    assert mini.run(*argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_generate_py_runs_from_a_shell(project_root, tmp_path):
    """`python generate.py check` works as a plain command with exit 0 on the real content."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "generate.py", "check", "--today", SEED_DAY],
        cwd=project_root, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
