"""A small project for the batch tests: two short handouts without FAQs (two
outputs each: standard and large print), one of them longer than the other so
a page limit can fail one and pass the other."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from support import ROOT
from support.project import MiniProject


def handout(title: str, paragraphs: int) -> str:
    body = "\n\n".join(
        f"      Take your pill with a full glass of water each morning, step {i}. Write it in your notes so you remember."
        for i in range(paragraphs)
    )
    return f"""title: {title}
kind: handout
topics: [Medicines]
review:
  reviewed: 2026-06
  next_review: 2027-06
  reviewer: Clinical team
key_takeaways:
  - Take your pill each morning.
sections:
  - heading: What to do
    body: |
{body}
"""


def make_project(root: Path) -> Path:
    project = MiniProject(root)
    project.write("handouts/en/short-one.yaml", handout("A Short Handout", 2))
    project.write("handouts/en/long-one.yaml", handout("A Longer Handout", 60))
    return root


def run(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`generate.py` in a fresh process (as a user runs it)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "generate.py"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def pdf_digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*.pdf")) if p.relative_to(out).parts[0] != "web"}


def start_watch(root: Path, out: Path, *extra: str) -> subprocess.Popen:
    """`generate.py watch --once` in a fresh process, returned once it says it is watching
    (and a moment later, as a person would save after seeing it)."""
    import time

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "generate.py"), "--root", str(root), "watch", "--out", str(out), *extra, "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stderr is not None
    while "watching" not in (line := proc.stderr.readline()):
        if not line:
            proc.kill()
            raise AssertionError("watch ended before watching")
    time.sleep(0.3)
    return proc
