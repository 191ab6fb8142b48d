"""Golden HTML: the standard handout's HTML for a fixture, diffed as text.

A template or Markdown change shows up here as a readable diff before it shows
up in a PDF. When a change is intended, refresh the golden file with:

    HANDOUTPRESS_REFRESH_GOLDEN=1 ./run.sh test tests/render/test_golden.py

and review the diff of tests/render/golden/ in the commit. A refreshing run
writes the files and reports each one it changed as skipped, with its diff:
it never passes by comparing a file it has just written with itself.
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
    from handoutpress.load.project import Project
    from handoutpress.render.html import Renderer
    from handoutpress.render.variants import VARIANTS

    mini = MiniProject(tmp_path / "project")
    path = mini.write("handouts/en/sleep-and-your-mood.yaml", FIXTURE)
    project = Project(mini.root)
    item = load_handout(path, mini.root)
    brand = load_brand(mini.root / "brands" / "default", mini.root)
    html = Renderer(project).html(item, VARIANTS[variant], brand, ("Ketamine and Your Other Medications",))
    # File URLs name the temporary folder; the golden file names the project.
    return html.replace(mini.root.resolve().as_uri(), "file://PROJECT")


def _diff(expected: str, rendered: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), rendered.splitlines(True), "golden", "rendered", n=2))


@pytest.mark.parametrize("variant", ["standard", "faq-sheet"])
def test_rendered_html_matches_golden(tmp_path, variant):
    """The HTML for the fixture handout is exactly the reviewed golden file."""
    html = _render(tmp_path, variant)
    golden = GOLDEN / f"sleep-and-your-mood.{variant}.html"
    expected = golden.read_text(encoding="utf-8") if golden.is_file() else ""
    if os.environ.get("HANDOUTPRESS_REFRESH_GOLDEN") == "1" and html != expected:
        golden.write_text(html, encoding="utf-8")
        pytest.skip(f"refreshed {golden.name}; review this diff before committing:\n{_diff(expected, html)[:4000]}")
    if html != expected:
        pytest.fail(f"rendered HTML differs from {golden.name} (refresh: see this module's docstring):\n{_diff(expected, html)[:4000]}")
