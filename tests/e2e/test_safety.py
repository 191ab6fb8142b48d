"""Hostile input reads nothing outside the project, contacts nothing, and
shows markup as text."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader
from support import ROOT, SEED_DAY
from support.project import GOOD_HANDOUT

from handoutpress.errors import RenderError
from handoutpress.typeset.fetcher import make_fetcher
from handoutpress.typeset.session import typeset

_OPENED: list[str] = []
_RECORDING = threading.Event()


def _audit(event, args):
    if _RECORDING.is_set() and event == "open" and args and isinstance(args[0], (str, bytes, Path)):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def listener():
    """A TCP server on loopback that counts the connections it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(200))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join()
    server.close()


def _typeset(html: str, tmp_path: Path) -> bytes:
    return typeset(html, base_url=tmp_path, allowed_roots=[tmp_path / "assets"], what="test.html")


def test_fetcher_serves_only_allowed_files(tmp_path):
    """data: URLs and files under the allowed folders are served; nothing else."""
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ok.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("secret")
    (assets / "link.svg").symlink_to(tmp_path / "secret.txt")
    fetch = make_fetcher([assets])
    assert fetch.fetch((assets / "ok.svg").as_uri()).read().startswith(b"<svg")
    assert fetch.fetch("data:text/plain,hello").read() == b"hello"
    for url, reason in [
        ((tmp_path / "secret.txt").as_uri(), "blocked file outside the project's assets"),
        ((assets / "link.svg").as_uri(), "blocked file outside the project's assets"),
        ((assets / ".." / "secret.txt").as_uri(), "blocked file outside the project's assets"),
        ("file:///etc/passwd", "blocked file outside the project's assets"),
        ("http://127.0.0.1:9/x.png", "blocked http URL"),
        ("https://example.org/x.png", "blocked https URL"),
        ("ftp://example.org/x.png", "blocked ftp URL"),
    ]:
        with pytest.raises(ValueError, match=reason):
            fetch.fetch(url)


def test_network_and_outside_files_fail_the_document(tmp_path, listener):
    """An <img> at http://127.0.0.1 or file:///etc/passwd fails the render, with
    no connection made and no file opened outside the allowed folders."""
    port, hits = listener
    (tmp_path / "assets").mkdir()
    for src in (f"http://127.0.0.1:{port}/tracker.png", "file:///etc/passwd", "../../../etc/passwd"):
        _OPENED.clear()
        _RECORDING.set()
        try:
            with pytest.raises(RenderError, match="typesetter warning: Failed to load image"):
                _typeset(f'<html lang="en"><title>t</title><p>Hi</p><img src="{src}" alt="x">', tmp_path)
        finally:
            _RECORDING.clear()
        assert not [p for p in _OPENED if "passwd" in p]
    assert hits == []


def test_svg_asset_cannot_reach_out(tmp_path, listener):
    """An SVG in assets/ that links an outside file or a network image fails too."""
    port, hits = listener
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "sneaky.svg").write_text(
        "<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' width='10' height='10'>"
        f"<image xlink:href='http://127.0.0.1:{port}/x.png' width='10' height='10'/>"
        "<image xlink:href='file:///etc/passwd' width='10' height='10'/></svg>"
    )
    with pytest.raises(RenderError, match="typesetter warning"):
        _typeset('<html lang="en"><title>t</title><img src="assets/sneaky.svg" alt="x">', tmp_path)
    assert hits == []


def test_markup_in_content_is_shown_as_text(mini):
    """<script>, <style> and raw HTML typed into content appear as text in the PDF."""
    hostile = (
        GOOD_HANDOUT.replace("title: Sleep and Your Mood", "title: \"Sleep <script>alert('x')</script> Tips\"")
        .replace("Good sleep helps your mood.", "Good sleep <style>body{display:none}</style> helps. <img src=x onerror=alert(1)>")
    )
    mini.write("handouts/en/hostile.yaml", hostile)
    out = mini.root / "out"
    assert mini.run("build", "--out", str(out), "--today", SEED_DAY, "--jobs", "1") == 0
    pdf = out / "en" / "Sleep-script-alert-x-script-Tips.pdf"
    reader = PdfReader(pdf)
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "<script>alert(" in text
    assert "<style>body{display:none}</style>" in text
    assert "<img src=x onerror=alert(1)>" in text
    assert reader.metadata.title == "Sleep <script>alert('x')</script> Tips"


def test_links_with_unsafe_schemes_never_reach_the_pdf(mini, capsys):
    """javascript:, file: and data: links are refused by the loader with a clear line."""
    for i, scheme in enumerate(("javascript:alert(1)", "file:///etc/passwd", "data:text/html,hi", "JavaScript:void(0)")):
        mini.write(f"handouts/en/link-{i}.yaml", GOOD_HANDOUT.replace("You can take small steps tonight.", f"[tap]({scheme})"))
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = capsys.readouterr().err
    assert err.count("links are not allowed; link to an https:// address") == 4


def test_symlinked_asset_pointing_outside_is_refused(mini, capsys, tmp_path):
    """An image path inside assets/ that is a symlink to a file elsewhere is refused."""
    outside = tmp_path / "outside.svg"
    outside.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (mini.root / "assets" / "escape.svg").symlink_to(outside)
    mini.write("handouts/en/escape.yaml", GOOD_HANDOUT.replace("    table:", "    image: {src: assets/escape.svg, alt: x}\n    table:"))
    assert mini.run("check", "--today", SEED_DAY) == 1
    assert "handouts/en/escape.yaml:15: sections[0].image.src: must be a file inside assets/, got 'assets/escape.svg'" in capsys.readouterr().err


def test_project_templates_are_autoescaped_and_strict():
    """The Jinja2 environment autoescapes and treats undefined names as errors."""
    from jinja2 import StrictUndefined

    from handoutpress.render.html import environment

    env = environment(ROOT / "templates")
    assert env.autoescape is True
    assert env.undefined is StrictUndefined
