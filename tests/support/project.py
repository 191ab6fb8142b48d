"""A small throwaway project: a copy of the real templates, styles, labels,
brands and assets with its own handouts, for tests that write their content."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from handoutpress.cli.main import main
from support import ROOT

PROJECT_FOLDERS = ("templates", "styles", "labels", "brands", "assets")


class MiniProject:
    """A copy of the project's templates, styles, labels, brands and assets with
    an empty ``handouts/en/`` folder (and the glossaries when asked)."""

    def __init__(self, root: Path, *, glossary: bool = False):
        self.root = root
        for folder in PROJECT_FOLDERS + (("glossary",) if glossary else ()):
            shutil.copytree(ROOT / folder, root / folder)
        (root / "handouts" / "en").mkdir(parents=True, exist_ok=True)

    def write(self, relative: str, text: str | bytes) -> Path:
        """Write ``text`` (dedented) to ``relative`` inside the project."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, *argv: str) -> int:
        """``generate.py --root PROJECT ARGV`` in this process."""
        return main(["--root", str(self.root), *argv])


GOOD_HANDOUT = """
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
    table:
      caption: A simple plan
      columns: [Time, What to do]
      rows:
        - ["9 pm", Put screens away]
        - ["10 pm", Lights out]
faq:
  - question: How long until I feel better?
    answer: Many people notice a change in one or two weeks.
"""
