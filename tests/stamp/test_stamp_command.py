"""`generate.py stamp` on outside PDFs: page sizes, rotation, shrinking, refusals."""

from __future__ import annotations

import io
import os
import subprocess
import time
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_raw
import pytest
from pypdf import PdfReader, PdfWriter
from support import ROOT, SEED_DAY
from weasyprint import HTML

from handoutpress.cli.main import main
from handoutpress.stamp import outside

REVIEW = ["--reviewed", "2025-02", "--next-review", "2026-02"]
TODAY = ["--today", SEED_DAY]


def maker_pdf(size: str, *, pages: int = 1, to_the_edge: bool = False, lang: str = "en") -> bytes:
    """An untagged PDF such as a manufacturer sends: headings (bookmarks), links, text."""
    parts = []
    for i in range(1, pages + 1):
        parts.append(f"<h1>Medication guide part {i}</h1>")
        parts.append(
            "<p>Take this medicine as your doctor tells you. See <a href='https://example.org/guide'>example.org/guide</a>.</p>"
        )
        parts.append("<h2>Side effects</h2><p>Call your doctor about any side effect that bothers you.</p>")
        if i < pages:
            parts.append("<p style='break-after: page'></p>")
    if to_the_edge:  # ink down to the page's bottom edge, with a link in the last line
        parts.append(
            "<p style='position: absolute; bottom: -0.5in; left: 0'>Last line at the edge: "
            "<a href='https://example.org/edge'>example.org/edge</a></p>"
        )
    html = (
        f"<html lang='{lang}'><head><title>Medication guide</title><style>@page {{ size: {size}; margin: 0.5in }}"
        f" body {{ font-family: 'Open Sans'; font-size: 11pt }}</style></head><body>{''.join(parts)}</body></html>"
    )
    return HTML(string=html).write_pdf()


