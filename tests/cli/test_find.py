"""`generate.py find CODE` lists the handouts a code selects, guesses the system, and fails in one line.

Run in-process on the real seed handouts (whose translations inherit their codes)
and on a small project with one exact and one category-coded handout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import ROOT
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.cli.main import main


def test_seed_handouts_are_found_by_a_subcode_in_every_language(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """F33.1 finds both seed handouts in English and Spanish (by their category F33); the guess is printed."""
    assert main(["--root", str(ROOT), "find", "F33.1", "--format", "json", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "find: 'F33.1' looks like an ICD-10-CM code\n"
    found = json.loads(captured.out)
    assert (found["system"], found["code"]) == ("icd10cm", "F33.1")
    assert sorted((m["id"], m["language"]) for m in found["matches"]) == [
        ("ketamine-and-antidepressants", "en"),
        ("ketamine-and-antidepressants", "es"),
        ("ketamine-and-your-other-medications", "en"),
        ("ketamine-and-your-other-medications", "es"),
    ]
    assert all(m["pdfs"] == [] and m["web_page"] is None for m in found["matches"])  # nothing built in tmp_path


def test_exact_match_first_with_its_pdfs_from_the_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An exact code comes before a parent category, and the built PDFs and page are listed."""
    project = MiniProject(tmp_path)
    project.write("handouts/en/sleep.yaml", GOOD_HANDOUT + "codes: {icd10cm: [F33]}\n")
    project.write("handouts/en/mood.yaml", GOOD_HANDOUT.replace("Sleep and Your Mood", "Mood") + "codes: {icd10cm: [F33.1]}\n")
    (tmp_path / "out").mkdir()
    outputs = [
        {"path": "en/Sleep-and-Your-Mood.pdf", "id": "sleep", "language": "en", "variant": "standard"},
        {"path": "web/en/sleep/index.html", "id": "sleep", "language": "en", "variant": "web"},
    ]
    (tmp_path / "out" / "manifest.json").write_text(json.dumps({"version": 1, "outputs": outputs}), encoding="utf-8")
    assert project.run("find", "F33.1", "--system", "icd10cm", "--language", "en") == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # --system given: nothing guessed
    assert captured.out.splitlines() == [
        "mood (en, exact): Mood",
        "    not built; source handouts/en/mood.yaml",
        "sleep (en, parent category (1 up)): Sleep and Your Mood",
        "    en/Sleep-and-Your-Mood.pdf",
        "    web/en/sleep/index.html",
    ]


def test_no_match_is_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid code no handout carries: exit 0 and one line."""
    assert main(["--root", str(ROOT), "find", "2345-7"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "no handout matches LOINC 2345-7\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["F99.999"], "generate.py: find: 'F99.999' is not an ICD-10-CM code"),
        (["8517006"], "generate.py: find: '8517006' could be RxNorm or SNOMED CT; name one with --system rxnorm|snomed"),
        (["35489008", "--system", "snomed"], "generate.py: find: '35489008' is not a SNOMED CT concept id (wrong check digit)"),
        (["hello"], "generate.py: find: 'hello' is not a code of any known system (icd10cm, snomed, rxnorm, loinc)"),
    ],
)
def test_malformed_or_ambiguous_codes_are_one_line_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A code that is no code, or that fits two systems, is a command-line error: one line, exit 2."""
    assert main(["--root", str(ROOT), "find", *argv]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == message
