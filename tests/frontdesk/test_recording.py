"""The desk's hand-out record: one event per document handed out (open, print, print list, personalised),
what selected it, nothing about the patient; a database that cannot be written never stops printing."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from support import TODAY_DATE
from support.frontdesk import RunningServer, asgi, built_library, files_holding, http, manifest

from handoutpress.frontdesk.recording import NOTICE_HEADER, DeskRecords
from handoutpress.frontdesk.serve import Library, create_app
from handoutpress.records import open_records

NAME = "Wilhelmina Okonkwo-Strand"
HOST = {"host": "127.0.0.1:8000"}
FORM = {**HOST, "content-type": "application/x-www-form-urlencoded", "origin": "http://127.0.0.1:8000"}
SLEEP, WALKING = "en/Sleep-and-Your-Mood.pdf", "en/Walking-for-Your-Health.pdf"
COLUMNS = "desk, handout_id, language, variant, edition, channel, selected_system, selected_code, count"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return built_library(tmp_path_factory, "recording")


@pytest.fixture
def recorded(library, tmp_path):
    """An app recording into a fresh SQLite file, and a function giving the events written so far."""
    root, out = library
    db = tmp_path / "handed-out.sqlite3"
    records = open_records(f"sqlite:///{db}", tmp_path, "desk 2")
    app = create_app(Library(root, out), today=TODAY_DATE, records=DeskRecords(records, "desk 2"))

    def events() -> list[tuple]:
        with sqlite3.connect(db) as conn:
            return conn.execute(f"SELECT day, {COLUMNS} FROM handed_out ORDER BY id").fetchall()

    yield app, events, records, db
    records.close()


def edition(out, path: str) -> str:
    return next(o["edition"] for o in manifest(out)["outputs"] if o["path"] == path)


def test_opening_a_pdf_or_web_page_is_one_open_event(recorded, library):
    """A GET of a PDF, of a web page and of a PDF beside the web page each record one "open"; the day is UTC's."""
    _, out = library
    app, events, _, _ = recorded
    assert asgi(app, "/" + SLEEP)[0] == 200
    assert asgi(app, "/web/en/sleep-and-mood/index.html")[0] == 200
    assert asgi(app, "/web/en/walking/Walking-for-Your-Health.pdf")[0] == 200
    today = datetime.now(UTC).date().isoformat()
    assert events() == [
        (today, "desk 2", "sleep-and-mood", "en", "standard", edition(out, SLEEP), "open", None, None, 1),
        (today, "desk 2", "sleep-and-mood", "en", "web", edition(out, SLEEP), "open", None, None, 1),
        (today, "desk 2", "walking", "en", "standard", edition(out, WALKING), "open", None, None, 1),
    ]


def test_what_is_not_a_hand_out_is_not_recorded(recorded, library):
    """Thumbnails, the catalogue, styles, pictures, edition pages, a HEAD and a viewer's range request record nothing."""
    _, out = library
    app, events, _, _ = recorded
    entry = next(o for o in manifest(out)["outputs"] if o["path"] == SLEEP)
    edition_page = next(p for p in (out / "web/en/sleep-and-mood").glob("*/index.html"))
    for path in (
        f"/thumbs/{entry['sha256']}.png",
        "/",
        "/web/web.css",
        "/web/index.html",
        "/web/brand/logo.svg",
        "/" + edition_page.relative_to(out).as_posix(),
    ):
        assert asgi(app, path)[0] == 200, path
    assert asgi(app, "/" + SLEEP, method="HEAD")[0] == 200
    assert asgi(app, "/" + SLEEP, headers={**HOST, "range": "bytes=100-199"})[0] == 206
    assert events() == []


def test_print_print_list_and_personalised_say_how(recorded):
    """The Print button's ``?channel=print``, each document of a print list, and a personalised copy."""
    app, events, _, _ = recorded
    assert asgi(app, f"/{WALKING}?channel=print")[0] == 200
    body = urlencode([("path", SLEEP), ("path", WALKING), ("path", SLEEP)]).encode()
    assert asgi(app, "/print-list", method="POST", headers=FORM, body=body)[0] == 200
    form = urlencode({"path": SLEEP, "name": NAME, "given": TODAY_DATE.isoformat(), "initials": "kl"}).encode()
    assert asgi(app, "/personalise", method="POST", headers=FORM, body=form)[0] == 200
    assert [(e[2], e[6]) for e in events()] == [
        ("walking", "print"),
        ("sleep-and-mood", "print"),
        ("walking", "print"),
        ("sleep-and-mood", "print"),
        ("sleep-and-mood", "personalised"),
    ]


