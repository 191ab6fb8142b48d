#!/usr/bin/env python3
"""How soon the live preview reloads a page after a handout is saved.

    .venv/bin/python benchmarks/preview_reload.py [--count 30] [--repeat 5]

Writes the benchmark's synthetic library (`benchmarks/run.py`), builds it once,
then runs ``generate.py watch --preview --port 0`` on it with the page of the
last handout open in Debian's chromium (through Playwright) and an event-stream
reader beside it. Each round saves that handout with one new key point and
measures, from the moment the file is written:

  event   the reload event reaching the reader (the page was rewritten first)
  page    the reloaded page's load event in chromium, showing the new key point
  pdfs    the watch's summary line: its three PDFs rebuilt

Target: the page in 0.2 s or less. Medians and every round are printed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
from benchmarks.run import GENERATE, PYTHON, TODAY, write_library  # noqa: E402


def lines_of(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put((time.perf_counter(), line.rstrip("\n")))


def wait_line(lines: queue.Queue, wanted, timeout: float = 600) -> tuple[float, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            at, line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if wanted(line):
            return at, line
    raise SystemExit("benchmark: the watch went quiet")


def read_events(url: str, events: queue.Queue) -> None:
    port = int(url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("GET", "/__preview/events")
    response = connection.getresponse()
    kind = None
    while True:
        raw = response.fp.readline()
        if not raw:
            return
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind == "reload":
            events.put((time.perf_counter(), json.loads(line[6:])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from support.browser import chromium

    with tempfile.TemporaryDirectory(prefix="preview-bench-") as tmp:
        root = Path(tmp) / "project"
        files = write_library(root, args.count, seed=7)
        out = root / "out"
        subprocess.run([PYTHON, GENERATE, "--root", str(root), "build", "--out", str(out), "--today", TODAY, "--quiet"], check=True)
        command = [PYTHON, GENERATE, "--root", str(root), "watch", "--preview", "--port", "0", "--out", str(out), "--today", TODAY]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        said: queue.Queue = queue.Queue()
        printed: queue.Queue = queue.Queue()
        threading.Thread(target=lines_of, args=(proc.stderr, said), daemon=True).start()
        threading.Thread(target=lines_of, args=(proc.stdout, printed), daemon=True).start()
        rounds = []
        try:
            url = wait_line(said, lambda line: line.startswith("preview of the web edition at "))[1].split(" at ")[1].split(" ")[0]
            wait_line(said, lambda line: line.startswith("watching "))
            events: queue.Queue = queue.Queue()
            threading.Thread(target=read_events, args=(url, events), daemon=True).start()
            target = files[-1]
            address = f"/en/{target.stem}/"
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 390, "height": 900})
                page.goto(url + address.lstrip("/"))
                loads: list[float] = []
                page.on("load", lambda _: loads.append(time.perf_counter()))
                time.sleep(1)
                for i in range(args.repeat):
                    while not printed.empty():
                        printed.get()
                    loads.clear()
                    text = f"Preview edit {i} is here."
                    saved = time.perf_counter()
                    target.write_text(target.read_text().replace("key_takeaways:", f'key_takeaways:\n  - "{text}"', 1))
                    at, pages = events.get(timeout=60)
                    while address not in pages:
                        at, pages = events.get(timeout=60)
                    deadline = time.monotonic() + 30
                    while not loads and time.monotonic() < deadline:
                        page.wait_for_timeout(5)
                    shown = text in page.inner_text("main")
                    done, _ = wait_line(printed, lambda line: " unchanged" in line)
                    rounds.append((at - saved, (loads[0] - saved) if loads else float("nan"), done - saved, shown))
                    print(f"round {i + 1}: event {rounds[-1][0]:.3f} s, page {rounds[-1][1]:.3f} s (new text shown: {shown}), pdfs {rounds[-1][2]:.2f} s")
                    time.sleep(1.0)
                    while not events.empty():
                        events.get()
        finally:
            proc.terminate()
            proc.wait(60)
    med = [statistics.median(r[k] for r in rounds) for k in range(3)]
    print(f"median of {len(rounds)} saves ({args.count} handouts): reload event {med[0]:.3f} s, page reloaded {med[1]:.3f} s "
          f"(target <= 0.2 s), PDFs rebuilt {med[2]:.2f} s")
    return 0 if all(r[3] for r in rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
