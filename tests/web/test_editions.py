"""The edition pages behind the QR codes: current, replaced or withdrawn, from git and from out/web.

The story end to end runs in a temporary git repository with the real command
(PDFs and all): the printed link of one edition, an edit committed, a second
build, and the old link's page saying it was replaced. The rest drives
`publish_editions` directly on real projects, which needs no typesetter.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from pypdf import PdfReader
from support import SEED_DAY
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.load.brand import load_brand
from handoutpress.load.content import load_library
from handoutpress.load.project import Project
from handoutpress.render.html import Renderer
from handoutpress.web.editions import RECORD, publish_editions
from handoutpress.web.site import WebSite

BASE_URL = "https://riverbend-clinic.example/handouts/"
SOURCE = "handouts/en/sleep-and-your-mood.yaml"
OLD_ADVICE = "Good sleep helps your mood. You can take small steps tonight."
NEW_ADVICE = "Good sleep helps your mood. Start with one small step tonight."


# ---------------------------------------------------------------------------
# Helpers: a git repository, a site, a page read as a browser would


def git(root: Path, *args: str, day: str = "2026-01-15") -> str:
    """Run git in ``root`` with a fixed author, committer and date (no user config, no network)."""
    stamp = f"{day}T12:00:00+00:00"
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Editor",
        "GIT_AUTHOR_EMAIL": "editor@example.org",
        "GIT_COMMITTER_NAME": "Editor",
        "GIT_COMMITTER_EMAIL": "editor@example.org",
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_DATE": stamp,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root),
    }
    run = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, timeout=60, check=True)
    return run.stdout


def commit_all(root: Path, message: str, day: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, day=day)


def git_project(tmp_path: Path) -> MiniProject:
    """A small project with the fixture handout, committed once (on 15 January 2026)."""
    mini = MiniProject(tmp_path / "project")
    mini.write(SOURCE, GOOD_HANDOUT)
    git(mini.root, "init", "-q", "-b", "main")
    commit_all(mini.root, "Sleep handout", "2026-01-15")
    return mini


def edit_advice(mini: MiniProject) -> None:
    path = mini.root / SOURCE
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_ADVICE, NEW_ADVICE), encoding="utf-8")


def site_for(root: Path, out: Path, today: str) -> WebSite:
    """The web edition of every handout under ``root``, as the build would hand it over."""
    handouts, problems = load_library([root / "handouts"], root)
    assert not problems, problems
    brand = load_brand(root / "brands" / "default", root)
    return WebSite(
        out=out, brand=brand, renderer=Renderer(Project(root)), handouts=tuple(handouts), today=date.fromisoformat(today)
    )


class Page(HTMLParser):
    """What a reader gets from a page: its text, its links, its language and whether it has a script."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self.text: list[str] = []
        self.links: list[str] = []
        self.lang = ""
        self.scripts = 0
        self.meta_refresh = False
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        if tag == "script":
            self.scripts += 1
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            self.meta_refresh = True
        if tag in ("a", "link") and values.get("href"):
            self.links.append(values["href"])

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())

    def target(self, href: str) -> Path:
        """The file a relative link opens."""
        return (self.path.parent / href).resolve()


def edition_page(out: Path, url: str) -> Path:
    """The file in out/web/ behind a printed address."""
    assert url.startswith(BASE_URL) and url.endswith("/"), url
    return out / "web" / url.removeprefix(BASE_URL) / "index.html"


def printed_link(pdf: Path) -> str:
    """The address the QR code and the printed "Read it online" link carry (the link annotation)."""
    uris = {
        annot.get_object()["/A"]["/URI"]
        for page in PdfReader(pdf).pages
        for annot in page.get("/Annots") or []
        if "/A" in annot.get_object() and str(annot.get_object()["/A"].get("/URI", "")).startswith(BASE_URL)
    }
    assert len(uris) == 1, uris
    return uris.pop()


# ---------------------------------------------------------------------------
# The story end to end


def test_an_old_printout_link_says_it_was_replaced_and_leads_to_the_new_one(tmp_path):
    """Build, keep a printout's link, edit and commit, build again: the old link's page says
    "replaced", on the commit's day, by the new edition, and links to the current page."""
    mini = git_project(tmp_path)
    out = tmp_path / "out"
    build = ("build", "--out", str(out), "--jobs", "1", "--today", "2026-02-01", "--quiet")
    assert mini.run(*build) == 0
    old_url = printed_link(out / "en" / "Sleep-and-Your-Mood.pdf")
    old_page = edition_page(out, old_url)
    first = Page(old_page)
    assert "This printout is up to date" in first.words and OLD_ADVICE not in first.words

    edit_advice(mini)
    commit_all(mini.root, "Sleep: one small step", "2026-03-05")
    assert mini.run(*build) == 0
    new_url = printed_link(out / "en" / "Sleep-and-Your-Mood.pdf")
    assert new_url != old_url
    new_edition = new_url.rstrip("/").rsplit("/", 1)[1]

    replaced = Page(old_page)
    assert "This printout has been replaced" in replaced.words
    assert f"On March 5, 2026, it was replaced by edition {new_edition}." in replaced.words
    assert "This printout is up to date" not in replaced.words
    assert OLD_ADVICE not in replaced.words  # the old advice is never shown as current
    current_link = replaced.target(next(h for h in replaced.links if h.endswith("sleep-and-your-mood/index.html")))
    assert current_link == (out / "web" / "en" / "sleep-and-your-mood" / "index.html").resolve()
    current = Page(edition_page(out, new_url))
    assert "This printout is up to date" in current.words and new_edition in current.words


