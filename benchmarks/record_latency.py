#!/usr/bin/env python3
"""How long the front desk waits for one hand-out event to be recorded.

    .venv/bin/python benchmarks/record_latency.py [--events 1000] [--postgres URL]

Times `Records.record` with one event per call (what a print or an open costs
the desk) in three places: the default SQLite file (WAL, on the disk holding
the temporary folder), a PostgreSQL database (``--postgres URL``, else
``HANDOUTPRESS_TEST_POSTGRES_URL``, else a throwaway cluster made with the
tests' helper), and that PostgreSQL stopped, so every event goes to the spool
(an fsynced append). Prints the median, the 95th percentile and the worst, in
milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support.postgres import URL_VAR, PostgresServer, unavailable_reason  # noqa: E402

from handoutpress.records import HandOut, Records, open_records  # noqa: E402

EVENT = HandOut(date(2026, 11, 20), "front-desk", "sleep-and-mood", "en", "standard", "2026.06-aaaaaa", "print", None, None)


def timed(records: Records, events: int) -> list[float]:
    """Milliseconds of each of ``events`` record() calls of one event."""
    times = []
    for _ in range(events):
        started = time.perf_counter()
        records.record([EVENT])
        times.append((time.perf_counter() - started) * 1000)
    return times


def line(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"{name:<22} n={len(times):<5} median {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms  worst {max(times):7.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--postgres", help="a PostgreSQL URL to use (default: the tests' server, or a throwaway one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        records = open_records(None, Path(folder) / "sqlite", "front-desk")
        timed(records, 20)  # warm up
        print(line("sqlite (WAL)", timed(records, args.events)))
        records.close()
        server = None
        url = args.postgres or os.environ.get(URL_VAR)
        if url is None:
            why = unavailable_reason()
            if why:
                print(f"postgresql: skipped: {why}")
                return 0
            server = PostgresServer.throwaway(fsync=True)  # durable, as a clinic's server is
            url = server.new_database()
        records = open_records(url, Path(folder) / "pg", "front-desk", retry_seconds=3600)
        timed(records, 20)
        print(line("postgresql", timed(records, args.events)))
        if server is not None:
            server.stop()
            print(line("postgresql down: spool", timed(records, args.events)))
            server.start()
            started = time.perf_counter()
            records.write_back()
            print(f"spool written back: {args.events} events in {(time.perf_counter() - started) * 1000:.0f} ms")
            server.destroy()
        records.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
