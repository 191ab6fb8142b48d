"""`generate.py serve`: local only, files inside out/ only, personalised copies that leave no trace."""

from __future__ import annotations

import io
import logging
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from support import ROOT, TODAY_DATE, pdf_outputs
from support.frontdesk import RunningServer, asgi, built_library, files_holding, http, manifest, pdf_text

from handoutpress.cli import main
from handoutpress.frontdesk.press import stamp_kit_specs
from handoutpress.frontdesk.serve import Library, create_app, parse_form
from handoutpress.records import open_records

NAME = "Zoë Quennell-Ashby"  # distinctive, so a search for it cannot hit anything else


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return built_library(tmp_path_factory, "serve")


@pytest.fixture(scope="module")
def app(library):
    root, out = library
    return create_app(Library(root, out), today=TODAY_DATE)


def form(**fields) -> bytes:
    values = {"path": "en/Sleep-and-Your-Mood.pdf", "name": NAME, "given": "2026-11-20", "initials": "ab", **fields}
    return urlencode(values).encode()


FORM_HEADERS = {"host": "127.0.0.1:8000", "content-type": "application/x-www-form-urlencoded", "origin": "http://127.0.0.1:8000"}


def test_catalogue_is_served_with_a_personalise_form_per_handout(app, library):
    """GET / is the catalogue of every output, with a POST form per handout and strict headers."""
    _, out = library
    status, headers, body = asgi(app, "/")
    html = body.decode()
    assert status == 200
    for entry in pdf_outputs(manifest(out)):
        assert f'data-path="{entry["path"]}"' in html
    assert html.count('<form method="post" action="personalise"') == 2
    assert headers["cache-control"] == "no-store"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_pdfs_and_thumbnails_are_served_byte_for_byte(app, library):
    """A PDF or thumbnail listed in the catalogue comes back exactly as it is in out/."""
    _, out = library
    entry = manifest(out)["outputs"][0]
    status, headers, body = asgi(app, "/" + entry["path"])
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert body == (out / entry["path"]).read_bytes()
    status, headers, body = asgi(app, f"/thumbs/{entry['sha256']}.png")
    assert (status, headers["content-type"], body[:4]) == (200, "image/png", b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/../handouts/en/walking.yaml",
        "/en/../../handouts/en/walking.yaml",
        "/%2e%2e/handouts/en/walking.yaml",
        "/en/..%2f..%2fhandouts/en/walking.yaml",
        "//etc/passwd",
        "/manifest.json",
        "/en/",
        "/.build.lock",
        "/en/.Sleep-and-Your-Mood.pdf.123.tmp",
        "/en\\Sleep-and-Your-Mood.pdf",
        "/link-out.pdf",
    ],
)
def test_nothing_outside_out_or_off_the_list_is_served(app, library, path):
    """Traversal, hidden and temporary files, other suffixes and symlinks out of out/ all get 404."""
    root, out = library
    half = out / "en" / ".Sleep-and-Your-Mood.pdf.123.tmp"
    half.write_bytes(b"%PDF- half")
    link = out / "link-out.pdf"
    if not link.is_symlink():
        shutil.copy(out / "en" / "Walking-for-Your-Health.pdf", root / "outside.pdf")
        link.symlink_to(root / "outside.pdf")
    try:
        status, _, body = asgi(app, path)
    finally:
        half.unlink()  # a half-written PDF cannot be searched: the no-trace tests would (rightly) count it
    assert (status, body) == (404, b"Not found.\n")


def test_other_clients_and_host_names_are_refused(app):
    """A request from another address, or naming another host (DNS rebinding), gets 403 before any route."""
    assert asgi(app, "/", client="192.168.1.20")[:3:2] == (403, b"Only this computer may use the catalogue.\n")
    for host in ("evil.example", "evil.example:8000", "127.0.0.1.evil.example", "0.0.0.0:8000", ""):
        status, _, body = asgi(app, "/", headers={"host": host})
        assert (status, body) == (403, b"Open the catalogue as http://127.0.0.1 on this computer.\n"), host
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"):
        assert asgi(app, "/", headers={"host": host})[0] == 200, host
    assert asgi(app, "/", client="::1")[0] == 200