# ---------------------------------------------------------------------------
# Where the history comes from


def test_git_history_gives_every_edition_on_a_machine_with_an_empty_out(tmp_path):
    """A fresh out/ in a checkout with two committed texts gets both pages: the old one replaced on its commit's day."""
    mini = git_project(tmp_path)
    edit_advice(mini)
    commit_all(mini.root, "Sleep: one small step", "2026-03-05")
    site = site_for(mini.root, tmp_path / "out", TODAY := "2026-04-01")
    written = publish_editions(site)
    assert len(written) == 2
    record = json.loads((site.root / RECORD).read_text(encoding="utf-8"))["handouts"]["en/sleep-and-your-mood"]
    (current,) = [name for name, e in record["editions"].items() if e["replaced"] is None]
    (old,) = [name for name, e in record["editions"].items() if e["replaced"]]
    assert record["current"] == current == site.handouts[0].edition
    assert record["editions"][old] == {"title": "Sleep and Your Mood", "replaced": "2026-03-05", "replaced_by": current}
    assert TODAY not in json.dumps(record)


def test_without_git_the_record_and_the_folders_keep_the_history(tmp_path):
    """Outside git: an edit is a replacement on the build's day, kept by the record; a page once
    written is never deleted, and with the record lost its folder still says it was replaced."""
    mini = MiniProject(tmp_path / "project")
    mini.write(SOURCE, GOOD_HANDOUT)
    out = tmp_path / "out"
    (first,) = publish_editions(site_for(mini.root, out, "2026-02-01"))
    edit_advice(mini)
    assert len(publish_editions(site_for(mini.root, out, "2026-03-10"))) == 2
    assert "On March 10, 2026, it was replaced by edition" in Page(first).words
    assert publish_editions(site_for(mini.root, out, "2026-05-20")) == []  # the record keeps the day: nothing rewritten
    (out / "web" / RECORD).unlink()
    publish_editions(site_for(mini.root, out, "2026-06-30"))
    assert first.is_file() and "This printout has been replaced" in Page(first).words


