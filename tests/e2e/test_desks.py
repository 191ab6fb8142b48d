"""Two front desks, one hand-out record: real `generate.py serve` processes writing at once to one SQLite file
and to one real PostgreSQL database lose no event, and a PostgreSQL server stopped while a desk serves costs
no print and no event.

Bounded: every request has a timeout and each run a deadline; no timing assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

import pytest
from support.frontdesk import built_library, http, manifest, serve_process
from support.postgres import PostgresServer, postgres_for_tests

from handoutpress.cli import main

REQUESTS_PER_DESK = 300
THREADS_PER_DESK = 4
DEADLINE = 180.0


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Path, Path]:
    return built_library(tmp_path_factory, "desks")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    yield from postgres_for_tests()


@contextmanager
def serving(root: Path, desk: str, records: str | None) -> Iterator[str]:
    """A desk's own ``generate.py serve`` process (one worker); yields its address without the last slash."""
    options = ["--desk", desk, "--jobs", "1", *(["--records", records] if records else [])]
    with serve_process(root, *options) as (url, _):
        yield url.rstrip("/")


def pdf_paths(out: Path) -> list[str]:
    return sorted(o["path"] for o in manifest(out)["outputs"] if o["variant"] != "web")


def hand_out_many(origin: str, paths: list[str], count: int, errors: list[str]) -> None:
    """``count`` PDF opens (every third one selected by a code) from several threads; wrong answers go to ``errors``."""
    jobs = list(range(count))
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if not jobs:
                    return
                i = jobs.pop()
            path = paths[i % len(paths)]
            via = "?via=icd10cm:F33.1" if i % 3 == 0 else ""
            status, _, body = http(f"{origin}/{path}{via}")
            if status != 200 or not body.startswith(b"%PDF-"):
                with lock:
                    errors.append(f"{path}: {status}")

    threads = [threading.Thread(target=worker) for _ in range(THREADS_PER_DESK)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE + 30)
    if jobs:
        errors.append(f"{len(jobs)} requests not sent before the deadline")


def report_rows(root: Path, records: str | None, capsys, *by: str) -> list[dict]:
    argv = ["--root", str(root), "report", "--format", "json", "--no-suppress"]
    argv += ["--records", records] if records else []
    for key in by:
        argv += ["--by", key]
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_desks_at_once_lose_no_event(kind, library, tmp_path, capsys, request):
    """Two serve processes, 300 PDF opens each at the same time, one record: the report counts exactly 300 per desk."""
    root, out = library
    if kind == "sqlite":
        records = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    else:
        server = request.getfixturevalue("postgres")
        records = server.new_database()
    paths = pdf_paths(out)
    errors: list[str] = []
    with serving(root, "Desk A", records) as a, serving(root, "Desk B", records) as b:
        threads = [threading.Thread(target=hand_out_many, args=(o, paths, REQUESTS_PER_DESK, errors)) for o in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=DEADLINE + 60)
    assert errors == []
    by_desk = {r["desk"]: r["count"] for r in report_rows(root, records, capsys, "desk")}
    assert by_desk == {"Desk A": REQUESTS_PER_DESK, "Desk B": REQUESTS_PER_DESK}
    by_channel = report_rows(root, records, capsys, "channel")
    assert by_channel == [{"channel": "open", "count": 2 * REQUESTS_PER_DESK}]


def test_postgresql_stopped_while_serving_costs_no_print_and_no_event(library, postgres, capsys):
    """Stop PostgreSQL mid-run: PDFs still open, the desk gets a one-line notice, the events wait in the spool
    and reach the database once it is back; the report then counts every one, once."""
    root, out = library
    records = postgres.new_database()
    path = pdf_paths(out)[0]
    expected = (out / path).read_bytes()
    with serving(root, "Night desk", records) as origin:
        for _ in range(5):
            status, headers, body = http(f"{origin}/{path}")
            assert (status, body) == (200, expected) and "x-desk-notice" not in headers
        postgres.stop()
        try:
            notices = []
            for _ in range(7):
                status, headers, body = http(f"{origin}/{path}")
                assert (status, body) == (200, expected)  # printing never waits on the record
                notices.append(unquote(headers.get("x-desk-notice", "")))
            assert all(n.startswith("records: ") and "\n" not in n for n in notices), notices
            status, _, body = http(f"{origin}/desk-status")
            assert status == 200 and json.loads(body)["pending"] == 7
        finally:
            postgres.start()
        deadline = time.monotonic() + 60
        pending = None
        while time.monotonic() < deadline:  # written back by the retry timer, with no further hand-out
            pending = json.loads(http(f"{origin}/desk-status")[2])["pending"]
            if pending == 0:
                break
            time.sleep(0.5)
        assert pending == 0
    rows = report_rows(root, records, capsys, "desk")
    assert rows == [{"desk": "Night desk", "count": 12}]
