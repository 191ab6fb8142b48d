"""While the database is away, events wait in the desk's spool and are written
back when it returns: none lost, none doubled, also across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from support import ROOT

from handoutpress.records.spool import Spool


def test_postgresql_stopped_mid_run_loses_and_doubles_nothing(pg_backend) -> None:
    """PostgreSQL stopped while serving: record() says so in one line and spools; restarted, every event is written once."""
    records = pg_backend.open(retry_seconds=3600)  # written back by the next record(), not the timer
    assert records.record([pg_backend.event(channel="open")]) is None
    pg_backend.server.stop()
    try:
        notices = [records.record([pg_backend.event(count=n)]) for n in range(1, 6)]
        assert all(n is not None and "\n" not in n for n in notices)
        assert notices[0].startswith("records: the database could not be written (connection")
        assert notices[-1].endswith(f"5 event(s) wait in {records.spool.path} and will be written when it is back")
        assert records.pending() == 5
    finally:
        pg_backend.server.start()
    assert records.record([pg_backend.event(channel="personalised")]) is None
    assert records.pending() == 0 and not records.spool.path.exists()
    rows = pg_backend.rows()
    assert sorted((r["channel"], r["count"]) for r in rows) == sorted(
        [("open", 1), ("personalised", 1)] + [("print", n) for n in range(1, 6)]
    )
    assert len({r["event_uid"] for r in rows}) == len(rows) == 7


def test_the_retry_timer_writes_the_spool_back_without_another_request(pg_backend) -> None:
    """Spooled events reach the database once it is back even if no desk records anything more."""
    records = pg_backend.open(retry_seconds=0.2)
    pg_backend.server.stop()
    try:
        assert records.record([pg_backend.event()] * 3) is not None
    finally:
        pg_backend.server.start()
    deadline = time.monotonic() + 30
    while records.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert records.pending() == 0
    assert len(pg_backend.rows()) == 3


def test_a_spool_left_by_an_earlier_run_is_written_at_start(backend) -> None:
    """Events a desk spooled before it stopped are written when the desk opens the record again."""
    records = backend.open()
    records.spool.append([backend.event(count=4).as_row("6f1c0f4e-6d0e-4d4e-9d3c-0a9b8c7d6e5f")])
    records.close()  # close writes it back too: put it back as if the desk had crashed
    assert [r["count"] for r in backend.rows()] == [4]
    records.spool.append([backend.event(count=4).as_row("6f1c0f4e-6d0e-4d4e-9d3c-0a9b8c7d6e5f")])
    reopened = backend.open()
    assert reopened.pending() == 0
    assert [r["count"] for r in backend.rows()] == [4]  # the same event, not a second one


def test_writing_the_spool_back_twice_doubles_nothing(backend) -> None:
    """A crash between writing the spool back and emptying it replays it later: the event ids keep each event once."""
    records = backend.open()
    rows = [backend.event(count=n).as_row(f"00000000-0000-4000-8000-00000000000{n}") for n in range(1, 4)]
    records.spool.append(rows)
    saved = records.spool.path.read_bytes()
    assert records.write_back()
    records.spool.path.write_bytes(saved)  # as if the desk had died before emptying it
    assert records.write_back()
    assert sorted(r["count"] for r in backend.rows()) == [1, 2, 3]


def test_a_torn_line_is_kept_aside_and_the_rest_written(backend) -> None:
    """A line that is not an event (a write cut by a crash) goes to the rejected file; the events around it are written."""
    records = backend.open()
    records.spool.append([backend.event(count=2).as_row("00000000-0000-4000-8000-000000000002")])
    with records.spool.path.open("ab") as f:
        f.write(b'{"event_uid": "00000000-0000-4000-8000-0000000000\n')
    records.spool.append([backend.event(count=3).as_row("00000000-0000-4000-8000-000000000003")])
    assert records.pending() == 3
    assert records.write_back()
    assert sorted(r["count"] for r in backend.rows()) == [2, 3]
    assert records.spool.rejected_path.read_bytes() == b'{"event_uid": "00000000-0000-4000-8000-0000000000\n'


APPENDER = """
import sys
from datetime import date
from pathlib import Path
from handoutpress.records import HandOut
from handoutpress.records.spool import Spool

folder, tag, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
spool = Spool(folder, "front desk")
event = HandOut(date(2026, 11, 20), "front desk", "sleep-and-mood", "en", "standard", "2026.06-aaaaaa", "print", None, None)
sys.stdin.readline()  # both start together
for i in range(n):
    spool.append([event.as_row(f"00000000-0000-4000-{tag}-{i:012d}")])
"""


def test_two_processes_of_one_desk_never_interleave_their_spool_lines(tmp_path: Path) -> None:
    """Two desk processes appending to the same spool at once leave whole lines only, every one of them."""
    n = 300
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(tmp_path), tag, str(n)], stdin=subprocess.PIPE, env=env, cwd=ROOT)
        for tag in ("8000", "9000")
    ]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.close()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    spool = Spool(tmp_path, "front desk")
    assert spool.path.name == "spool-front-desk.jsonl"
    lines = spool.path.read_bytes().splitlines()
    uids = [json.loads(line)["event_uid"] for line in lines]
    assert len(uids) == len(set(uids)) == 2 * n
