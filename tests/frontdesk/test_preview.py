"""`watch --preview`: the web edition on 127.0.0.1, reloaded in the browser when a handout is saved.

The server is tested on a small folder of its own (what it serves, to whom, with which
script); the whole story runs `generate.py watch --preview` in a real process on a small
project: save a YAML file, and the reload event arrives with the page already rewritten,
before the PDFs are.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import ROOT, TODAY
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.cli.parser import parse
from handoutpress.frontdesk.preview import SCRIPT, SCRIPT_TAG, PreviewServer

PAGE = b'<!doctype html><html lang="en"><head><title>X</title></head><body><h1>X</h1></body></html>'


@pytest.fixture
def web(tmp_path) -> Path:
    """A tiny out/web/ with one page, its stylesheet, and a secret just outside it."""
    folder = tmp_path / "out" / "web"
    (folder / "en" / "x").mkdir(parents=True)
    (folder / "en" / "x" / "index.html").write_bytes(PAGE)
    (folder / "web.css").write_text("body { color: #222; }\n", encoding="utf-8")
    (folder / ".hidden.html").write_bytes(PAGE)
    (folder / "notes.py").write_text("print('no')\n", encoding="utf-8")
    (tmp_path / "out" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "secret.html").write_text("secret", encoding="utf-8")
    (folder / "en" / "link.html").symlink_to(tmp_path / "secret.html")
    return folder


@pytest.fixture
def server(web):
    with PreviewServer(web, 0) as running:
        yield running


def get(server: PreviewServer, path: str, host: str | None = None, source: str | None = None) -> tuple[int, dict, bytes]:
    """One request sent exactly as written (no path clean-up), optionally from another loopback address."""
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0) if source else None)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.sock = sock
    connection.putrequest("GET", path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def test_pages_are_served_with_the_reload_script_the_files_never_hold(server, web):
    """A page comes back with the reload script before </body>; the file on disk is untouched."""
    status, headers, body = get(server, "/en/x/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert body == PAGE.replace(b"</body>", SCRIPT_TAG + b"</body>")
    assert (web / "en" / "x" / "index.html").read_bytes() == PAGE
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    assert get(server, "/en/x/index.html")[2] == body
    status, headers, script = get(server, SCRIPT)
    assert status == 200 and headers["content-type"].startswith("text/javascript") and b"EventSource" in script
    status, headers, css = get(server, "/web.css")
    assert (status, headers["content-type"], css) == (200, "text/css; charset=utf-8", b"body { color: #222; }\n")
    status, headers, _ = get(server, "/en/x")
    assert (status, headers["location"]) == (301, "/en/x/")


@pytest.mark.parametrize(
    "path",
    ["/../manifest.json", "/en/../../secret.html", "/%2e%2e/secret.html", "/en/link.html", "/.hidden.html", "/notes.py", "/nothing/", "//etc/passwd"],
)
def test_only_files_inside_out_web_are_served(server, path):
    """Anything outside out/web/ (by .., encoding or a symlink), hidden files and other kinds are not found."""
    status, _, body = get(server, path)
    assert status == 404 and b"secret" not in body


def test_it_answers_only_on_this_computer(server):
    """Bound to 127.0.0.1; another Host name (DNS rebinding) or another client address is refused."""
    assert server.sock.getsockname()[0] == "127.0.0.1"
    assert get(server, "/en/x/", host="handouts.example.com")[0] == 403
    assert get(server, "/en/x/", host="localhost:1")[0] == 200
    status, _, body = get(server, "/en/x/", source="127.0.0.2")  # a loopback address, but not the one we serve
    assert status == 403 and b"Only this computer" in body


def read_events(url: str, found: list, ready: threading.Event, wanted: int = 1, timeout: float = 60) -> None:
    """Read the event stream at ``url`` like a page does, keeping each reload event's pages, until ``wanted`` arrived."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", "/__preview/events")
    response = connection.getresponse()
    assert response.getheader("content-type") == "text/event-stream"
    ready.set()
    event = None
    while len(found) < wanted:
        raw = response.fp.readline()
        if not raw:  # the server stopped
            break
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "reload":
            found.append((time.monotonic(), json.loads(line[6:])))
    connection.close()


