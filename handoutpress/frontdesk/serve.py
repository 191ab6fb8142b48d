"""``generate.py serve``: the catalogue on this computer only, plus one-off copies and print lists.

A Starlette app run by uvicorn, bound to 127.0.0.1. It serves the catalogue
(rendered from ``out/manifest.json`` with a "Personalise" form on each
handout and a print list), the files the catalogue links to inside ``out/``
and the web edition (``out/web/**``), nothing else.

Refused, before any route runs: a client that is not this computer, a Host
header that does not name it (so a web page cannot reach the server through a
rebound DNS name), and a POST whose Origin is another site.

A personalised copy costs only its own document (`library.Library.copy_job`)
and is typeset in the desk's warm worker pool (`press.DeskPress`), with the
time limit in force; it is returned and forgotten: nothing about the patient
is written to disk, logged or cached. The access log is off, the form is a
POST (so the name is never in a URL), the response says ``Cache-Control:
no-store``, and the only cache the workers keep (stamp PDFs) is keyed by page
count and review dates, not by the copy.

Every document handed out (opened, printed, in a print list, personalised) is
recorded as one event (`recording.DeskRecords`); a database that cannot be
reached never stops a document, the desk sees a notice instead.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, quote

from handoutpress.batch.jobs import DEFAULT_PAGE_LIMIT, DEFAULT_TIME_LIMIT
from handoutpress.errors import Problem, UsageError
from handoutpress.frontdesk.catalogue import render_catalogue
from handoutpress.frontdesk.forms import (
    MAX_FORM_BYTES,
    MAX_LIST_BYTES,
    Personalisation,
    Selection,
    given_to_context,
    parse_form,
    parse_print_list,
    parse_via,
)
from handoutpress.frontdesk.infobutton import infobutton_endpoint
from handoutpress.frontdesk.library import Library, ServeError
from handoutpress.frontdesk.press import DeskPress
from handoutpress.frontdesk.printlist import document_label, join_pdfs, printable
from handoutpress.frontdesk.recording import DEFAULT_DESK, NOTICE_HEADER, DeskRecords, check_desk
from handoutpress.load.codes import check_code

__all__ = ["Library", "ServeError", "Personalisation", "parse_form", "create_app", "bind", "make_server", "serve"]

HOST = "127.0.0.1"
LOCAL_CLIENTS = frozenset({"127.0.0.1", "::1"})
LOCAL_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})

PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "connect-src 'self'; frame-src 'self' blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # "no-referrer" would make a form's Origin "null"
    "cache-control": "no-store",
}
# The web edition's pages load their own stylesheet and pictures, nothing else.
WEB_PAGE_CSP = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
PDF_HEADERS = {"cache-control": "no-store, private"}


# ---------------------------------------------------------------------------
# The web app


def _host_name(host_header: str) -> str:
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class LocalOnly:
    """ASGI middleware: refuse clients and Host headers that are not this computer."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from starlette.responses import PlainTextResponse

        client = (scope.get("client") or ("", 0))[0]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if client not in LOCAL_CLIENTS:
            return await PlainTextResponse("Only this computer may use the catalogue.\n", status_code=403)(scope, receive, send)
        if _host_name(host) not in LOCAL_HOST_NAMES:
            return await PlainTextResponse("Open the catalogue as http://127.0.0.1 on this computer.\n", status_code=403)(
                scope, receive, send
            )
        if scope["method"] == "POST":
            origin = headers.get("origin")
            if origin is not None and origin.lower() != f"http://{host.lower()}":
                return await PlainTextResponse("Forms may only be sent from the catalogue itself.\n", status_code=403)(
                    scope, receive, send
                )

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in PAGE_HEADERS.items() if k.encode() not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _notice_headers(notice: str | None) -> dict[str, str]:
    """The header that carries a recording notice to the catalogue's script (percent-encoded: headers are ASCII)."""
    return {NOTICE_HEADER: quote(notice, safe=" :;,.()/'-")} if notice else {}