def test_form_from_another_site_is_refused(app):
    """A POST whose Origin is another site (or a file:// page) is refused; nothing is rendered."""
    for origin in ("https://evil.example", "null", "http://localhost:9999"):
        status, _, body = asgi(app, "/personalise", method="POST", headers={**FORM_HEADERS, "origin": origin}, body=form())
        assert (status, body) == (403, b"Forms may only be sent from the catalogue itself.\n"), origin


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        ({"name": ""}, ["name: type the patient's preferred name"]),
        ({"name": "x" * 61}, ["name: at most 60 characters"]),
        ({"name": "<script>alert(1)</script>"}, ["name: use letters, spaces, hyphens, apostrophes and full stops only"]),
        ({"name": "Ann\u202eBob"}, ["name: use letters, spaces, hyphens, apostrophes and full stops only"]),
        ({"name": "- . '"}, ["name: type the patient's preferred name"]),
        ({"given": "20/11/2026"}, ["given: expected a date as YYYY-MM-DD"]),
        ({"given": "2026-02-30"}, ["given: expected a date as YYYY-MM-DD"]),
        ({"given": "2026-12-01"}, ["given: the date given cannot be in the future"]),
        ({"given": "2025-11-01"}, ["given: the date given must be within the last year"]),
        ({"initials": ""}, ["initials: type your initials"]),
        ({"initials": "ABCDE"}, ["initials: 1 to 4 letters"]),
        ({"initials": "A1"}, ["initials: 1 to 4 letters"]),
        ({"path": "../handouts/en/walking.yaml"}, ["path: not a handout in this catalogue"]),
        ({"path": "en/Nope.pdf", "initials": "<"}, ["path: not a handout in this catalogue", "initials: 1 to 4 letters"]),
    ],
)
def test_bad_form_fields_get_one_line_each_without_echoing_input(app, fields, messages):
    """Each bad field is named with its rule; what was typed is never sent back."""
    status, headers, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form(**fields))
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert body.decode().splitlines() == ["Please go back and check the form:", *messages]


def test_form_limits(app):
    """Only a small url-encoded POST is read: too long is 413, another encoding 415; a GET finds nothing."""
    status, _, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form(name="a" * 3000))
    assert (status, body) == (413, b"The form is too long.\n")
    multipart = {**FORM_HEADERS, "content-type": "multipart/form-data; boundary=x"}
    assert asgi(app, "/personalise", method="POST", headers=multipart, body=b"--x--")[0] == 415
    assert asgi(app, "/personalise")[:3:2] == (404, b"Not found.\n")


def test_parse_form_normalises_what_staff_type():
    """Spaces are collapsed, initials upper-cased without dots, and the repr never shows the name."""
    who, problems = parse_form(form(name="  Zoë   Quennell-Ashby ", initials="a.b."), {"en/Sleep-and-Your-Mood.pdf"}, TODAY_DATE)
    assert problems == []
    assert (who.name, who.initials, who.given) == (NAME, "AB", TODAY_DATE)
    assert NAME not in repr(who) and "Zoë" not in repr(who)


@pytest.fixture(scope="module")
def personalised(library):
    """One personalised copy fetched from a real server, with every log record of the request kept."""
    root, out = library
    logged: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            logged.append(record)

    started = time.time() - 1
    keep = Keep(level=logging.DEBUG)
    logging.getLogger().addHandler(keep)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    records = open_records(None, root, "front-desk")  # the default SQLite file, inside the project the search covers
    try:
        with RunningServer(root, out, today=TODAY_DATE, records=records) as server:
            status, headers, body = http(
                server.url + "personalise",
                method="POST",
                body=form(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": server.url.rstrip("/")},
            )
            kits = server.press.call(stamp_kit_specs)  # what the one worker that typeset the copy keeps
    finally:
        records.close()
        logging.getLogger().removeHandler(keep)
        logging.getLogger().setLevel(previous)
    assert (root / "records" / "handed-out.sqlite3").is_file()
    return status, headers, body, logged, started, kits


def test_personalised_copy_has_the_given_to_box_on_page_one(personalised, library):
    """The PDF's page 1 says who it was given to, when and by whom; the rest matches the printed copy."""
    from pypdf import PdfReader

    _, out = library
    status, headers, body, _, _, _ = personalised
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert headers["cache-control"] == "no-store, private"
    assert headers["content-disposition"] == 'inline; filename="Sleep-and-Your-Mood.pdf"'
    first = pdf_text(body, 0)
    assert f"Given to: {NAME}" in first
    assert "Date given: November 20, 2026" in first
    assert "Given by: AB" in first
    reader = PdfReader(io.BytesIO(body))
    printed = PdfReader(out / "en" / "Sleep-and-Your-Mood.pdf")
    assert all(NAME not in (p.extract_text() or "") for p in reader.pages[1:])
    assert reader.metadata.title == printed.metadata.title
    assert NAME not in str(dict(reader.metadata))
    pages = len(reader.pages)
    for i, page in enumerate(reader.pages, start=1):  # the usual stamp, on every page
        text = page.extract_text()
        assert f"Page {i} of {pages}" in text
        assert "Emergency: 911" in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # still a tagged PDF


def test_personalising_leaves_no_trace(personalised, library):
    """After a personalised copy: no file in the project or out/ (the hand-out record's SQLite file
    included), no log record and no cache of the worker that typeset it holds the name."""
    root, _ = library
    _, _, _, records, _, kits = personalised
    assert files_holding(root, NAME) == []
    assert files_holding(root, "Quennell") == []
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.args}" for r in records)
    assert "Quennell" not in logged
    assert "personalise" not in logged  # no access log line at all
    count, specs = kits.split(" ", 1)
    assert int(count) > 0 and "Quennell" not in specs
    import sqlite3

    with sqlite3.connect(root / "records" / "handed-out.sqlite3") as conn:  # the copy was recorded, as a copy
        rows = conn.execute("SELECT handout_id, variant, channel FROM handed_out").fetchall()
    assert rows == [("sleep-and-mood", "standard", "personalised")]


