"""A build's checks (`CheckRun`): its summary line and what each manifest entry records of the
checks come from the build's own project root, settings and day; nothing is guessed from where a
handout's file sits, and no day but the build's is used."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from support import ROOT, TODAY_DATE

from handoutpress.checks.run import CheckRun
from handoutpress.load.content import HandoutFile, load_handout

FIXTURES = Path(__file__).parent / "fixtures" / "checks"


@pytest.fixture
def project(tmp_path) -> Path:
    """A project whose handout sits deeper than ``handouts/<language>/`` (one folder per clinic),
    with a target grade of 5, and a decoy settings file two folders above the handout, where
    guessing the project from the handout's path would look."""
    root = tmp_path / "project"
    folder = root / "handouts" / "clinic-a" / "en"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "clear-sleep.yaml", folder / "clear-sleep.yaml")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "handoutpress.yaml").write_text("checks:\n  target_grade: 5\n", encoding="utf-8")
    (root / "handouts" / "handoutpress.yaml").write_text("checks:\n  target_grade: 12\n", encoding="utf-8")
    return root


def handout(root: Path) -> HandoutFile:
    return load_handout(root / "handouts" / "clinic-a" / "en" / "clear-sleep.yaml", root)


def test_reading_fields_of_an_unseen_handout_use_the_runs_root_and_settings(project):
    """A handout the summary did not check is checked with the run's own settings (target grade 5,
    not the decoy's 12), and gets exactly the fields the summary would have recorded for it."""
    item = handout(project)
    assert item.source.resolve().parents[2] == (project / "handouts").resolve()  # where the old guess looked
    unseen = CheckRun(project, TODAY_DATE).reading_fields(item)
    assert unseen["reading_grades"]["target_grade"] == 5
    assert set(unseen["reading_grades"]) == {
        "flesch_kincaid",
        "smog",
        "target_grade",
        "target_formula",
        "target_grade_value",
        "sentences",
        "smog_reliable",
    }
    seen = CheckRun(project, TODAY_DATE)
    assert seen.summary_line([item], []).startswith("checks: 1 handouts, 0 errors, ")
    assert seen.reading_fields(item) == unseen


def test_review_status_is_the_runs_day_and_reading_fields_do_not_move_with_it(project):
    """The manifest's review status is worked out for the build's --today (the handout's next review
    is 2027-06); its reading grades are the same on every day."""
    item = handout(project)
    days = (TODAY_DATE, date(2027, 5, 15), date(2027, 7, 1))
    runs = [CheckRun(project, day) for day in days]
    assert [run.review_status(item) for run in runs] == ["current", "due-soon", "overdue"]
    assert runs[0].reading_fields(item) == runs[1].reading_fields(item) == runs[2].reading_fields(item)


def test_invalid_settings_give_their_line_and_the_default_target(project):
    """With a broken handoutpress.yaml the summary says so in one line, and the reading fields
    are worked out on the default target grade, as `check` would report it once fixed."""
    (project / "handoutpress.yaml").write_text("checks:\n  target_grade: 30\n", encoding="utf-8")
    run = CheckRun(project, TODAY_DATE)
    item = handout(project)
    assert run.summary_line([item], []) == (
        "checks: project/handoutpress.yaml is invalid: handoutpress.yaml:2: checks.target_grade: expected a grade from 1 to 16"
    )
    assert run.reading_fields(item)["reading_grades"]["target_grade"] == 8