def test_a_reload_event_reaches_every_open_page(server):
    """Two open event streams both get the event the preview announces, with the pages it names."""
    found_a: list = []
    found_b: list = []
    threads = []
    for found in (found_a, found_b):
        ready = threading.Event()
        threads.append(threading.Thread(target=read_events, args=(server.url, found, ready), daemon=True))
        threads[-1].start()
        assert ready.wait(10)
    time.sleep(0.1)  # both streams are waiting on the server's side
    server.reloads.announce(["/en/x/"])
    for thread in threads:
        thread.join(30)
    assert [pages for _, pages in found_a] == [pages for _, pages in found_b] == [["/en/x/"]]


def test_serve_preview_is_the_watch_with_preview():
    """`serve --preview --port N` reads as the watch's preview, with the build's defaults."""
    args = parse(["serve", "--preview", "--port", "0"])
    assert (args.command, args.preview, args.port, args.paths, args.jobs, args.once) == ("serve", True, 0, [], 0, False)
    args = parse(["watch", "--preview"])
    assert (args.preview, args.port) == (True, 8001)
    assert parse(["watch"]).preview is False


# ---------------------------------------------------------------------------
# The whole story, in a real `watch --preview`


class Watching:
    """`generate.py watch --preview --port 0 --once` running on a project; lines of its stderr as they come."""

    def __init__(self, root: Path):
        command = [sys.executable, str(ROOT / "generate.py"), "--root", str(root), "watch", "--preview", "--port", "0"]
        command += ["--once", "--jobs", "1", "--today", TODAY, "--quiet"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []

    def wait_for(self, start: str, timeout: float = 180) -> str:
        """The first line starting with ``start`` (bounded wait; the process's lines so far on failure)."""
        deadline = time.monotonic() + timeout
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith(start):
                return line.rstrip("\n")
        raise AssertionError(f"no line starting {start!r} from the watch:\n" + "\n".join(self.lines))

    def stop(self) -> int:
        try:
            return self.process.wait(timeout=180)
        finally:
            if self.process.poll() is None:
                self.process.terminate()
                self.process.wait(timeout=30)


def test_saving_a_handout_reloads_its_page_before_the_pdfs_are_rebuilt(tmp_path):
    """Saved YAML -> the page is rewritten and the reload event sent, while the old PDF is still in place; then the PDFs follow."""
    project = MiniProject(tmp_path / "project")
    yaml = project.write("handouts/en/sleep-and-mood.yaml", GOOD_HANDOUT)
    watching = Watching(project.root)
    try:
        url = watching.wait_for("preview of the web edition at ").split(" at ")[1].split(" ")[0]
        watching.wait_for("watching ")
        out = project.root / "out"
        page = out / "web" / "en" / "sleep-and-mood" / "index.html"
        pdf = out / "en" / "Sleep-and-Your-Mood.pdf"
        assert page.is_file() and pdf.is_file()
        old_pdf = pdf.read_bytes()
        found: list = []
        ready = threading.Event()
        reader = threading.Thread(target=read_events, args=(url, found, ready), daemon=True)
        reader.start()
        assert ready.wait(30)
        time.sleep(0.2)

        yaml.write_text(GOOD_HANDOUT.replace("You can take small steps tonight.", "Small steps help tonight."), encoding="utf-8")
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline:
            time.sleep(0.005)
        assert found, "no reload event after the save:\n" + "\n".join(watching.lines)
        pdf_when_reloaded = pdf.read_bytes()
        assert found[0][1] == ["/en/sleep-and-mood/"]
        assert b"Small steps help tonight." in page.read_bytes()
        assert b"Small steps help tonight." in urlopen_bytes(url + "en/sleep-and-mood/")
        assert pdf_when_reloaded == old_pdf  # the PDFs come after the page
        assert watching.stop() == 0
        assert pdf.read_bytes() != old_pdf
    finally:
        if watching.process.poll() is None:
            watching.process.terminate()
            watching.process.wait(timeout=30)
        assert watching.process.stderr is not None
        watching.process.stderr.close()


def urlopen_bytes(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()
