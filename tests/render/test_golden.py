"""Golden HTML: the standard handout's HTML for a fixture, diffed as text.

A template or Markdown change shows up here as a readable diff before it shows
up in a PDF. When a change is intended, refresh the golden file with:

    HANDOUTPRESS_REFRESH_GOLDEN=1 python -m pytest tests/test_golden.py

and review the diff of tests/golden/ in the commit.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from support.project import GOOD_HANDOUT, MiniProject

GOLDEN = Path(__file__).parent / "golden"

FIXTURE = GOOD_HANDOUT + """references:
  - {title: "Sleep and mental health", url: "https://www.nimh.nih.gov/health/topics/depression"}
"""


def _render(tmp_path: Path, variant: str) -> str:
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_handout
    from handoutpress.render.html import Project, render_html
    from handoutpress.render.variants import VARIANTS

    mini = MiniProject(tmp_path / "project")
    path = mini.write("handouts/en/sleep-and-your-mood.yaml", FIXTURE)
    project = Project(mini.root)
    item = load_handout(path, mini.root)
    brand = load_brand(mini.root / "brands" / "default", mini.root)
    html = render_html(item, VARIANTS[variant], brand, project, ("Ketamine and Your Other Medications",))
    # File URLs name the temporary folder; the golden file names the project.
    return html.replace(mini.root.resolve().as_uri(), "file://PROJECT")


@pytest.mark.parametrize("variant", ["standard", "faq-sheet"])
def test_rendered_html_matches_golden(tmp_path, variant):
    """The HTML for the fixture handout is exactly the reviewed golden file."""
    html = _render(tmp_path, variant)
    golden = GOLDEN / f"sleep-and-your-mood.{variant}.html"
    if os.environ.get("HANDOUTPRESS_REFRESH_GOLDEN") == "1":
        golden.write_text(html, encoding="utf-8")
    expected = golden.read_text(encoding="utf-8")
    if html != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), html.splitlines(True), "golden", "rendered", n=2))
        pytest.fail(f"rendered HTML differs from {golden.name} (refresh: see this module's docstring):\n{diff[:4000]}")