def rotated(data: bytes, degrees: int) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        page.rotate(degrees)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def joined(*documents: bytes) -> bytes:
    writer = PdfWriter()
    for data in documents:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("outside")
    letter = maker_pdf("letter", pages=2)
    made = {
        "letter": letter,
        "a4": maker_pdf("A4"),
        "landscape": maker_pdf("A4 landscape"),
        "rotate90": rotated(maker_pdf("letter"), 90),
        "rotate180": rotated(maker_pdf("letter"), 180),
        "rotate270": rotated(maker_pdf("A4"), 270),
        "mixed": joined(maker_pdf("letter"), maker_pdf("A4 landscape")),
        "edge": maker_pdf("letter", to_the_edge=True),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / f"{name}.pdf"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture(scope="module")
def stamped(sources) -> dict[str, Path]:
    out = {}
    for name, source in sources.items():
        target = source.with_name(f"{name}-stamped.pdf")
        assert main(["--root", str(ROOT), "stamp", str(source), "--out", str(target), *REVIEW]) == 0
        out[name] = target
    return out


def words(path: Path, page: int = 1) -> list[tuple[str, float, float, float, float, float, float]]:
    """(word, xmin, ymin, xmax, ymax, page width, page height) as the page is displayed (y down)."""
    xml = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    import re

    width, height = (float(v) for v in re.search(r'<page width="([\d.]+)" height="([\d.]+)"', xml).groups())
    found = []
    for m in re.finditer(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', xml):
        x0, y0, x1, y1 = (float(v) for v in m.groups()[:4])
        found.append((m[5], x0, y0, x1, y1, width, height))
    return found


def displayed_size(path: Path, page: int = 1) -> tuple[float, float]:
    page_obj = PdfReader(path).pages[page - 1]
    w, h = float(page_obj.cropbox.width), float(page_obj.cropbox.height)
    return (h, w) if (page_obj.rotation or 0) % 180 else (w, h)


def assert_stamp_upright_at_foot(path: Path, page: int = 1) -> None:
    width, height = displayed_size(path, page)
    found = {w[0]: w for w in words(path, page)}
    for word in ("Emergency:", "Page", "Reviewed"):
        _, x0, y0, x1, y1, _, _ = found[word]
        assert x1 - x0 > y1 - y0, f"{word!r} is not upright on page {page}: {found[word]}"
        assert height - 60 < y0 < height, f"{word!r} is not at the foot of the displayed page {page}: {found[word]}"
        assert 0 < x0 < x1 < width
    # "Page 1 of n" sits at the right of the displayed page.
    assert found["Page"][1] > width / 2


def verify_outside(path: Path, capsys) -> str:
    code = main(["--root", str(ROOT), "verify", "--outside", str(path), *TODAY])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.mark.parametrize("name", ["letter", "a4", "landscape", "rotate90", "rotate180", "rotate270"])
def test_stamped_upright_at_foot_and_verified(name, stamped, capsys):
    """Letter, A4, landscape and /Rotate pages get the stamp upright at the displayed foot, and verify --outside passes."""
    pages = len(PdfReader(stamped[name]).pages)
    for page in range(1, pages + 1):
        assert_stamp_upright_at_foot(stamped[name], page)
    assert "ok (" in verify_outside(stamped[name], capsys)


def test_stamp_typeset_for_each_page_size(stamped, capsys):
    """Mixed sizes in one file: each page's band spans that page's own width."""
    for page, width in ((1, 612.0), (2, 841.89)):
        assert displayed_size(stamped["mixed"], page)[0] == pytest.approx(width, abs=0.5)
        found = {w[0]: w for w in words(stamped["mixed"], page)}
        assert found["Page"][1] > width - 130, found["Page"]  # right-aligned near this page's right edge
        assert_stamp_upright_at_foot(stamped["mixed"], page)
    assert verify_outside(stamped["mixed"], capsys).startswith(f"{stamped['mixed']}: ok (2 pages stamped")


def ink_bounds(path: Path, own: int) -> tuple[list[tuple], list[tuple]]:
    """(content boxes, stamp boxes) of page 1: the stamp comes after the page's own ``own``
    objects (the band's form, then the page number's text)."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        objects = list(document[0].get_objects(max_depth=0))
        assert objects[own].type == pdfium_raw.FPDF_PAGEOBJ_FORM  # the band, first of the stamp
        return [obj.get_bounds() for obj in objects[:own]], [obj.get_bounds() for obj in objects[own:]]
    finally:
        document.close()


def source_bounds(path: Path) -> list[tuple]:
    """The boxes of page 1's objects in a PDF not yet stamped."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        objects = list(document[0].get_objects(max_depth=0))
        assert not any(obj.type == pdfium_raw.FPDF_PAGEOBJ_FORM for obj in objects)
        return [obj.get_bounds() for obj in objects]
    finally:
        document.close()


def test_page_with_room_is_left_as_it_is(sources, stamped):
    """A page whose content ends above the band is not shrunk: its content keeps its exact position."""
    before = source_bounds(sources["letter"])
    after, stamp = ink_bounds(stamped["letter"], len(before))
    assert [tuple(round(v, 2) for v in b) for b in after] == [tuple(round(v, 2) for v in b) for b in before]
    assert min(b[1] for b in after) > max(b[3] for b in stamp)


def test_page_full_to_the_edge_is_shrunk_above_the_band(sources, stamped):
    """Content down to the bottom edge is shrunk about the top centre until it clears the band; its link follows."""
    before = source_bounds(sources["edge"])
    assert min(b[1] for b in before) < 20  # the fixture really reaches the edge
    after, stamp = ink_bounds(stamped["edge"], len(before))
    band_top = max(b[3] for b in stamp)
    assert min(b[1] for b in after) >= band_top
    # Shrunk slightly, about the page's top centre (306, 792): that point stays put.
    width, height = 612.0, 792.0
    left_before, right_before = min(b[0] for b in before), max(b[2] for b in before)
    left_after, right_after = min(b[0] for b in after), max(b[2] for b in after)
    scale = (right_after - left_after) / (right_before - left_before)
    assert 0.9 < scale < 1.0
    assert left_after - width / 2 == pytest.approx(scale * (left_before - width / 2), abs=0.5)
    top_before, top_after = max(b[3] for b in before), max(b[3] for b in after)
    assert height - top_after == pytest.approx(scale * (height - top_before), abs=0.5)
    # The link annotation still covers its words.
    link = next(w for w in words(stamped["edge"]) if w[0] == "example.org/edge")
    rects = [a.get_object()["/Rect"] for a in PdfReader(stamped["edge"]).pages[0]["/Annots"]]
    rect = next(r for r in rects if float(r[0]) <= link[1] + 1 and float(r[2]) >= link[3] - 1 and float(r[1]) < 100)
    text_bottom, text_top = 792 - link[4], 792 - link[2]
    assert float(rect[1]) <= text_bottom + 2 and float(rect[3]) >= text_top - 2


def test_shrink_is_reported(sources, tmp_path, capsys):
    """The command says which pages it shrank, and by how much."""
    target = tmp_path / "edge.pdf"
    assert main(["--root", str(ROOT), "stamp", str(sources["edge"]), "--out", str(target), *REVIEW]) == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"stamped {target} (1 page; content shrunk to clear the band: page 1 to 9")
    assert out.endswith("%)")


def test_bookmarks_links_and_input_kept(sources, stamped):
    """Bookmarks and links survive; the input file is not touched."""
    original, result = PdfReader(sources["letter"]), PdfReader(stamped["letter"])
    assert [o.title for o in original.outline if not isinstance(o, list)] == [
        o.title for o in result.outline if not isinstance(o, list)
    ]
    assert len(result.outline) >= 2

    def links(reader):
        return [
            a.get_object()["/A"]["/URI"]
            for page in reader.pages
            for a in page.get("/Annots") or []
            if a.get_object().get("/Subtype") == "/Link"
        ]

    assert links(result) == links(original) and links(original)
    assert result.trailer["/Root"]["/Lang"] == "en"


def test_untagged_outside_pdf_fails_plain_verify(stamped, capsys):
    """Without --outside, verify holds an outside PDF to our own rules: it is not tagged."""
    assert main(["--root", str(ROOT), "verify", str(stamped["letter"]), *TODAY]) == 1
    err = capsys.readouterr().err
    assert "tagged: not marked as a tagged PDF (/MarkInfo /Marked)" in err
    assert "stamp:" not in err


def test_stamp_in_the_documents_language(tmp_path, capsys):
    """A Spanish PDF gets the Spanish stamp by default, verified in Spanish; a clashing --language is refused."""
    source, target = tmp_path / "guia.pdf", tmp_path / "es.pdf"
    source.write_bytes(maker_pdf("A4", lang="es"))
    assert main(["--root", str(ROOT), "stamp", str(source), "--out", str(target), *REVIEW]) == 0
    assert PdfReader(target).trailer["/Root"]["/Lang"] == "es"
    assert "Emergencias:" in {w[0] for w in words(target)}
    assert "ok (" in verify_outside(target, capsys)
    assert refused(capsys, source, tmp_path / "o.pdf", "--language", "en") == (
        f"{source}: the PDF is in 'es' (/Lang); a stamp in 'en' would not match it"
    )


def test_language_set_when_the_pdf_has_none(sources, tmp_path, capsys):
    """A PDF without /Lang gets the one given with --language (here es), so verify can check its stamp."""
    writer = PdfWriter(clone_from=PdfReader(sources["a4"]))
    del writer.root_object["/Lang"]
    source, target = tmp_path / "nolang.pdf", tmp_path / "o.pdf"
    with source.open("wb") as fh:
        writer.write(fh)
    assert main(["--root", str(ROOT), "stamp", str(source), "--out", str(target), "--language", "es", *REVIEW]) == 0
    assert PdfReader(target).trailer["/Root"]["/Lang"] == "es"
    assert "ok (" in verify_outside(target, capsys)


def refused(capsys, source: Path, target: Path, *extra: str) -> str:
    """The one line a refused stamp command prints; the target is left exactly as it was
    (absent stays absent; an existing file, the input or a link to it, keeps its bytes)."""
    existed = target.exists()
    before = target.read_bytes() if existed else None
    code = main(["--root", str(ROOT), "stamp", str(source), "--out", str(target), *REVIEW, *extra])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert target.exists() == existed
    if existed:
        assert target.read_bytes() == before
    return lines[0]


def test_encrypted_refused(sources, tmp_path, capsys):
    """An encrypted PDF is refused in one line."""
    writer = PdfWriter(clone_from=PdfReader(sources["a4"]))
    writer.encrypt(user_password="", owner_password="secret", algorithm="RC4-128")
    source = tmp_path / "locked.pdf"
    with source.open("wb") as fh:
        writer.write(fh)
    assert refused(capsys, source, tmp_path / "o.pdf") == f"{source}: PDF is encrypted; ask for an unprotected copy"


def test_garbage_and_malformed_refused(tmp_path, capsys):
    """Bytes that are not a PDF, and a PDF header with garbage after it, are refused in one line."""
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(os.urandom(4096).replace(b"%PDF-", b"xxxxx"))
    assert refused(capsys, garbage, tmp_path / "o.pdf") == f"{garbage}: not a PDF (no %PDF- header)"
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n")
    assert refused(capsys, broken, tmp_path / "o.pdf").startswith(f"{broken}: not a readable PDF: ")


def test_oversized_refused(sources, tmp_path, capsys, monkeypatch):
    """A file over the size limit, or with too many pages, is refused before it is parsed further."""
    monkeypatch.setattr(outside, "MAX_INPUT_BYTES", 1000)
    size = sources["letter"].stat().st_size
    assert refused(capsys, sources["letter"], tmp_path / "o.pdf") == (
        f"{sources['letter']}: PDF is too large ({size:,} bytes; the limit is 1,000)"
    )
    monkeypatch.setattr(outside, "MAX_INPUT_BYTES", 50 * 1024 * 1024)
    monkeypatch.setattr(outside, "MAX_PAGES", 1)
    assert refused(capsys, sources["letter"], tmp_path / "o.pdf") == f"{sources['letter']}: PDF has 2 pages; the limit is 1"


def test_wall_clock_guard(sources, tmp_path, capsys, monkeypatch):
    """A file that keeps the reader busy past the time limit is refused (the reader is slowed down here)."""
    real = outside.measure_pages

    def slow(data, shown):
        time.sleep(2)
        return real(data, shown)

    monkeypatch.setattr(outside, "measure_pages", slow)
    monkeypatch.setattr(outside, "TIME_LIMIT", 0.1)
    assert refused(capsys, sources["a4"], tmp_path / "o.pdf") == f"{sources['a4']}: PDF took more than 0.1 s to read; refused"


def test_never_overwrites_input(sources, tmp_path, capsys):
    """--out that is the input, a symlink to it or a hard link to it is refused, and the input is unchanged."""
    source = tmp_path / "in.pdf"
    source.write_bytes(sources["a4"].read_bytes())
    before = source.read_bytes()
    symlink, hardlink = tmp_path / "link.pdf", tmp_path / "hard.pdf"
    symlink.symlink_to(source)
    os.link(source, hardlink)
    message = f"{source}: --out must be a different file; the input is never overwritten"
    for target in (source, symlink, hardlink):
        assert refused(capsys, source, target) == message
    assert source.read_bytes() == before


def test_review_months_come_in_pairs(sources, tmp_path, capsys):
    """--reviewed without --next-review is refused: the stamp would be half a review line."""
    code = main(["--root", str(ROOT), "stamp", str(sources["a4"]), "--out", str(tmp_path / "o.pdf"), "--reviewed", "2025-02"])
    assert code == 1
    assert capsys.readouterr().err.strip() == f"{sources['a4']}: give both --reviewed and --next-review, or neither"
