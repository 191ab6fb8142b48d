"""A small library for the front-desk tests (catalogue, serve, browser).

Two short English handouts in a throwaway copy of the project: one with an FAQ
(so it has three outputs), one without; built with ``--jobs 1`` so a test
module needs only one build of five PDFs.
"""

from __future__ import annotations

import io
import json
import shutil
import textwrap
from pathlib import Path

from handoutpress.cli import main

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2026-11-20"

SLEEP = """
title: Sleep and Your Mood
subtitle: Simple steps for better nights
topics: [Sleep, Mood]
review:
  reviewed: 2025-02
  next_review: 2026-02
  reviewer: Board-certified psychiatrist
  author: Clinical team
key_takeaways:
  - Keep the same wake-up time every day.
sections:
  - heading: Why sleep matters
    body: |
      Good sleep helps your mood. You can take small steps tonight.
faq:
  - question: How long until I feel better?
    answer: Many people notice a change in one or two weeks.
"""

WALKING = """
title: Walking for Your Health
topics: [Exercise]
review:
  reviewed: 2026-09
  next_review: 2027-09
  reviewer: Clinical team
  author: Clinical team
key_takeaways:
  - A short walk most days helps your body and your mind.
sections:
  - heading: Start small
    body: |
      Walk for ten minutes after a meal. Add a few minutes each week.
"""


def make_project(root: Path) -> Path:
    """A copy of the project's templates, styles, labels, brands and assets with two handouts."""
    for folder in ("templates", "styles", "labels", "brands", "assets"):
        shutil.copytree(ROOT / folder, root / folder)
    write(root, "handouts/en/sleep-and-mood.yaml", SLEEP)
    write(root, "handouts/en/walking.yaml", WALKING)
    return root


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def build(root: Path, out: Path, *extra: str) -> int:
    return main(["--root", str(root), "build", "--out", str(out), "--today", TODAY, "--jobs", "1", "--quiet", *extra])


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def pdf_text(data: bytes, page: int | None = None) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    chosen = pages if page is None else [pages[page]]
    return "\n".join(p.extract_text() or "" for p in chosen)


def files_holding(folder: Path, secret: str) -> list[Path]:
    """Every file under ``folder`` whose bytes (UTF-8 or UTF-16) or PDF text hold ``secret``.

    PDF text is compressed and font-encoded, so PDFs are also read as text:
    a raw byte search alone would miss a name typeset into one.
    """
    needles = [secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("utf-16-be")]
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if any(n in data for n in needles):
            found.append(path)
        elif data.startswith(b"%PDF"):
            try:
                text = pdf_text(data)
            except Exception:
                continue
            if secret in text or secret in text.replace("\n", " "):
                found.append(path)
    return found
