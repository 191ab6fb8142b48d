"""The web edition's handout pages and front page, built for real from the seed
handouts and small projects, parsed and checked: links resolve, every language
is linked, the crisis box, review line and edition are there, nothing needs a
script, and pages are incremental, deterministic and safe."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from support import ROOT, SEED_DAY, pdf_outputs
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.cli import main
from handoutpress.files import sha256

SEED_IDS = ("ketamine-and-antidepressants", "ketamine-and-your-other-medications")


class Page(HTMLParser):
    """A page as its tags: every element with its attributes, and its text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def build(root: Path, out: Path, *more: str) -> int:
    return main(["--root", str(root), "build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "2", *more])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The seed handouts (English and Spanish) built once into a fresh out/."""
    root = tmp_path_factory.mktemp("web") / "project"
    for folder in ("handouts", "templates", "styles", "labels", "brands", "assets", "glossary"):
        shutil.copytree(ROOT / folder, root / folder)
    out = root / "out"
    assert build(root, out) == 0
    return root, out


def pages_of(out: Path) -> dict[str, Path]:
    return {p.relative_to(out / "web").as_posix(): p for p in sorted((out / "web").glob("*/*/index.html"))}


def test_every_handout_and_language_has_a_page_listed_in_the_manifest(seeds):
    """One page per handout and language, each in the manifest as variant web with its size and digest."""
    _, out = seeds
    assert sorted(pages_of(out)) == sorted(f"{lang}/{hid}/index.html" for lang in ("en", "es") for hid in SEED_IDS)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    web = {e["path"]: e for e in manifest["outputs"] if e["variant"] == "web"}
    assert sorted(web) == sorted(f"web/{rel}" for rel in pages_of(out))
    standard = {(e["language"], e["id"]): e for e in pdf_outputs(manifest) if e["variant"] == "standard"}
    for path, entry in web.items():
        data = (out / path).read_bytes()
        assert (entry["bytes"], entry["sha256"]) == (len(data), sha256(data))
        pdf = standard[(entry["language"], entry["id"])]
        for name in ("title", "kind", "topics", "reviewed", "next_review", "review_status", "edition", "source"):
            assert entry[name] == pdf[name], name


def test_every_link_and_image_resolves_and_no_page_has_a_script(seeds):
    """Every relative href and src names a file in out/web/; no script, no outside stylesheet, no web font."""
    _, out = seeds
    web = out / "web"
    for rel, file in [*pages_of(out).items(), ("index.html", web / "index.html")]:
        page = Page(file.read_text(encoding="utf-8"))
        assert page.all("script") == [] and page.all("iframe") == [], rel
        assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs), rel
        sheets = [a["href"] for a in page.all("link") if a.get("rel") == "stylesheet"]
        assert len(sheets) == 1 and (file.parent / sheets[0]).resolve() == (web / "web.css").resolve(), rel
        for attrs in [*page.all("a"), *page.all("link"), *page.all("img")]:
            target = attrs.get("href") or attrs.get("src") or ""
            scheme = urlsplit(target).scheme
            assert scheme in ("", "https", "tel", "mailto"), (rel, target)
            if not scheme and not target.startswith("#"):
                assert (file.parent / target.split("#")[0]).resolve().is_file(), (rel, target)
                assert (file.parent / target).resolve().is_relative_to(web.resolve()), (rel, target)
    css = (web / "web.css").read_text(encoding="utf-8")
    assert "@import" not in css and "url(" not in css and "@font-face" not in css
    assert "@media print" in css


def test_a_page_carries_the_whole_handout_in_its_language(seeds):
    """The Spanish page: lang es, crisis aside with its label near the top, tables with header cells and
    captions, picture alt text, Spanish review line by Babel, reviewer, edition, PDFs with sizes, the English page linked."""
    root, out = seeds
    html = (out / "web/es/ketamine-and-your-other-medications/index.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.all("html")[0]["lang"] == "es"
    asides = page.all("aside")
    assert asides and asides[0]["aria-label"] == "¿Está en crisis? Busque ayuda ahora"
    assert html.index("<aside") < html.index('class="section"')
    assert "911" in page.words and "988" in page.words
    assert "Revisada en febrero de 2025 · Próxima revisión en febrero de 2026" in page.words or (
        "febrero de 2025" in page.words and "febrero de 2026" in page.words
    )
    assert "Edición" in page.words
    assert all(img.get("alt") for img in page.all("img")) and len(page.all("img")) >= 2  # the logo and a picture
    tables = Page((out / "web/es/ketamine-and-antidepressants/index.html").read_text(encoding="utf-8"))
    assert tables.all("caption") and tables.all("th") and all(th.get("scope") for th in tables.all("th"))
    alternates = {a["hreflang"]: a["href"] for a in page.all("link") if a.get("rel") == "alternate"}
    assert alternates == {
        "en": "../../en/ketamine-and-your-other-medications/index.html",
        "es": "../../es/ketamine-and-your-other-medications/index.html",
    }
    english = [a for a in page.all("a") if a.get("hreflang") == "en"]
    assert english and all(a["lang"] == "en" for a in english)
    pdfs = [a["href"] for a in page.all("a") if a.get("type") == "application/pdf"]
    assert pdfs[0] == "La-ketamina-y-sus-otros-medicamentos.pdf" and len(pdfs) == 3
    assert "KB" in page.words and "Letra grande (PDF)" in page.words
    assert "Hojas informativas relacionadas" in page.words
    disclaimer = "Esta hoja es solo para informarle."
    assert disclaimer in page.words


def test_the_front_page_lists_every_handout_by_language_and_topic(seeds):
    """out/web/index.html links every page, each language's part marked with its lang."""
    _, out = seeds
    page = Page((out / "web/index.html").read_text(encoding="utf-8"))
    links = {a["href"] for a in page.all("a")}
    assert {rel for rel in pages_of(out)} <= links
    assert {s["lang"] for s in page.all("section") if "lang" in s} == {"en", "es"}
    assert "Español" in page.words and "Ketamine" in page.words


def test_the_catalogue_links_each_handouts_web_page(seeds):
    """The front desk's catalogue (out/index.html) links every web page."""
    _, out = seeds
    links = {a.get("href") for a in Page((out / "index.html").read_text(encoding="utf-8")).all("a")}
    assert {f"web/{rel}" for rel in pages_of(out)} <= links


def test_same_inputs_give_the_same_bytes_and_unchanged_pages_are_not_rewritten(seeds, tmp_path):
    """A forced rebuild on another day leaves every page byte for byte, and the same file (not rewritten)."""
    root, out = seeds
    other = tmp_path / "out"
    shutil.copytree(out, other)
    before = {rel: (p.read_bytes(), p.stat().st_ino) for rel, p in pages_of(other).items()}
    assert main(["--root", str(root), "build", "--out", str(other), "--today", "2025-07-02", "--quiet", "--force"]) == 0
    after = {rel: (p.read_bytes(), p.stat().st_ino) for rel, p in pages_of(other).items()}
    assert after == before


def _mini(root: Path) -> MiniProject:
    project = MiniProject(root)
    project.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    return project


def test_a_change_to_the_pages_alone_typesets_nothing(tmp_path, capsys):
    """Editing the web template rewrites the pages and builds no PDF."""
    project = _mini(tmp_path / "project")
    out = tmp_path / "out"
    assert project.run("build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "1") == 0
    capsys.readouterr()
    template = project.root / "templates/web/handout.html"
    template.write_text(template.read_text(encoding="utf-8").replace('<article class="handout">', '<article class="handout page">'))
    assert project.run("build", "--out", str(out), "--today", SEED_DAY, "--json", "--jobs", "1") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["built"] == [] and report["failed"] == []
    assert '<article class="handout page">' in (out / "web/en/sleep-and-your-mood/index.html").read_text(encoding="utf-8")


def test_markup_and_unsafe_links_in_content_stay_text(tmp_path):
    """<script> in a title and raw HTML in a body are shown as text; no javascript:, file: or data: link appears
    (the loader refuses them in Markdown links)."""
    project = _mini(tmp_path / "project")
    hostile = GOOD_HANDOUT.replace("title: Sleep and Your Mood", 'title: "Sleep <script>alert(1)</script>"').replace(
        "Good sleep helps your mood.", 'Good sleep <img src=x onerror=alert(2)> helps. <a href="https://x.example">x</a>'
    )
    project.write("handouts/en/sleep-and-your-mood.yaml", hostile)
    out = tmp_path / "out"
    assert project.run("build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "1") == 0
    html = (out / "web/en/sleep-and-your-mood/index.html").read_text(encoding="utf-8")
    page = Page(html)
    assert page.all("script") == [] and all("onerror" not in attrs for _, attrs in page.tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;img src=x" in html
    hrefs = [a.get("href", "") for a in page.all("a")]
    assert not any(h.startswith(("javascript:", "file:", "data:")) for h in hrefs)


def test_a_removed_handout_loses_its_page_and_pdf_copies_like_its_pdfs(tmp_path):
    """Deleting a handout's YAML deletes its current page and the PDFs beside it; the manifest forgets them."""
    project = _mini(tmp_path / "project")
    project.write("handouts/en/walking.yaml", GOOD_HANDOUT.replace("Sleep and Your Mood", "Walking Every Day"))
    out = tmp_path / "out"
    argv = ("build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "1")
    assert project.run(*argv) == 0
    assert (out / "web/en/walking/index.html").is_file() and list((out / "web/en/walking").glob("*.pdf"))
    (project.root / "handouts/en/walking.yaml").unlink()
    assert project.run(*argv) == 0
    assert not (out / "web/en/walking/index.html").exists()
    assert not list((out / "web/en/walking").glob("*.pdf"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [e["path"] for e in manifest["outputs"] if e["variant"] == "web"] == ["web/en/sleep-and-your-mood/index.html"]
    index = (out / "web/index.html").read_text(encoding="utf-8")
    assert "Walking Every Day" not in index and "Sleep and Your Mood" in index


def test_the_pdfs_beside_a_page_are_the_built_pdfs_themselves_and_follow_an_edit(tmp_path):
    """Each PDF in out/web/ is a second name of the PDF the build wrote (a hard link: its bytes on disk once);
    after an edit the page's PDF is the new one, and the old file is left to nobody."""
    project = _mini(tmp_path / "project")
    out = tmp_path / "out"
    argv = ("build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "1")
    assert project.run(*argv) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    pdfs = [out / e["path"] for e in pdf_outputs(manifest)]
    beside = out / "web/en/sleep-and-your-mood"
    assert sorted(p.name for p in beside.glob("*.pdf")) == sorted(p.name for p in pdfs)
    for pdf in pdfs:
        assert (beside / pdf.name).samefile(pdf) and pdf.stat().st_nlink == 2
    standard = next(p for p in pdfs if p.name == "Sleep-and-Your-Mood.pdf")
    before = standard.read_bytes()
    handout = project.root / "handouts/en/sleep-and-your-mood.yaml"
    handout.write_text(handout.read_text(encoding="utf-8").replace("Good sleep helps your mood.", "Good sleep lifts your mood."))
    assert project.run(*argv) == 0
    assert standard.read_bytes() != before
    assert (beside / standard.name).samefile(standard) and standard.stat().st_nlink == 2
    assert not list(out.rglob("*.tmp"))


def test_where_out_cannot_hold_a_hard_link_the_pdfs_beside_a_page_are_copies(tmp_path, monkeypatch):
    """A folder whose file system refuses hard links (os.link fails with EXDEV or EPERM) gets copies, byte for
    byte, written atomically; a second build leaves an identical copy alone."""
    import errno
    import os

    def refuse(source, target, *args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted", str(target))

    monkeypatch.setattr(os, "link", refuse)
    project = _mini(tmp_path / "project")
    out = tmp_path / "out"
    argv = ("build", "--out", str(out), "--today", SEED_DAY, "--quiet", "--jobs", "1")
    assert project.run(*argv) == 0
    beside = out / "web/en/sleep-and-your-mood"
    copies = {p.name: p for p in beside.glob("*.pdf")}
    assert len(copies) == 3
    for name, copy in copies.items():
        assert copy.read_bytes() == (out / "en" / name).read_bytes() and not copy.samefile(out / "en" / name)
    inodes = {name: p.stat().st_ino for name, p in copies.items()}
    assert project.run(*argv, "--force") == 0
    assert {p.name: p.stat().st_ino for p in beside.glob("*.pdf")} == inodes