def test_a_code_in_via_says_what_selected_it(recorded):
    """``?via=icd10cm:f331`` is kept as ICD-10-CM F33.1; a malformed or unknown code counts as the catalogue."""
    app, events, _, _ = recorded
    asgi(app, f"/{SLEEP}?via=icd10cm:f331")
    asgi(app, f"/{SLEEP}?via=rxnorm:6130&channel=print")
    body = urlencode([("path", WALKING)]).encode()
    asgi(app, "/print-list?via=loinc:2345-7", method="POST", headers=FORM, body=body)
    for bad in ("icd10cm:F99.999", "icd10cm:", "made-up:123", "loinc:2345-1", "F33"):
        asgi(app, f"/{SLEEP}?via={bad}")
    selected = [(e[6], e[7], e[8]) for e in events()]
    assert selected[:3] == [("open", "icd10cm", "F33.1"), ("print", "rxnorm", "6130"), ("print", "loinc", "2345-7")]
    assert selected[3:] == [("open", None, None)] * 5


def test_nothing_typed_about_the_patient_reaches_the_record(recorded, tmp_path):
    """After personalised copies, no byte of the database, its WAL or the spool holds the name or the initials."""
    app, events, records, _ = recorded
    for variant in (SLEEP, "en/Sleep-and-Your-Mood-Large-Print.pdf"):
        form = urlencode({"path": variant, "name": NAME, "given": TODAY_DATE.isoformat(), "initials": "qz"}).encode()
        assert asgi(app, "/personalise", method="POST", headers=FORM, body=form)[0] == 200
    assert len(events()) == 2
    records.close()  # the WAL is folded back in, the files are at rest
    assert files_holding(tmp_path, "Okonkwo") == []
    assert files_holding(tmp_path, "Wilhelmina") == []
    assert all("QZ" not in str(e) for e in events())


def test_a_locked_database_never_stops_printing_and_the_desk_is_told(recorded, library):
    """While another process holds the SQLite file, the PDF still comes back, with a notice header;
    the catalogue shows a banner and /desk-status the count while events wait; once free, they are
    written, none lost."""
    _, out = library
    app, events, records, db = recorded
    locker = sqlite3.connect(db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        status, headers, body = asgi(app, f"/{SLEEP}?channel=print")
        assert status == 200 and body == (out / SLEEP).read_bytes()
        assert "could not be written" in headers[NOTICE_HEADER]
        assert records.pending() == 1
        page = asgi(app, "/")[2].decode()
        assert 'id="records-banner"' in page and "Printing still works" in page
        assert json.loads(asgi(app, "/desk-status")[2]) == {  # read when staff come back from a PDF's tab
            "pending": 1,
            "notice": "1 hand-out event waits to be recorded: the records database cannot be reached. Printing still works.",
        }
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    status, headers, _ = asgi(app, f"/{WALKING}")
    assert status == 200 and NOTICE_HEADER not in headers
    assert records.pending() == 0
    assert sorted((e[2], e[6]) for e in events()) == [("sleep-and-mood", "print"), ("walking", "open")]
    assert 'id="records-banner"' not in asgi(app, "/")[2].decode()
    assert json.loads(asgi(app, "/desk-status")[2]) == {"pending": 0, "notice": ""}


def test_a_real_server_records_concurrent_hand_outs_without_loss(library, tmp_path):
    """Forty PDF requests from four threads through a real server: forty events."""
    root, out = library
    records = open_records(f"sqlite:///{tmp_path / 'r.sqlite3'}", tmp_path, "front-desk")
    try:
        with RunningServer(root, out, records=records) as server:

            def fetch(path: str) -> None:
                for _ in range(10):
                    assert http(server.url + path)[0] == 200

            threads = [threading.Thread(target=fetch, args=(p,)) for p in (SLEEP, WALKING, SLEEP, WALKING)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
    finally:
        records.close()
    with sqlite3.connect(tmp_path / "r.sqlite3") as conn:
        assert conn.execute("SELECT handout_id, count(*) FROM handed_out GROUP BY 1 ORDER BY 1").fetchall() == [
            ("sleep-and-mood", 20),
            ("walking", 20),
        ]