def test_no_trace_in_the_temporary_folder(personalised):
    """No file written to the system's temporary folder since the copy was asked for holds the name."""
    import tempfile

    assert files_holding(Path(tempfile.gettempdir()), "Quennell", since=personalised[4]) == []


def test_escaping_in_the_box(library):
    """Markup in a name is shown as text in the HTML (validation refuses it too, belt and braces)."""
    from handoutpress.batch.plan import plan_jobs
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project
    from handoutpress.render.html import Renderer
    from handoutpress.render.variants import VARIANTS

    root, _ = library
    project = Project(root)
    brand = load_brand(root / "brands/default", root)
    handouts, _ = load_library((project.handouts,), root)
    job = plan_jobs(handouts, brand, project)[0][0]
    box = {"heading": "Given to", "date_label": "Date given", "by_label": "Given by", "date": "x", "initials": "AB"}
    html = Renderer(project).html(job.item, VARIANTS[job.variant], brand, job.related_titles, {"given_to": {**box, "name": "<b>Al</b>"}}
    )
    assert "&lt;b&gt;Al&lt;/b&gt;" in html and "<b>Al</b>" not in html


def test_default_build_is_unchanged_by_the_box(library):
    """Without `given_to` the HTML has no box and the PDF is byte-identical to the one the build wrote."""
    from handoutpress.batch.pipeline import make_output
    from handoutpress.batch.plan import plan_jobs
    from handoutpress.files import sha256
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project
    from handoutpress.render.html import Renderer
    from handoutpress.render.variants import VARIANTS

    root, out = library
    project = Project(root)
    brand = load_brand(root / "brands/default", root)
    handouts, _ = load_library((project.handouts,), root)
    job = next(j for j in plan_jobs(handouts, brand, project)[0] if j.variant == "standard")
    html = Renderer(project).html(job.item, VARIANTS[job.variant], brand, job.related_titles)
    assert html == Renderer(project).html(job.item, VARIANTS[job.variant], brand, job.related_titles, None)
    assert "given-to" not in html
    result = make_output(job, brand, project)
    entry = next(o for o in manifest(out)["outputs"] if o["path"] == job.rel_path)
    assert sha256(result.pdf) == entry["sha256"]


def test_changed_text_since_the_build_is_refused(library, tmp_path):
    """If a handout's text changed after the build, the copy is refused (409) rather than differ from the print."""
    root, out = library
    copy = tmp_path / "project"
    shutil.copytree(root, copy, symlinks=True)
    yaml = copy / "handouts/en/sleep-and-mood.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("small steps", "little steps"), encoding="utf-8")
    app = create_app(Library(copy, copy / "out"), today=TODAY_DATE)
    status, _, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form())
    assert (status, body) == (
        409,
        b"en/Sleep-and-Your-Mood.pdf: its text changed since the last build: run `python generate.py build` first\n",
    )


