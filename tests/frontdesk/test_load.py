"""The desk under load: a real ``generate.py serve`` answers 50 personalised copies and 200 catalogue and PDF
requests sent from 8 threads at once, every one correctly, and records each hand-out.

Bounded (every request has a timeout, the whole run a deadline) and without timing assertions: the median
and worst time per kind are printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import queue
import sqlite3
import statistics
import threading
import time
from datetime import date
from urllib.parse import urlencode

import pytest
from support.frontdesk import built_library, http, manifest, pdf_text, serve_process

THREADS = 8
COPIES = 50
OTHERS = 200  # half catalogue pages, half PDFs
DEADLINE = 240.0  # seconds for the whole run: a hang fails, it never blocks the suite


def patient_name(i: int) -> str:
    """A distinct, valid name per copy, so each answer can be matched to its request."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return f"Loadtest {letters[i // 26].upper()}{letters[i % 26]}ville"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """``generate.py serve --port 0`` on a built mini project, in its own process; stopped with Ctrl-C's signal."""
    root, out = built_library(tmp_path_factory, "load")
    with serve_process(root, "--desk", "load test") as (url, line):
        assert line.startswith("Catalogue of 5 PDFs at http://127.0.0.1:"), line
        yield root, out, url, line


def test_many_requests_at_once_are_all_answered_correctly(running):
    """8 threads, 50 personalised copies and 200 catalogue/PDF requests: names on page 1, PDFs byte for byte."""
    root, out, url, line = running
    assert "hand-outs recorded in " + str(root / "records" / "handed-out.sqlite3") in line
    pdfs = [o["path"] for o in manifest(out)["outputs"] if o["variant"] != "web"]
    expected = {p: (out / p).read_bytes() for p in pdfs}
    work: queue.Queue = queue.Queue()
    for i in range(max(COPIES, OTHERS)):  # interleaved, so every kind runs beside the others
        if i < COPIES:
            work.put(("personalised", i))
        if i < OTHERS:
            work.put(("catalogue" if i % 2 == 0 else "pdf", i))
    times: dict[str, list[float]] = {"personalised": [], "catalogue": [], "pdf": []}
    wrong: list[str] = []
    lock = threading.Lock()
    origin = url.rstrip("/")
    today = date.today().isoformat()

    def one(kind: str, i: int) -> str | None:
        if kind == "catalogue":
            status, _, body = http(url)
            return None if status == 200 and b'id="basket"' in body else f"catalogue {i}: {status}"
        if kind == "pdf":
            path = pdfs[i % len(pdfs)]
            status, _, body = http(url + path)
            return None if status == 200 and body == expected[path] else f"pdf {path}: {status}, {len(body)} bytes"
        name, path = patient_name(i), pdfs[i % len(pdfs)]
        form = urlencode({"path": path, "name": name, "given": today, "initials": "lt"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin}
        status, _, body = http(url + "personalise", method="POST", body=form, headers=headers)
        if status != 200 or not body.startswith(b"%PDF"):
            return f"personalised {i}: {status} {body[:200]!r}"
        first = " ".join(pdf_text(body, 0).split())
        return None if f"Given to: {name}" in first else f"personalised {i}: page 1 lacks its name"

    def worker() -> None:
        while True:
            try:
                kind, i = work.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            try:
                problem = one(kind, i)
            except Exception as exc:  # a refused or timed-out request is a wrong answer, reported with the rest
                problem = f"{kind} {i}: {type(exc).__name__}: {exc}"
            with lock:
                times[kind].append(time.perf_counter() - started)
                if problem:
                    wrong.append(problem)

    began = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, DEADLINE - (time.perf_counter() - began)))
    assert not any(t.is_alive() for t in threads), f"not all answered within {DEADLINE:g} s"
    total = time.perf_counter() - began
    print(f"\n{THREADS} threads, {COPIES} personalised copies and {OTHERS} catalogue/PDF requests in {total:.1f} s")
    for kind, seconds in times.items():
        print(f"  {kind:<13} {len(seconds):>4} requests: median {statistics.median(seconds) * 1000:7.0f} ms, worst {max(seconds) * 1000:7.0f} ms")
    assert wrong == []
    assert {k: len(v) for k, v in times.items()} == {"personalised": COPIES, "catalogue": OTHERS // 2, "pdf": OTHERS // 2}

    with sqlite3.connect(root / "records" / "handed-out.sqlite3") as conn:  # each hand-out recorded once
        counts = dict(conn.execute("SELECT channel, count(*) FROM handed_out WHERE desk = 'load test' GROUP BY 1").fetchall())
    assert counts == {"personalised": COPIES, "open": OTHERS // 2}
