"""``generate.py serve``: the catalogue on this computer only, plus one-off copies.

A Starlette app run by uvicorn, bound to 127.0.0.1. It serves the catalogue
(rendered from ``out/manifest.json`` with a "Personalise" form on each handout)
and the files the catalogue links to inside ``out/``, nothing else.

Refused, before any route runs: a client that is not this computer, a Host
header that does not name it (so a web page cannot reach the server through a
rebound DNS name), and a POST whose Origin is another site.

A personalised copy is rendered through the normal pipeline
(`batch.pipeline.make_output` with a ``given_to`` template value), returned and
forgotten: nothing about the patient is written to disk, logged or cached. The
access log is off, the form is a POST (so the name is never in a URL), the
response says ``Cache-Control: no-store``, and the only cache the pipeline
keeps (stamp PDFs) is keyed by page count and review dates, not by the copy.
"""

from __future__ import annotations

import re
import socket
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs

from handoutpress.errors import HandoutPressError, Problem, UsageError
from handoutpress.frontdesk.catalogue import render_catalogue
from handoutpress.publish import read_manifest

HOST = "127.0.0.1"
LOCAL_CLIENTS = frozenset({"127.0.0.1", "::1"})
LOCAL_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_NAME = 60
MAX_INITIALS = 4
MAX_FORM_BYTES = 2048
SERVED_SUFFIXES = {".pdf": "application/pdf", ".png": "image/png"}
NAME_PUNCTUATION = frozenset(" '’-.,")

PAGE_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # "no-referrer" would make a form's Origin "null"
    "cache-control": "no-store",
}


class ServeError(HandoutPressError):
    """The server cannot start, or cannot make the copy asked for (shown to the person, one line)."""


@dataclass(frozen=True)
class Personalisation:
    """What the form sends: held in memory for one request, never stored."""

    path: str
    name: str
    given: date
    initials: str

    def __repr__(self) -> str:  # a stray log line or traceback must not show the patient
        return f"Personalisation(path={self.path!r}, name=<{len(self.name)} characters>, ...)"


def parse_form(body: bytes, outputs: set[str], today: date) -> tuple[Personalisation | None, list[str]]:
    """Validate the personalise form; return the values or one message per bad field.

    Messages name the field and the rule, never what was typed.
    """
    problems: list[str] = []
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None, ["form: could not read the form"]

    def one(key: str) -> str:
        values = fields.get(key, [])
        if len(values) > 1:
            problems.append(f"{key}: sent more than once")
        return values[0] if values else ""

    path, raw_name, raw_given, raw_initials = one("path"), one("name"), one("given"), one("initials")
    if path not in outputs:
        problems.append("path: not a handout in this catalogue")

    name = " ".join(unicodedata.normalize("NFC", raw_name).split())
    if not name:
        problems.append("name: type the patient's preferred name")
    elif len(name) > MAX_NAME:
        problems.append(f"name: at most {MAX_NAME} characters")
    elif not all(c in NAME_PUNCTUATION or unicodedata.category(c)[0] in "LM" for c in name):
        problems.append("name: use letters, spaces, hyphens, apostrophes and full stops only")
    elif not any(unicodedata.category(c)[0] == "L" for c in name):
        problems.append("name: type the patient's preferred name")

    given = None
    try:
        given = date.fromisoformat(raw_given.strip()) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_given.strip()) else None
    except ValueError:
        given = None
    if given is None:
        problems.append("given: expected a date as YYYY-MM-DD")
    elif given > today + timedelta(days=1):
        problems.append("given: the date given cannot be in the future")
    elif given < today - timedelta(days=366):
        problems.append("given: the date given must be within the last year")

    initials = re.sub(r"[\s.]", "", unicodedata.normalize("NFC", raw_initials))
    if not initials:
        problems.append("initials: type your initials")
    elif len(initials) > MAX_INITIALS or not initials.isalpha():
        problems.append(f"initials: 1 to {MAX_INITIALS} letters")

    if problems or given is None:  # a missing date is always among the problems
        return None, problems
    return Personalisation(path, name, given, initials.upper()), []


def given_to_context(who: Personalisation, language: str, labels: dict[str, str]) -> dict:
    """The ``given_to`` template value: the box's words (from the language's
    labels, never a fallback to English) and the three values."""
    from babel.dates import format_date

    words = {"heading": labels["given_to"], "date_label": labels["date_given"], "by_label": labels["given_by"]}
    try:
        shown_date = format_date(who.given, format="long", locale=language.replace("-", "_"))
    except Exception:  # an unusual language code: the date in ISO form is still clear
        shown_date = who.given.isoformat()
    return {**words, "name": who.name, "date": shown_date, "initials": who.initials}


