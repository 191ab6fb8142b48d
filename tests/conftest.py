"""Shared fixtures: the real project, a built copy of its library, and small
throwaway projects for bad-input tests.

Building PDFs is the slow part, so the real library is built once per test
session (`built_library`) and inspected by many tests.
"""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from handoutpress.cli import main

ROOT = Path(__file__).resolve().parent.parent
# A fixed "today" keeps review statuses stable whatever day the tests run.
TODAY = "2025-06-01"


@dataclass
class Built:
    out: Path
    status: int
    manifest: dict


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_library(tmp_path_factory) -> Built:
    """Every handout of the real project, built once with the default brand."""
    import json

    out = tmp_path_factory.mktemp("out")
    status = main(["--root", str(ROOT), "build", "--out", str(out), "--today", TODAY, "--quiet"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return Built(out, status, manifest)


class MiniProject:
    """A copy of the project's templates, styles, labels, brands and assets with
    an empty handouts/ folder, for tests that write their own content."""

    def __init__(self, root: Path):
        self.root = root
        for folder in ("templates", "styles", "labels", "brands", "assets"):
            shutil.copytree(ROOT / folder, root / folder)
        (root / "handouts" / "en").mkdir(parents=True)

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def run(self, *argv: str) -> int:
        return main(["--root", str(self.root), *argv])


@pytest.fixture
def mini(tmp_path) -> MiniProject:
    return MiniProject(tmp_path / "project")


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


@pytest.fixture
def good_handout() -> str:
    return GOOD_HANDOUT
