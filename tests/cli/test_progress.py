"""The progress bar: one line, as wide as the terminal, redrawn in place; plain lines when
the output is not a terminal; nothing with ``--quiet``.

The bar is watched under a real pseudo-terminal (the ``pty`` module) set to 80
columns, through a real build of a small project with long file names.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from support import ROOT, TODAY
from support.batch import handout
from support.project import MiniProject

from handoutpress.cli.output import progress_printer

LONG_TITLE = "What To Do When Your Medicines Change After A Long Stay In The Hospital Or A Rehabilitation Clinic"
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
BAR = re.compile(r"^\[[#.]+\] \d+/\d+")


def under_terminal(argv: list[str], columns: int) -> str:
    """Run ``argv`` with stdout and stderr on a pseudo-terminal ``columns`` wide; return all it wrote."""
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=side, stderr=side, cwd=ROOT, env=env)
    os.close(side)
    written = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the other side is closed: the command ended
                    break
                if not chunk:
                    break
                written += chunk
            elif proc.poll() is not None:
                break
    finally:
        os.close(main)
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, written.decode(errors="replace")
    return written.decode()


def rows_drawn(written: str, columns: int) -> list[str]:
    """The rows a terminal ``columns`` wide is left showing: carriage returns go back to the
    start of the row, a character past the last column wraps onto a new row."""
    rows = [""]
    column = 0
    for char in ESCAPE.sub("", written).replace("\r\n", "\n"):
        if char == "\n":
            rows.append("")
            column = 0
        elif char == "\r":
            column = 0
        else:
            if column == columns:  # the terminal wraps: this row is left behind
                rows.append("")
                column = 0
            row = rows[-1]
            rows[-1] = row[:column] + char + row[column + 1 :]
            column += 1
    return rows


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("progress") / "project"
    mini = MiniProject(root)
    mini.write("handouts/en/long-title.yaml", handout(LONG_TITLE, 2))
    mini.write("handouts/en/short.yaml", handout("Short", 2))
    return root


def test_the_bar_stays_on_one_line_of_an_80_column_terminal(project):
    """Under an 80-column terminal no redraw is longer than 80 and the bar leaves exactly one row."""
    out = project / "out"
    argv = [sys.executable, str(ROOT / "generate.py"), "--root", str(project), "build", "--out", str(out)]
    written = under_terminal(argv + ["--today", TODAY, "--jobs", "2"], columns=80)
    redraws = [part for line in ESCAPE.sub("", written).splitlines() for part in line.split("\r") if BAR.match(part)]
    assert redraws, written
    assert max(len(part) for part in redraws) <= 80
    assert any(part.endswith("-Large-Print.pdf") for part in redraws)  # the path's tail is shown
    rows = rows_drawn(written, 80)
    bars = [row for row in rows if BAR.match(row)]
    assert len(bars) == 1, rows
    assert bars[0].startswith("[" + "#" * 10) and " 4/4 " in bars[0]
    assert any(row.startswith("4 built (") for row in rows)  # the summary follows on its own row


def test_the_bar_follows_the_terminal_width(project, tmp_path):
    """A narrower terminal gets a narrower bar, still on one row."""
    out = tmp_path / "out"
    argv = [sys.executable, str(ROOT / "generate.py"), "--root", str(project), "build", "--out", str(out)]
    written = under_terminal(argv + ["--today", TODAY, "--jobs", "2", "--force"], columns=50)
    bars = [row for row in rows_drawn(written, 50) if BAR.match(row)]
    assert len(bars) == 1
    assert len(bars[0].rstrip()) <= 50


def test_plain_lines_when_not_a_terminal(capsys):
    """Off a terminal, each output is one plain line on stdout: its status and its path."""
    progress = progress_printer(quiet=False)
    assert progress is not None
    progress(1, 2, "en/A-Short-Handout.pdf", "built")
    progress(2, 2, "en/A-Short-Handout-Large-Print.pdf", "failed")
    captured = capsys.readouterr()
    assert captured.out == "built en/A-Short-Handout.pdf\nfailed en/A-Short-Handout-Large-Print.pdf\n"
    assert captured.err == ""


def test_quiet_prints_no_progress():
    """``--quiet`` (and ``--json``) ask for no progress at all."""
    assert progress_printer(quiet=True) is None