def test_no_git_binary_is_normal(tmp_path, monkeypatch):
    """With no git on PATH a checkout is read like any folder: the current edition's page, no error."""
    mini = git_project(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    (page,) = publish_editions(site_for(mini.root, tmp_path / "out", "2026-02-01"))
    assert "This printout is up to date" in Page(page).words
    assert json.loads((tmp_path / "out" / "web" / RECORD).read_text(encoding="utf-8"))["git_head"] is None


def test_a_committed_version_that_no_longer_loads_is_skipped_with_a_note(tmp_path):
    """An old commit whose YAML the loader refuses gives no edition and a note naming it, never a crash."""
    mini = MiniProject(tmp_path / "project")
    mini.write(SOURCE, GOOD_HANDOUT.replace("title:", "titel:", 1))
    git(mini.root, "init", "-q", "-b", "main")
    commit_all(mini.root, "A typo", "2026-01-10")
    mini.write(SOURCE, GOOD_HANDOUT)
    commit_all(mini.root, "Fixed", "2026-01-11")
    site = site_for(mini.root, tmp_path / "out", "2026-02-01")
    assert len(publish_editions(site)) == 1
    (note,) = json.loads((site.root / RECORD).read_text(encoding="utf-8"))["notes"]
    assert note.startswith(f"{SOURCE} at ") and ":1: title: required field is missing" in note
    assert note.endswith("(skipped: this old version no longer loads)")


# ---------------------------------------------------------------------------
# Withdrawn handouts, languages, determinism, what a page holds


def test_a_removed_handout_keeps_its_pages_marked_withdrawn(tmp_path):
    """Deleting a handout's YAML deletes no edition page: each says the handout was withdrawn
    and leads to the list of handouts."""
    mini = git_project(tmp_path)
    edit_advice(mini)
    commit_all(mini.root, "Sleep: one small step", "2026-03-05")
    out = tmp_path / "out"
    pages = publish_editions(site_for(mini.root, out, "2026-04-01"))
    (mini.root / SOURCE).unlink()
    commit_all(mini.root, "Sleep handout withdrawn", "2026-05-02")
    assert sorted(publish_editions(site_for(mini.root, out, "2026-06-01"))) == sorted(pages)
    for path in pages:
        page = Page(path)
        assert "On May 2, 2026, Riverbend Community Mental Health stopped giving out this handout." in page.words
        assert "This printout is up to date" not in page.words
        assert page.target("../../../index.html") == (out / "web" / "index.html").resolve()  # the list of handouts
        assert "../../../index.html" in page.links
    assert (
        json.loads((out / "web" / RECORD).read_text(encoding="utf-8"))["handouts"]["en/sleep-and-your-mood"]["withdrawn"]
        == "2026-05-02"
    )


def test_pages_speak_the_handouts_language(tmp_path):
    """A Spanish handout's edition pages are in Spanish, dates by Babel: "El 5 de marzo de 2026 la reemplazó…"."""
    mini = MiniProject(tmp_path / "project")
    spanish = "handouts/es/sleep-and-your-mood.yaml"
    mini.write(spanish, GOOD_HANDOUT.replace("title: Sleep and Your Mood", "title: El sueño y su ánimo"))
    git(mini.root, "init", "-q", "-b", "main")
    commit_all(mini.root, "Sueño", "2026-01-15")
    path = mini.root / spanish
    path.write_text(path.read_text(encoding="utf-8").replace(OLD_ADVICE, NEW_ADVICE), encoding="utf-8")
    commit_all(mini.root, "Sueño: un paso", "2026-03-05")
    pages = [Page(p) for p in publish_editions(site_for(mini.root, tmp_path / "out", "2026-04-01"))]
    (replaced,) = [p for p in pages if "Esta hoja impresa fue reemplazada" in p.words]
    (current,) = [p for p in pages if "Esta hoja impresa está al día" in p.words]
    assert replaced.lang == current.lang == "es"
    assert "El 5 de marzo de 2026 la reemplazó la edición" in replaced.words and "Lea la hoja actual" in replaced.words
    assert "febrero de 2025" in current.words and "Lea esta hoja en internet" in current.words


def test_same_inputs_give_the_same_bytes_and_an_unchanged_page_is_not_written(tmp_path):
    """Two builds of the same checkout into two folders give byte-identical pages and record;
    a second build into the same folder writes nothing."""
    mini = git_project(tmp_path)
    edit_advice(mini)
    commit_all(mini.root, "Sleep: one small step", "2026-03-05")
    one, two = tmp_path / "one", tmp_path / "two"
    written = publish_editions(site_for(mini.root, one, "2026-04-01"))
    publish_editions(site_for(mini.root, two, "2026-04-01"))
    for path in written + [one / "web" / RECORD]:
        assert path.read_bytes() == (two / path.relative_to(one)).read_bytes()
    before = {p: p.stat().st_mtime_ns for p in written}
    assert publish_editions(site_for(mini.root, one, "2026-04-02")) == []
    assert {p: p.stat().st_mtime_ns for p in written} == before


def test_an_edition_page_is_plain_safe_html_with_the_crisis_lines(tmp_path):
    """No script, no refresh, relative links to files that exist (or the clinic's own site, phone and
    email), the crisis lines and the clinic's contact details."""
    mini = MiniProject(tmp_path / "project")
    mini.write(SOURCE, GOOD_HANDOUT.replace("Simple steps for better nights", "<script>alert(1)</script>"))
    site = site_for(mini.root, tmp_path / "out", SEED_DAY)
    (path,) = publish_editions(site)
    page = Page(path)
    html = path.read_text(encoding="utf-8")
    assert page.scripts == 0 and not page.meta_refresh and "<script>alert" not in html
    assert page.lang == "en"
    for href in page.links:
        if href.startswith(("https://riverbend-clinic.example", "tel:", "mailto:")):
            continue
        assert "://" not in href and not href.startswith("/"), href
    assert "911" in page.words and "988" in page.words
    assert "(555) 014-2200" in page.words
    assert page.target("../../../web.css") == (site.root / "web.css").resolve()


def test_printouts_of_one_edition_share_its_page(tmp_path):
    """The standard and large-print PDFs of one text both carry its edition's address, and the build writes that page."""
    mini = MiniProject(tmp_path / "project")
    mini.write(SOURCE, GOOD_HANDOUT)
    out = tmp_path / "out"
    assert mini.run("build", "--out", str(out), "--jobs", "1", "--today", SEED_DAY, "--quiet") == 0
    edition = site_for(mini.root, out, SEED_DAY).handouts[0].edition
    url = f"{BASE_URL}en/sleep-and-your-mood/{edition}/"
    assert printed_link(out / "en" / "Sleep-and-Your-Mood.pdf") == url
    assert printed_link(out / "en" / "Sleep-and-Your-Mood-Large-Print.pdf") == url
    assert "This printout is up to date" in Page(edition_page(out, url)).words
