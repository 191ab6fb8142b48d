"""Live preview for editors: ``watch --preview`` (and ``serve --preview``).

The web edition in ``out/web/`` is served on 127.0.0.1, and every page a
browser opens through the preview carries one small script that listens for
reload events (Server-Sent Events on ``/__preview/events``). When a YAML file
is saved, `LivePreview.saved` renders that handout's web page first, from the
saved file alone (no WeasyPrint), and tells the open pages to reload; then the
watch rebuilds the PDFs as it always does, and `LivePreview.built` sends one
more reload for the pages that build rewrote (sizes of PDFs, other languages,
the index).

The files on disk never hold the script: it is added to the HTML as it is
sent, so what is published from ``out/web/`` stays free of scripts. Only files
inside ``out/web/`` are served, only to this computer (the client address and
the Host header must both name it, as for `serve`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.frontdesk.library import WEB_SUFFIXES
from handoutpress.frontdesk.serve import LOCAL_CLIENTS, LOCAL_HOST_NAMES, bind
from handoutpress.web.site import WEB, WebSite

if TYPE_CHECKING:
    import socket

    from handoutpress.batch.jobs import BuildOptions, BuildReport, Publisher
    from handoutpress.batch.loading import KeptHandouts
    from handoutpress.batch.watch import WatchHooks
    from handoutpress.load.brand import Brand
    from handoutpress.render.html import Renderer

PREVIEW = "/__preview/"
EVENTS = PREVIEW + "events"
SCRIPT = PREVIEW + "reload.js"
HEADERS = {
    # What a careful static host would send, plus the preview's own script and event stream.
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# `batch.watch.watch`'s shape: (options, hooks, *, publishers, once) -> exit status.
WatchFunction = Callable[..., int]
KEEPALIVE = 15.0  # seconds between comment lines on an idle event stream
SETTLE = 0.5  # at most this long, after a save, the build waits for the open pages to reload
QUIET = 0.03  # a reloading page has all its files once none was asked for in this long

# The page's side: reload when the saved page is this one, or when a build rewrote every page ("*").
RELOAD_SCRIPT = b"""(() => {
  const events = new EventSource("/__preview/events");
  events.addEventListener("reload", (event) => {
    const pages = JSON.parse(event.data);
    const here = location.pathname.replace(/index\\.html$/, "");
    if (pages.includes("*") || pages.includes(here)) location.reload();
  });
})();
"""
SCRIPT_TAG = f'<script src="{SCRIPT}"></script>'.encode()


def with_reload_script(html: bytes) -> bytes:
    """The page as the preview sends it: the reload script just before ``</body>`` (or at the end)."""
    at = html.rfind(b"</body>")
    return html + SCRIPT_TAG if at < 0 else html[:at] + SCRIPT_TAG + html[at:]


# ---------------------------------------------------------------------------
# Reload events


class Reloads:
    """The reload events the open pages wait for: each one a number and the page addresses it names."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._events: list[tuple[int, tuple[str, ...]]] = []
        self._closed = False
        self._listening = 0  # open event streams: pages that will reload
        self._served: dict[str, float] = {}  # address -> when it was last sent
        self._last_request = 0.0

    def announce(self, pages: Iterable[str]) -> int:
        """Tell every open page that ``pages`` (addresses like ``/en/x/``, or ``*``) changed; returns the event's number."""
        with self._changed:
            number = len(self._events) + 1
            self._events.append((number, tuple(pages)))
            del self._events[:-100]  # a page that fell that far behind reloads anyway
            self._changed.notify_all()
            return number

    @property
    def latest(self) -> int:
        with self._changed:
            return self._events[-1][0] if self._events else 0

    def after(self, seen: int, timeout: float) -> list[tuple[int, tuple[str, ...]]] | None:
        """The events after number ``seen``, waiting up to ``timeout`` for one; None once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self._closed or (self._events and self._events[-1][0] > seen), timeout)
            if self._closed:
                return None
            return [event for event in self._events if event[0] > seen]

    @contextlib.contextmanager
    def listener(self) -> Iterator[None]:
        """While an event stream is open: a page that will reload when told."""
        with self._changed:
            self._listening += 1
        try:
            yield
        finally:
            with self._changed:
                self._listening -= 1

    def served(self, address: str) -> None:
        """A file was sent (``/en/x/`` for a page): the reloads waiting for it may go on."""
        with self._changed:
            self._last_request = self._served[address] = time.monotonic()
            self._changed.notify_all()

    def settle(self, pages: Iterable[str], since: float, timeout: float = SETTLE, quiet: float = QUIET) -> None:
        """Wait (at most ``timeout``) until the open pages have fetched ``pages`` again and their files stopped coming.

        The watch calls this before it starts typesetting, so the reload does not
        queue behind the build for this process's time. Without open pages it returns at once.
        """
        wanted = tuple(pages)
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._listening and not self._closed:
                now = time.monotonic()
                fetched = all(self._served.get(p, 0.0) >= since for p in wanted) or "*" in wanted
                if (fetched and now - self._last_request >= quiet) or now >= deadline:
                    return
                self._changed.wait(min(quiet, deadline - now))

    def close(self) -> None:
        """End every event stream (the server is stopping)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()


