"""The edit loop: after a save, the standard PDF is written and reported first, then
large print and the FAQ sheet, in `watch` and in a fresh `build` of the edited file.

One small project (a handout with FAQs: three outputs) is built once per module;
each test edits a copy of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support import TODAY
from support.batch import run, start_watch
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.batch.run import edit_loop_order

# A handout whose standard PDF runs to a few pages while its FAQ sheet is one short
# page: given a worker each, the FAQ sheet would be done first.
MORE_SECTIONS = "".join(
    f"""  - heading: Step {n} for better nights
    body: |
      {"Keep your room dark and cool at night. Put your phone in another room before bed. " * 12}
"""
    for n in range(1, 7)
)
LONG_HANDOUT = GOOD_HANDOUT.replace("faq:\n", MORE_SECTIONS + "faq:\n", 1)
STANDARD = "en/Sleep-and-Your-Mood.pdf"
OTHERS = {"en/Sleep-and-Your-Mood-Large-Print.pdf", "en/Sleep-and-Your-Mood-FAQ.pdf"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The project built once; returns its root."""
    root = tmp_path_factory.mktemp("edit-loop") / "project"
    MiniProject(root).write("handouts/en/sleep.yaml", LONG_HANDOUT)
    done = run(root, "build", "--out", str(root / "out"), "--today", TODAY, "--quiet", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return root


def edited_copy(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "project"
    shutil.copytree(built, root)
    return root, root / "handouts/en/sleep.yaml"


def edit(source: Path) -> None:
    source.write_text(source.read_text().replace("Good sleep helps your mood.", "Good sleep helps your mood a lot."))


def built_lines(stdout: str) -> list[str]:
    return [line.removeprefix("built ") for line in stdout.splitlines() if line.startswith("built ")]


def assert_standard_first(lines: list[str], out: Path) -> None:
    assert lines[0] == STANDARD
    assert set(lines[1:]) == OTHERS
    standard = (out / STANDARD).stat().st_mtime_ns
    assert all(standard <= (out / other).stat().st_mtime_ns for other in OTHERS)


def test_a_build_of_one_edited_handout_reports_its_standard_pdf_first(built, tmp_path):
    """A fresh `build` of the edited file writes and reports its standard PDF before the other two,
    even with a worker for each output (the short FAQ sheet would finish first)."""
    root, source = edited_copy(built, tmp_path)
    edit(source)
    done = run(root, "build", str(source), "--out", str(root / "out"), "--today", TODAY, "--jobs", "3")
    assert done.returncode == 0, done.stderr
    assert_standard_first(built_lines(done.stdout), root / "out")


def test_watch_writes_and_reports_the_standard_pdf_first(built, tmp_path):
    """In `watch`, the edited handout's standard PDF line comes first, and its file is written first."""
    root, source = edited_copy(built, tmp_path)
    proc = start_watch(root, root / "out", "--today", TODAY, "--jobs", "2")
    try:
        edit(source)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, stderr
    assert "changed: handouts/en/sleep.yaml" in stderr
    assert_standard_first(built_lines(stdout), root / "out")


def test_jobs_are_handed_out_standard_first_and_longest_first_within(built, tmp_path):
    """The batch's order: every standard PDF before any other output, the longest first within each group."""
    from handoutpress.batch.plan import plan_jobs
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project

    root, _ = edited_copy(built, tmp_path)
    project = Project(root)
    (root / "handouts/en/short.yaml").write_text(GOOD_HANDOUT.replace("Sleep and Your Mood", "Short One").lstrip())
    handouts, problems = load_library((project.handouts,), root)
    assert not problems
    jobs, _ = plan_jobs(handouts, load_brand(root / "brands/default", root), project)
    ordered = edit_loop_order(list(reversed(jobs)))
    variants = [job.variant for job in ordered]
    assert variants[:2] == ["standard", "standard"]
    assert "standard" not in variants[2:]
    assert len(ordered) == len(jobs) == 6

    def cost(job) -> int:  # large print runs to about twice the pages
        return job.item.source.stat().st_size * (2 if job.variant == "large-print" else 1)

    for group in (ordered[:2], ordered[2:]):
        assert [cost(job) for job in group] == sorted((cost(job) for job in group), reverse=True)