class Desk:
    """What the app's routes share: the library, the press that typesets copies, the record."""

    def __init__(self, library: Library, press: DeskPress | None, records: DeskRecords, today: date | None) -> None:
        self.library = library
        self.press = press
        self.records = records
        self.today = today
        self._page: tuple[tuple, str] | None = None  # the catalogue as last rendered, and what it showed

    def current_day(self) -> date:
        return self.today or date.today()

    def catalogue(self) -> str:
        """The served catalogue page, rendered again only when what it shows may have changed
        (the manifest, the day, the clinic's name, the events waiting, its template or stylesheet)."""
        library = self.library
        pending = self.records.pending()
        clinic = _clinic_name(library)
        sources = [library.root / "templates" / "catalogue.html", library.root / "styles" / "catalogue.css"]
        key = (library.manifest_key(), self.current_day(), clinic, pending, *(_file_key(p) for p in sources))
        kept = self._page
        if kept is not None and kept[0] == key:
            return kept[1]
        html = render_catalogue(
            library.manifest(),
            templates=library.root / "templates",
            styles=library.root / "styles",
            clinic=clinic,
            today=self.current_day(),
            personalise=True,
            pending=pending,
        )
        self._page = (key, html)
        return html

    def personalised_pdf(self, who: Personalisation) -> bytes:
        """One copy of the handout at ``who.path`` with page 1's "Given to" box filled."""
        from handoutpress.batch.pipeline import make_output
        from handoutpress.load.project import Project
        from handoutpress.render.html import load_labels

        job = self.library.copy_job(who.path)
        brand = self.library.brand()
        labels = load_labels(Project(self.library.root).labels, job.item.language)
        extra = {"given_to": given_to_context(who, job.item.language, labels)}
        if self.press is not None:
            result = self.press.typeset(job, self.press.context(brand, self.library.brand_dir), extra)
        else:  # no press (a tool or test that made the app alone): typeset here
            result = make_output(job, brand, Project(self.library.root), extra=extra)
        if result.problems or result.pdf is None:
            raise ServeError(Problem(who.path, "could not make the personalised copy; the printed one is unchanged"))
        return result.pdf

    def print_list(self, paths: list[str]) -> bytes:
        """The PDFs at ``paths`` joined in that order (in the press, under its time limit)."""
        entries = self.library.entries()
        documents = []
        for path in paths:
            found = self.library.file(path)
            if found is None:
                raise ServeError(Problem(path, "its file is missing from out/: run `python generate.py build`"))
            documents.append((document_label(entries[path]), found[0]))
        title = f"Print list ({len(documents)} documents)"
        if self.press is None:  # no press (a tool or test that made the app alone): join here
            return join_pdfs(documents, title)
        joined = self.press.join(documents, title)
        if isinstance(joined, str):
            raise ServeError(Problem("print-list", joined))
        return joined

    # The routes (each a request -> response; the work runs in threads, off the event loop)

    async def index(self, request):
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import HTMLResponse

        return HTMLResponse(await run_in_threadpool(self.catalogue))

    async def status(self, request):
        """GET /desk-status: how many hand-out events wait for the database, and what to tell the desk."""
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import JSONResponse

        pending = await run_in_threadpool(self.records.pending)
        notice = (
            f"{pending} hand-out {'events wait' if pending != 1 else 'event waits'} to be recorded: the records database "
            "cannot be reached. Printing still works."
            if pending
            else ""
        )
        return JSONResponse({"pending": pending, "notice": notice})

    async def files(self, request):
        """A file under out/; a document (PDF or web page) is recorded as handed out."""
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import FileResponse, PlainTextResponse

        rel = request.path_params["path"]
        found = self.library.file(rel)
        if found is None:
            return PlainTextResponse("Not found.\n", status_code=404)
        target, kind = found
        headers = {"content-security-policy": WEB_PAGE_CSP} if rel.startswith("web/") else {}
        entry = self.library.handed_out(rel)
        # One event per document handed out: a whole GET, not a HEAD or a viewer's later range request.
        if entry is not None and request.method == "GET" and "range" not in request.headers:
            channel = "print" if request.query_params.get("channel") == "print" else "open"
            notice = await run_in_threadpool(self.records.hand_out, [entry], channel, _via(request))
            headers.update(_notice_headers(notice))
        if kind == "application/pdf":
            headers.update(PDF_HEADERS)
        return FileResponse(target, media_type=kind, headers=headers)

    async def personalise(self, request):
        """POST /personalise: one copy with the "Given to" box, typeset in the press."""
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import PlainTextResponse, Response

        body = await _small_form(request, MAX_FORM_BYTES)
        if isinstance(body, Response):
            return body
        who, problems = parse_form(body, self.library.pdfs(), self.current_day())  # only a PDF, never a web page
        del body
        if who is None:
            return PlainTextResponse("Please go back and check the form:\n" + "\n".join(problems) + "\n", status_code=400)
        try:
            pdf = await run_in_threadpool(self.personalised_pdf, who)
        except ServeError as exc:
            return PlainTextResponse("\n".join(str(p) for p in exc.problems) + "\n", status_code=409)
        except Exception:  # no traceback: it could hold what was typed
            return PlainTextResponse(f"{who.path}: could not make the personalised copy.\n", status_code=500)
        entry = self.library.entries()[who.path]
        notice = await run_in_threadpool(self.records.hand_out, [entry], "personalised", _via(request))
        name = Path(who.path).name
        headers = {"content-disposition": f'inline; filename="{name}"', **PDF_HEADERS, **_notice_headers(notice)}
        return Response(pdf, media_type="application/pdf", headers=headers)

    async def print_list_route(self, request):
        """POST /print-list: the chosen PDFs as one, each recorded as printed."""
        from starlette.concurrency import run_in_threadpool
        from starlette.responses import PlainTextResponse, Response

        body = await _small_form(request, MAX_LIST_BYTES)
        if isinstance(body, Response):
            return body
        paths, problems = parse_print_list(body, printable(self.library.entries()))
        if problems:
            return PlainTextResponse("Please check the print list:\n" + "\n".join(problems) + "\n", status_code=400)
        try:
            pdf = await run_in_threadpool(self.print_list, paths)
        except ServeError as exc:
            return PlainTextResponse("\n".join(str(p) for p in exc.problems) + "\n", status_code=409)
        entries = self.library.entries()
        notice = await run_in_threadpool(self.records.hand_out, [entries[p] for p in paths], "print", _via(request))
        headers = {"content-disposition": 'inline; filename="Print-list.pdf"', **PDF_HEADERS, **_notice_headers(notice)}
        return Response(pdf, media_type="application/pdf", headers=headers)



