"""A small library for the front-desk tests (catalogue, serve, browser).

Two short English handouts in a throwaway copy of the project: one with an FAQ
(so it has three outputs) and clinical codes, one without either; built with ``--jobs 1`` so a test
module needs only one build of five PDFs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

from handoutpress.cli import main
from support import TODAY
from support.project import MiniProject

SLEEP = """
title: Sleep and Your Mood
subtitle: Simple steps for better nights
topics: [Sleep, Mood]
codes: {icd10cm: [G47.0, F33], rxnorm: ["6130"]}
review:
  reviewed: 2025-02
  next_review: 2026-02
  reviewer: Board-certified psychiatrist
  author: Clinical team
key_takeaways:
  - Keep the same wake-up time every day.
sections:
  - heading: Why sleep matters
    body: |
      Good sleep helps your mood. You can take small steps tonight.
faq:
  - question: How long until I feel better?
    answer: Many people notice a change in one or two weeks.
"""

WALKING = """
title: Walking for Your Health
topics: [Exercise]
related: [sleep-and-mood]
review:
  reviewed: 2026-09
  next_review: 2027-09
  reviewer: Clinical team
  author: Clinical team
key_takeaways:
  - A short walk most days helps your body and your mind.
sections:
  - heading: Start small
    body: |
      Walk for ten minutes after a meal. Add a few minutes each week.
"""


def make_project(root: Path) -> Path:
    """A copy of the project's templates, styles, labels, brands and assets with two handouts."""
    project = MiniProject(root)
    project.write("handouts/en/sleep-and-mood.yaml", SLEEP)
    project.write("handouts/en/walking.yaml", WALKING)
    return root


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def build(root: Path, out: Path, *extra: str) -> int:
    return main(["--root", str(root), "build", "--out", str(out), "--today", TODAY, "--jobs", "1", "--quiet", *extra])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def pdf_text(data: bytes, page: int | None = None) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    chosen = pages if page is None else [pages[page]]
    return "\n".join(p.extract_text() or "" for p in chosen)


def file_holds(path: Path, secret: str) -> bool:
    """Whether the file's bytes (UTF-8 or UTF-16) or, for a PDF, its text hold ``secret``.

    PDF text is compressed and font-encoded, so PDFs are also read as text:
    a raw byte search alone would miss a name typeset into one. A file that
    cannot be read, or a PDF whose text cannot be extracted, counts as holding
    it: a privacy check must never pass because it could not look. (A file
    that is gone holds nothing; a file another process is still writing is
    read once more.)
    """
    for attempt in (1, 2):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False
        except OSError:
            return True
        if any(n in data for n in (secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("utf-16-be"))):
            return True
        if not data.startswith(b"%PDF"):
            return False
        try:
            text = pdf_text(data)
        except Exception:
            if attempt == 1 and _changed(path, data):
                continue
            return True
        return secret in text or secret in " ".join(text.split())
    return True


def _changed(path: Path, data: bytes) -> bool:
    try:
        return path.read_bytes() != data
    except OSError:
        return True


def files_holding(folder: Path, secret: str, since: float | None = None) -> list[Path]:
    """Every regular file under ``folder`` (changed at or after ``since``, if given) that holds ``secret``."""
    found = []
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            try:
                # Sockets and pipes (a database server's, in /tmp) keep nothing at rest.
                if path.is_symlink() or not path.is_file() or (since is not None and path.stat().st_mtime < since):
                    continue
            except OSError:
                continue
            if file_holds(path, secret):
                found.append(path)
    return sorted(found)


# ---------------------------------------------------------------------------
# The server: a real uvicorn on 127.0.0.1, and direct ASGI calls for what a
# real socket cannot fake (another client address).


class RunningServer:
    """`generate.py serve`'s app on a free port in a background thread, with its own warm press.

    ``workers``: the press's processes (1 by default, so a test can ask the one
    worker what it keeps); ``records``: a `records.Records` to record hand-outs in.
    """

    def __init__(self, root: Path, out: Path, today=None, *, workers: int = 1, records=None, desk: str = "front-desk"):
        from handoutpress.frontdesk.press import DeskPress
        from handoutpress.frontdesk.recording import DeskRecords
        from handoutpress.frontdesk.serve import Library, bind, create_app, make_server

        self.library = Library(root, out)
        self.press = DeskPress(self.library.root, workers)
        self.sock = bind(0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        app = create_app(self.library, today=today, press=self.press, records=DeskRecords(records, desk))
        self.server = make_server(app, self.sock)
        self.thread = None

    def __enter__(self):
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.press.close()
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
        self.press.close()


def http(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    """(status, headers with lower-case names, body) of one request; error statuses are returned, not raised."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def asgi(app, path: str, *, method: str = "GET", client: str = "127.0.0.1", headers: dict | None = None, body: bytes = b""):
    """Call the ASGI app directly: (status, headers, body); ``path`` may end in a ``?query``."""
    import asyncio

    sent: list[dict] = []
    raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {"host": "127.0.0.1:8000"}).items()]

    requested = []
    done = None

    async def receive():
        # The request once; then, like a real client, stay until the response is over.
        if not requested:
            requested.append(True)
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    async def run():
        nonlocal done
        done = asyncio.Event()
        await app(scope, receive, send)

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": raw_headers,
        "client": (client, 50000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, content


def built_library(tmp_path_factory, name: str) -> tuple[Path, Path]:
    """The small front-desk library, built once into its out/ folder."""
    root = make_project(tmp_path_factory.mktemp(name) / "project")
    out = root / "out"
    assert build(root, out) == 0
    return root, out


@contextlib.contextmanager
def serve_process(root: Path, *options: str) -> Iterator[tuple[str, str]]:
    """``generate.py serve --port 0 OPTIONS`` in its own process: yields (its address, the line it printed
    at start); stopped with Ctrl-C's signal, killed if it does not stop within 30 s."""
    import signal
    import subprocess
    import sys

    from support import ROOT

    command = [sys.executable, str(ROOT / "generate.py"), "--root", str(root), "serve", "--port", "0", *options]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        line = process.stdout.readline()  # the one line that says where
        assert " PDFs at http://127.0.0.1:" in line, line + process.stderr.read()
        yield line.split(" at ", 1)[1].split(" ", 1)[0], line
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
