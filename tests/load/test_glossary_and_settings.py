"""The glossary and the project settings are validated like handouts: every mistake is one
located line with the same words (unknown keys with a "did you mean", wrong types, duplicates)."""

from __future__ import annotations

from support import SEED_DAY
from support.project import GOOD_HANDOUT

BROKEN_GLOSSARY = """terms:
  - term: taper
    definition: To lower a dose slowly.
  - term: Taper
    definition: Again, with another case.
  - term: sleep
    defintion: Rest at night.
  - term: mood
    definition: How you feel.
    forms: moods
"""


def test_glossary_mistakes_are_located_errors(mini, capsys):
    """A misspelt key, a list given as text and a term defined twice each give one line, and fail check."""
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    mini.write("glossary/en.yaml", BROKEN_GLOSSARY)
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("glossary/")]
    assert err == [
        "glossary/en.yaml:6: terms[2].definition: required field is missing",
        "glossary/en.yaml:7: terms[2].defintion: unknown key 'defintion'; did you mean 'definition'?",
        "glossary/en.yaml:10: terms[3].forms: expected a list, got 'moods'",
    ]
    mini.write("glossary/en.yaml", BROKEN_GLOSSARY.replace("defintion", "definition").replace("forms: moods", "forms: [moods]"))
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("glossary/")]
    assert err == ["glossary/en.yaml:4: terms[1].term: term 'Taper' is already defined at entry 0"]


def test_settings_mistakes_stop_check_with_one_line(mini, capsys):
    """handoutpress.yaml: a misspelt section gets a "did you mean", a grade written in words its expected type."""
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    for text, expected in (
        ("check:\n  target_grade: 6\n", "handoutpress.yaml:1: check: unknown key 'check'; did you mean 'checks'?"),
        ("checks:\n  target_grade: six\n", "handoutpress.yaml:2: checks.target_grade: expected a whole number, got 'six'"),
        ("checks:\n  target_grade: 0\n", "handoutpress.yaml:2: checks.target_grade: expected a grade from 1 to 16"),
    ):
        mini.write("handoutpress.yaml", text)
        assert mini.run("check", "--today", SEED_DAY) == 1
        assert capsys.readouterr().err.strip() == expected
    (mini.root / "handoutpress.yaml").unlink()  # no file: the defaults
    assert mini.run("check", "--today", SEED_DAY) == 0