def create_app(
    library: Library,
    today: date | None = None,
    *,
    press: DeskPress | None = None,
    records: DeskRecords | None = None,
):
    """The Starlette app serving ``library``; copies typeset by ``press``, hand-outs recorded in ``records``."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    desk = Desk(library, press, records or DeskRecords(None), today)
    routes = [
        Route("/", desk.index, methods=["GET", "HEAD"]),
        Route("/index.html", desk.index, methods=["GET", "HEAD"]),
        Route("/personalise", desk.personalise, methods=["POST"]),
        Route("/print-list", desk.print_list_route, methods=["POST"]),
        Route("/desk-status", desk.status, methods=["GET"]),
        Route("/infobutton", infobutton_endpoint(library.out), methods=["GET", "HEAD"]),  # HL7 Infobutton, from the manifest
        Route("/{path:path}", desk.files, methods=["GET", "HEAD"]),
    ]
    return LocalOnly(Starlette(routes=routes))


async def _small_form(request, most: int):
    """The url-encoded body of ``request`` (at most ``most`` bytes), or the response that refuses it."""
    from starlette.responses import PlainTextResponse

    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return PlainTextResponse("Send the form.\n", status_code=415)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > most:
            return PlainTextResponse("The form is too long.\n", status_code=413)
    return body


def _via(request) -> Selection | None:
    """What selected the document, from the ``via`` the catalogue's link carries (a bad one: the catalogue)."""
    return parse_via(parse_qs(request.url.query).get("via", []))


def _file_key(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def _clinic_name(library: Library) -> str:
    try:
        return library.brand().config.name
    except Exception:
        return ""


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: any free port), or a one-line error."""
    if not 0 <= port <= 65535:
        raise UsageError(Problem("generate.py", f"--port must be 0 to 65535, got {port}"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ServeError(Problem("generate.py", f"cannot listen on {HOST}:{port}: {exc.strerror or exc}")) from None
    sock.listen(64)
    return sock


def make_server(app, sock: socket.socket):
    """A uvicorn server for ``app`` on ``sock``, with the access log off."""
    import uvicorn

    config = uvicorn.Config(
        app,
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
        proxy_headers=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def serve(
    root: Path,
    out: Path,
    port: int,
    brand_dir: Path | None = None,
    announce: Callable[[str], None] = print,
    *,
    desk: str = DEFAULT_DESK,
    records_url: str | None = None,
    workers: int = 0,
    time_limit: float = DEFAULT_TIME_LIMIT,
    page_limit: int = DEFAULT_PAGE_LIMIT,
) -> None:
    """Serve ``out`` on 127.0.0.1:``port`` until interrupted; ``announce`` gets the one line that says where.

    The press's workers warm up while the record is opened and the server starts; both are closed on exit.
    """
    from handoutpress.records import open_records

    check_desk(desk)
    library = Library(root, out, brand_dir)
    # The workers are forked first, so that they hold neither the listening socket nor the database.
    with DeskPress(library.root, workers, time_limit=time_limit, page_limit=page_limit) as press:
        sock = bind(port)
        try:
            records = open_records(records_url, library.root, desk)
            try:
                app = create_app(library, press=press, records=DeskRecords(records, desk))
                server = make_server(app, sock)
                # The ICD-10-CM code set takes about 2 s to read: read it now, not in the first
                # request that names a code (an Infobutton question or a link the code search made).
                threading.Thread(target=check_code, args=("icd10cm", "F32"), name="icd10cm", daemon=True).start()
                host, bound = sock.getsockname()[:2]
                count = len(library.pdfs())
                announce(
                    f"Catalogue of {count} PDFs at http://{host}:{bound}/ (this computer only; Ctrl+C to stop); "
                    f"desk {desk!r}, hand-outs recorded in {records.location}"
                )
                server.run(sockets=[sock])
            finally:
                records.close()
        finally:
            sock.close()