class Library:
    """The project and its built outputs, as the server needs them."""

    def __init__(self, root: Path, out: Path, brand_dir: Path | None = None):
        self.root = root.resolve()
        self.out = out.resolve()
        manifest = read_manifest(self.out)
        if not (self.out / "manifest.json").is_file():
            raise ServeError(Problem(str(out), "no catalogue here: run `python generate.py build` first"))
        recorded = manifest.get("brand")
        self.brand_dir = brand_dir or (self.root / recorded if isinstance(recorded, str) else self.root / "brands/default")
        self._lock = threading.Lock()  # one typesetting at a time: WeasyPrint's warnings go through one logger

    def manifest(self) -> dict:
        return read_manifest(self.out)

    def file(self, rel: str) -> Path | None:
        """The file under out/ that ``rel`` names, if it may be served; else None."""
        if not rel or "\\" in rel or "\0" in rel:
            return None
        parts = rel.split("/")
        if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
            return None
        target = (self.out / rel).resolve()
        if not target.is_relative_to(self.out) or target.suffix.lower() not in SERVED_SUFFIXES or not target.is_file():
            return None
        return target

    def personalised_pdf(self, who: Personalisation) -> bytes:
        """One copy of the handout at ``who.path`` with page 1's "Given to" box filled."""
        from handoutpress.batch.pipeline import make_output
        from handoutpress.batch.plan import plan_jobs
        from handoutpress.load.brand import load_brand
        from handoutpress.load.content import load_library
        from handoutpress.load.project import Project
        from handoutpress.render.html import load_labels

        entry = next((o for o in self.manifest()["outputs"] if o.get("path") == who.path), None)
        if entry is None:
            raise ServeError(Problem(who.path, "not in the catalogue"))
        project = Project(self.root)
        with self._lock:
            brand = load_brand(self.brand_dir, self.root)
            handouts, _ = load_library((project.handouts,), self.root)  # all of it: related titles come from others
            jobs, _ = plan_jobs(handouts, brand, project)
            job = next((j for j in jobs if j.rel_path == who.path), None)
            if job is None:
                raise ServeError(Problem(who.path, "its source is gone or no longer valid: run `python generate.py build`"))
            if entry.get("edition") != job.item.edition:  # the copy must say what the printed one says
                raise ServeError(Problem(who.path, "its text changed since the last build: run `python generate.py build` first"))
            result = make_output(
                job, brand, project, extra={"given_to": given_to_context(who, job.item.language, load_labels(project.labels, job.item.language))},
            )
        if result.problems or result.pdf is None:
            raise ServeError(Problem(who.path, "could not make the personalised copy; the printed one is unchanged"))
        return result.pdf


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


def create_app(library: Library, today: date | None = None):
    """The Starlette app serving ``library``."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
    from starlette.routing import Route

    def current_day() -> date:
        return today or date.today()

    async def index(request: Request):
        html = render_catalogue(
            library.manifest(),
            templates=library.root / "templates",
            styles=library.root / "styles",
            clinic=_clinic_name(library),
            today=current_day(),
            personalise=True,
        )
        return HTMLResponse(html)

    async def files(request: Request):
        target = library.file(request.path_params["path"])
        if target is None:
            return PlainTextResponse("Not found.\n", status_code=404)
        return FileResponse(target, media_type=SERVED_SUFFIXES[target.suffix.lower()])

    async def personalise(request: Request):
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return PlainTextResponse("Send the personalise form.\n", status_code=415)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return PlainTextResponse("The form is too long.\n", status_code=413)
        outputs = {
            o["path"] for o in library.manifest()["outputs"] if isinstance(o, dict) and o.get("path") and o.get("variant") != "web"
        }  # only a PDF can be personalised, never a web page
        who, problems = parse_form(body, outputs, current_day())
        del body
        if who is None:
            return PlainTextResponse("Please go back and check the form:\n" + "\n".join(problems) + "\n", status_code=400)
        try:
            pdf = await run_in_threadpool(library.personalised_pdf, who)
        except ServeError as exc:
            return PlainTextResponse("\n".join(str(p) for p in exc.problems) + "\n", status_code=409)
        except Exception:  # no traceback: it could hold what was typed
            return PlainTextResponse(f"{who.path}: could not make the personalised copy.\n", status_code=500)
        name = Path(who.path).name
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'inline; filename="{name}"', "cache-control": "no-store, private"},
        )

    routes = [
        Route("/", index, methods=["GET", "HEAD"]),
        Route("/index.html", index, methods=["GET", "HEAD"]),
        Route("/personalise", personalise, methods=["POST"]),
        Route("/{path:path}", files, methods=["GET", "HEAD"]),
    ]
    return LocalOnly(Starlette(routes=routes))


def _clinic_name(library: Library) -> str:
    try:
        from handoutpress.load.brand import load_brand

        return load_brand(library.brand_dir, library.root).config.name
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


def serve(root: Path, out: Path, port: int, brand_dir: Path | None = None, announce: Callable[[str], None] = print) -> None:
    """Serve ``out`` on 127.0.0.1:``port`` until interrupted; ``announce`` gets the one line that says where."""
    library = Library(root, out, brand_dir)
    sock = bind(port)
    server = make_server(create_app(library), sock)
    host, bound = sock.getsockname()[:2]
    count = len(library.manifest()["outputs"])
    announce(f"Catalogue of {count} PDFs at http://{host}:{bound}/ (this computer only; Ctrl+C to stop)")
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