def test_serve_command_errors_are_one_line(tmp_path, capsys):
    """`serve` with no built catalogue, a bad port or a busy port: one line on stderr, no traceback."""
    from handoutpress.frontdesk.serve import bind

    assert main(["--root", str(ROOT), "serve", "--out", str(tmp_path / "empty")]) == 1
    assert capsys.readouterr().err == f"{tmp_path / 'empty'}: no catalogue here: run `python generate.py build` first\n"
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.json").write_text('{"version": 1, "outputs": []}', encoding="utf-8")
    assert main(["--root", str(ROOT), "serve", "--out", str(tmp_path / "out"), "--port", "70000"]) == 2
    assert capsys.readouterr().err == "generate.py: --port must be 0 to 65535, got 70000\n"
    busy = bind(0)
    try:
        port = busy.getsockname()[1]
        assert main(["--root", str(ROOT), "serve", "--out", str(tmp_path / "out"), "--port", str(port)]) == 1
        assert capsys.readouterr().err == f"generate.py: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    finally:
        busy.close()


def test_server_listens_on_loopback_only(library):
    """The socket is bound to 127.0.0.1, and a real request over it works."""
    root, out = library
    with RunningServer(root, out, today=TODAY_DATE) as server:
        assert server.sock.getsockname()[0] == "127.0.0.1"
        status, headers, body = http(server.url)
        assert status == 200 and b"Personalise for a patient" in body
        assert "server" not in {k.lower() for k in headers}


def test_the_trace_search_finds_a_name_typeset_into_a_pdf(personalised, tmp_path):
    """The no-trace checks can fail: a saved copy of the personalised PDF (compressed text) is found."""
    body = personalised[2]
    assert NAME.encode() not in body  # the name is not in the raw bytes, only in the typeset text
    (tmp_path / "saved.pdf").write_bytes(body)
    (tmp_path / "note.txt").write_text(f"for {NAME}", encoding="utf-16")
    assert files_holding(tmp_path, "Quennell") == [tmp_path / "note.txt", tmp_path / "saved.pdf"]


def test_the_trace_search_counts_an_unreadable_pdf_as_holding(tmp_path):
    """A PDF whose text cannot be extracted is reported, never passed over: the no-trace checks cannot pass blind."""
    (tmp_path / "damaged.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 10)
    (tmp_path / "note.txt").write_text("nothing about anyone", encoding="utf-8")
    assert files_holding(tmp_path, "Quennell") == [tmp_path / "damaged.pdf"]


def test_the_web_edition_is_served_with_a_policy_that_lets_it_load_its_own_files(app, library):
    """The card's "Web page" link, the pages, their stylesheet, pictures, PDF copies and editions.json come back
    from out/web/ byte for byte; pages may load their own stylesheet (style-src 'self') and nothing else."""
    _, out = library
    html = asgi(app, "/")[2].decode()
    assert 'href="web/en/sleep-and-mood/index.html"' in html
    for rel, kind in (
        ("web/en/sleep-and-mood/index.html", "text/html; charset=utf-8"),
        ("web/index.html", "text/html; charset=utf-8"),
        ("web/web.css", "text/css; charset=utf-8"),
        ("web/brand/logo.svg", "image/svg+xml"),
        ("web/en/sleep-and-mood/Sleep-and-Your-Mood.pdf", "application/pdf"),
        ("web/editions.json", "application/json"),
    ):
        status, headers, body = asgi(app, "/" + rel)
        assert (status, headers["content-type"], body) == (200, kind, (out / rel).read_bytes()), rel
        policy = headers["content-security-policy"]
        assert "style-src 'self'" in policy and "default-src 'none'" in policy and "script-src" not in policy, rel
        assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    ["/web/.hidden.html", "/web/en/../../../handouts/en/walking.yaml", "/web/en/sleep-and-mood/", "/web", "/web/x.yaml", "/index.css"],
)
def test_the_web_edition_serves_nothing_else(app, library, path):
    """Dot-files, folders, traversal and other suffixes under web/ (or outside it) are 404."""
    _, out = library
    (out / "web" / ".hidden.html").write_text("<p>hidden</p>", encoding="utf-8")
    (out / "web" / "x.yaml").write_text("a: 1\n", encoding="utf-8")
    try:
        assert asgi(app, path)[:3:2] == (404, b"Not found.\n")
    finally:
        (out / "web" / ".hidden.html").unlink()
        (out / "web" / "x.yaml").unlink()


