"""Two desks writing to the same record at once, each from its own OS process,
lose no event: in one SQLite file and in one PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from support import ROOT

EVENTS_PER_DESK = 300

WRITER = """
import sys
from datetime import date
from pathlib import Path
from handoutpress.records import HandOut, open_records

url, root, desk, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
records = open_records(None if url == "-" else url, root, desk)
print("ready", flush=True)
sys.stdin.readline()  # both desks start together
notices = 0
for i in range(n):
    event = HandOut(date(2026, 11, 20), desk, "sleep-and-mood", "en", "standard", "2026.06-aaaaaa", "print", None, None)
    notices += records.record([event]) is not None
records.close()
print(notices, records.pending(), flush=True)
"""


def run_together(script: str, argvs: list[list[str]]) -> tuple[list[int], list[tuple[str, str]]]:
    """One Python process per argument list running ``script``; each prints "ready" once set up, and all
    are told to go at the same moment. Their exit statuses and (stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for argv in argvs
    ]
    try:
        for p in procs:  # every one is set up before any goes on
            assert p.stdout is not None and p.stdout.readline() == "ready\n"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    return [p.returncode for p in procs], results


def test_two_desk_processes_writing_at_once_lose_nothing(backend) -> None:
    """Two processes each record a few hundred events at the same moment: every one is in the database, once."""
    url = backend.url or "-"
    # Both have opened the record (made the schema) before either writes.
    statuses, results = run_together(
        WRITER, [[url, str(backend.root), desk, str(EVENTS_PER_DESK)] for desk in ("east desk", "west desk")]
    )
    assert statuses == [0, 0], results
    assert [out.split() for out, _ in results] == [["0", "0"], ["0", "0"]]  # no notice, nothing left spooled
    rows = backend.rows()
    assert Counter(r["desk"] for r in rows) == {"east desk": EVENTS_PER_DESK, "west desk": EVENTS_PER_DESK}
    assert len({r["event_uid"] for r in rows}) == 2 * EVENTS_PER_DESK


def test_threads_of_one_desk_recording_at_once_lose_nothing(backend) -> None:
    """serve records from a pool of threads: eight threads recording at once through one Records lose nothing."""
    records = backend.open()
    per_thread = 50

    def desk_thread(n: int) -> list[str | None]:
        return [records.record([backend.event(count=n)]) for _ in range(per_thread)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        notices = [notice for result in pool.map(desk_thread, range(1, 9)) for notice in result]
    assert notices == [None] * (8 * per_thread)
    assert Counter(r["count"] for r in backend.rows()) == {n: per_thread for n in range(1, 9)}


OPENER = """
import sys
from pathlib import Path
from handoutpress.records import open_records
from handoutpress.records.events import RecordsError

print("ready", flush=True)
sys.stdin.readline()  # every desk opens at the same moment
try:
    open_records(None, Path(sys.argv[1]), sys.argv[2]).close()
except RecordsError as exc:
    print(exc.problems[0])
else:
    print("opened")
"""


def test_desks_starting_at_the_same_moment_on_a_new_sqlite_file_all_open_it(tmp_path) -> None:
    """Desks started together on a record that does not exist yet: each opens it (none is told the file is
    locked). SQLite refuses the switch to WAL at once to all but one of them; they ask again."""
    for attempt in range(8):
        root = tmp_path / f"round-{attempt}"
        _, results = run_together(OPENER, [[str(root), f"desk {n}"] for n in range(4)])
        assert [out for out, _ in results] == ["opened\n"] * 4, results