# ---------------------------------------------------------------------------
# The server


def host_name(host_header: str) -> str:
    """The name a Host header gives, without its port (``[::1]:8000`` -> ``::1``)."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def web_file(web: Path, request_path: str) -> Path | None:
    """The file inside ``web`` that a request path names (a folder means its ``index.html``), or None."""
    path = request_path.split("?", 1)[0].split("#", 1)[0]
    if "\\" in path or "\0" in path or "%" in path or not path.startswith("/"):
        return None
    parts = [p for p in path.split("/")[1:]]
    if parts and parts[-1] == "":
        parts[-1] = "index.html"
    if not parts or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    root = web.resolve()
    target = (root / "/".join(parts)).resolve()
    if not target.is_relative_to(root) or target.suffix.lower() not in WEB_SUFFIXES or not target.is_file():
        return None
    return target


class _PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewHTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms wait on each small file

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass  # no access log

    def do_HEAD(self) -> None:
        self.do_GET(body=False)

    def do_GET(self, body: bool = True) -> None:
        refusal = self._refusal()
        if refusal:
            return self._send(403, "text/plain; charset=utf-8", refusal.encode())
        path = self.path.split("?", 1)[0]
        if path == EVENTS:
            return self._stream_events()
        if path == SCRIPT:
            return self._send(200, "text/javascript; charset=utf-8", RELOAD_SCRIPT, body)
        target = web_file(self.server.web, path)
        if target is None and not path.endswith("/") and web_file(self.server.web, path + "/"):
            return self._send(301, "text/plain; charset=utf-8", b"", body, {"Location": path + "/"})  # a folder: its page
        if target is None:
            return self._send(404, "text/plain; charset=utf-8", b"Not found.\n", body)
        data = target.read_bytes()
        if target.suffix.lower() == ".html":
            data = with_reload_script(data)
        self._send(200, WEB_SUFFIXES[target.suffix.lower()], data, body)
        self.server.reloads.served(path[: -len("index.html")] if path.endswith("/index.html") else path)

    def _refusal(self) -> str | None:
        if self.client_address[0] not in LOCAL_CLIENTS:
            return "Only this computer may use the preview.\n"
        if host_name(self.headers.get("Host", "")) not in LOCAL_HOST_NAMES:
            return "Open the preview as http://127.0.0.1 on this computer.\n"
        return None

    def _send(self, status: int, content_type: str, data: bytes, body: bool = True, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in {**HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _stream_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.close_connection = True
        reloads = self.server.reloads
        seen = reloads.latest
        try:
            self.wfile.write(b"retry: 500\n: connected\n\n")
            self.wfile.flush()
            with reloads.listener():
                self._send_events(reloads, seen)
        except OSError:  # the page was closed or reloaded
            return

    def _send_events(self, reloads: Reloads, seen: int) -> None:
        import json

        while True:
            events = reloads.after(seen, KEEPALIVE)
            if events is None:
                return
            for number, pages in events:
                self.wfile.write(f"id: {number}\nevent: reload\ndata: {json.dumps(list(pages))}\n\n".encode())
                seen = number
            if not events:
                self.wfile.write(b": still here\n\n")
            self.wfile.flush()


class PreviewHTTPServer(ThreadingHTTPServer):
    """The preview's HTTP server: ``out/web/`` and the reload events, on a socket already bound to 127.0.0.1."""

    daemon_threads = True

    def __init__(self, sock: socket.socket, web: Path, reloads: Reloads):
        super().__init__(sock.getsockname()[:2], _PreviewHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock  # bound by serve.bind: 127.0.0.1 only, with the same one-line errors
        self.web = web
        self.reloads = reloads


class PreviewServer:
    """The preview's server in a background thread: ``with PreviewServer(out / "web", port) as server: ...``."""

    def __init__(self, web: Path, port: int = 0):
        self.web = web
        self.reloads = Reloads()
        self.sock = bind(port)
        self.httpd = PreviewHTTPServer(self.sock, web, self.reloads)
        host, bound = self.sock.getsockname()[:2]
        self.url = f"http://{host}:{bound}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> PreviewServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.reloads.close()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)


# ---------------------------------------------------------------------------
# The watch's side: the saved page first, then whatever the build rewrote


@dataclass
class LivePreview:
    """What the preview does around each rebuild of the watch; keeps its own warm renderer and loaded handouts."""

    options: BuildOptions
    server: PreviewServer
    notify: Callable[[str], None] = print
    _renderer: Renderer | None = None
    _brand: tuple[str, Brand] | None = None
    _kept: KeptHandouts | None = None
    _pages: dict[str, tuple[int, int]] = field(default_factory=dict)
    timings: list[float] = field(default_factory=list)  # seconds from a save being seen to its reload event

    def started(self) -> None:
        """Before the first build: remember what ``out/web/`` holds, say where the preview is."""
        self._pages = self._snapshot()
        self.notify(f"preview of the web edition at {self.server.url} (reloads on save; this computer only)")

    def saved(self, changed: list[Path]) -> None:
        """Files were saved: render the saved handouts' pages now (no PDFs), then reload them in the browser."""
        started = time.perf_counter()
        handouts_dir = (self.options.root / "handouts").resolve()
        saved = [p for p in changed if p.suffix in (".yaml", ".yml") and p.is_file() and p.resolve().is_relative_to(handouts_dir)]
        if len(saved) < len(changed):  # templates, labels, glossary or the brand: read them afresh next time
            self._renderer = self._kept = None
        if not saved:
            return
        try:
            pages = self._render_pages(saved)
        except Exception as exc:  # the build that follows reports content errors with file and line
            self.notify(f"preview: the page could not be shown yet ({type(exc).__name__}); the build below says why")
            return
        if pages:
            self._pages.update(self._snapshot(pages))
            addresses = self._addresses(pages)
            announced = time.monotonic()
            self.server.reloads.announce(addresses)
            self.timings.append(time.perf_counter() - started)
            self.server.reloads.settle(addresses, since=announced)  # then the PDFs

    def built(self) -> None:
        """A build finished: reload every page it rewrote (all of them when the stylesheet changed)."""
        if self._renderer is None:
            self._warm()
        now = self._snapshot()
        rewritten = [Path(p) for p, stamp in now.items() if self._pages.get(p) != stamp]
        self._pages = now
        if not rewritten:
            return
        styles = [p for p in rewritten if p.suffix == ".css"]
        self.server.reloads.announce(["*"] if styles else self._addresses(rewritten))

    # -- steps

    def _render_pages(self, saved: list[Path]) -> list[Path]:
        """Each saved handout's page, from its YAML as saved and the last build's manifest (for its PDFs)."""
        from handoutpress.batch.loading import load_handouts
        from handoutpress.publish import read_manifest
        from handoutpress.web.pages import handout_page, listed_handouts

        site = self._site()
        handouts, _ = load_handouts((site.renderer.project.handouts,), site.renderer.project.root, self._kept)
        site = dataclasses.replace(site, handouts=tuple(handouts))
        wanted = {p.resolve() for p in saved}
        chosen = [h for h in handouts if (site.renderer.project.root / h.path).resolve() in wanted]
        if not chosen:
            return []
        listed = listed_handouts(site, {str(e.get("path")): e for e in read_manifest(self.options.out)["outputs"]})
        written = []
        for item in chosen:
            path = site.path_of(item.language, item.id)
            if site.write(path, handout_page(site, item, listed)):
                written.append(path)
        return written

    def _warm(self) -> None:
        """Load the library and compile the page template now, so the first save is as quick as the rest."""
        from handoutpress.batch.loading import load_handouts

        try:
            site = self._site()
            handouts, _ = load_handouts((site.renderer.project.handouts,), site.renderer.project.root, self._kept)
            for language in sorted({h.language for h in handouts}):
                site.renderer.environment(site.renderer.labels.of(language)["quotes"]).get_template("web/handout.html")
        except Exception:  # the build reports what is wrong; a save will try again
            self._renderer = self._kept = None

    def _site(self) -> WebSite:
        """The web site the saved pages are written into, with a renderer and brand kept warm between saves."""
        from handoutpress.batch.loading import KeptHandouts
        from handoutpress.load.brand import load_brand
        from handoutpress.load.project import Project
        from handoutpress.render.html import Renderer

        project = Project(self.options.root)
        if self._renderer is None or self._kept is None:
            self._renderer, self._kept = Renderer(project), KeptHandouts()
        brand_key = str((self.options.brand_dir / "brand.yaml").stat().st_mtime_ns)
        if self._brand is None or self._brand[0] != brand_key:
            self._brand = (brand_key, load_brand(self.options.brand_dir, project.root))
        return WebSite(self.options.out, self._brand[1], self._renderer, (), self.options.today)

    def _snapshot(self, pages: Iterable[Path] | None = None) -> dict[str, tuple[int, int]]:
        web = self.server.web
        files = pages if pages is not None else (p for p in web.rglob("*") if p.suffix in (".html", ".css"))
        found = {}
        for path in files:
            try:
                stat = path.stat()
            except OSError:
                continue
            found[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return found

    def _addresses(self, pages: Iterable[Path]) -> list[str]:
        web = self.server.web.resolve()
        addresses = []
        for page in pages:
            rel = page.resolve().relative_to(web).as_posix()
            addresses.append("/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel))
        return sorted(set(addresses))


def previewed(watch: WatchFunction, port: int) -> WatchFunction:
    """``watch`` with the live preview around it: the server on ``port``, the saved pages first, a reload after each build."""

    def watch_with_preview(options: BuildOptions, hooks: WatchHooks, *, publishers: Iterable[Publisher] = (), once: bool = False) -> int:
        with PreviewServer(options.out / WEB, port) as server:
            live = LivePreview(options, server, notify=hooks.notify)
            live.started()

            def report(report: BuildReport, seconds: float) -> int:
                status = hooks.report(report, seconds)
                live.built()
                return status

            return watch(options, dataclasses.replace(hooks, report=report, saved=live.saved), publishers=publishers, once=once)

    return watch_with_preview