def test_a_personalised_copy_reads_only_its_own_handout(library):
    """Making the copy's job opens its own YAML and no other handout's; related titles come from the manifest."""
    import sys

    root, out = library
    opened: list[str] = []
    watching = []

    def hook(event, args):
        if watching and event == "open" and isinstance(args[0], str | Path) and "/handouts/" in str(args[0]):
            opened.append(Path(args[0]).name)

    sys.addaudithook(hook)  # cannot be removed: it only listens while `watching` holds something
    library_ = Library(root, out)
    library_.entries()  # the manifest, read before listening
    watching.append(True)
    try:
        job = library_.copy_job("en/Sleep-and-Your-Mood-Large-Print.pdf")
    finally:
        watching.clear()
    assert set(opened) == {"sleep-and-mood.yaml"}
    assert (job.item.id, job.variant, job.rel_path) == ("sleep-and-mood", "large-print", "en/Sleep-and-Your-Mood-Large-Print.pdf")
    assert job.item.edition == next(o["edition"] for o in manifest(out)["outputs"] if o["path"] == job.rel_path)


def test_the_time_limit_is_in_force_for_a_personalised_copy(library):
    """A copy typeset in the press's worker stops at --time-limit: a 409 saying so, the printed copy unchanged."""
    from handoutpress.frontdesk.press import DeskPress

    root, out = library
    before = (out / "en" / "Sleep-and-Your-Mood.pdf").read_bytes()
    with DeskPress(root, 1, time_limit=0.001) as press:
        app = create_app(Library(root, out), today=TODAY_DATE, press=press)
        status, _, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form())
        job = Library(root, out).copy_job("en/Sleep-and-Your-Mood.pdf")
        result = press.typeset(job, press.context(Library(root, out).brand(), root / "brands/default"), {})
    assert (status, body) == (409, b"en/Sleep-and-Your-Mood.pdf: could not make the personalised copy; the printed one is unchanged\n")
    assert [p.message for p in result.problems] == ["typesetting took longer than the limit of 0.001 s"]
    assert (out / "en" / "Sleep-and-Your-Mood.pdf").read_bytes() == before


def test_bad_desk_or_records_url_is_one_line_at_start(library, tmp_path, capsys):
    """`serve --desk` with a bad name is a usage error (2); a malformed `--records` URL is one line, exit 1;
    nothing is served and no worker is left behind."""
    import multiprocessing

    root, out = library
    before = {p.pid for p in multiprocessing.active_children()}
    assert main(["--root", str(root), "serve", "--out", str(out), "--port", "0", "--desk", "desk/1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--desk: ") and len(err.splitlines()) == 1
    assert main(["--root", str(root), "serve", "--out", str(out), "--port", "0", "--records", "mysql://x@y/z"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("--records: ") and len(err.splitlines()) == 1 and "Traceback" not in err
    assert {p.pid for p in multiprocessing.active_children()} <= before


def test_the_copy_job_makes_the_printed_pdf_byte_for_byte(library):
    """Without the box, the job a copy is made from (its YAML alone, related titles from the manifest)
    typesets to exactly the PDF the build wrote: the copy says what the printed one says."""
    from handoutpress.batch.pipeline import make_output
    from handoutpress.files import sha256
    from handoutpress.load.project import Project

    root, out = library
    served = Library(root, out)
    job = served.copy_job("en/Walking-for-Your-Health.pdf")
    assert job.related_titles == ("Sleep and Your Mood",)
    result = make_output(job, served.brand(), Project(root))
    assert sha256(result.pdf) == sha256((out / "en" / "Walking-for-Your-Health.pdf").read_bytes())


def test_a_worker_that_dies_costs_one_copy_and_the_press_recovers(library):
    """If the worker typesetting copies is killed, that request gets a one-line 409; the press starts
    new workers and the next copy is made."""
    import os
    import signal

    from handoutpress.frontdesk.press import DeskPress

    root, out = library
    with DeskPress(root, 1) as press:
        app = create_app(Library(root, out), today=TODAY_DATE, press=press)
        os.kill(press.call(os.getpid), signal.SIGKILL)  # the press's one worker, started by this test
        status, _, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form())
        assert (status, body) == (409, b"en/Sleep-and-Your-Mood.pdf: could not make the personalised copy; the printed one is unchanged\n")
        status, headers, body = asgi(app, "/personalise", method="POST", headers=FORM_HEADERS, body=form())
        assert (status, headers["content-type"]) == (200, "application/pdf")
        assert f"Given to: {NAME}" in pdf_text(body, 0)
