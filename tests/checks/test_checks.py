"""Content checks: reading grades, plain language, glossary, PEMAT-P subset, output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import ROOT, TODAY
from support.checks import fixture_project, messages, run_json

from handoutpress.checks.readability import Counts, flesch_kincaid_grade, rules_for, smog_grade, split_sentences
from handoutpress.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "checks"



@pytest.fixture
def project(tmp_path):
    """A small project: the fixture handouts, the real glossary and word lists."""
    return fixture_project(tmp_path, FIXTURES, "en")




def test_sentence_splitting_keeps_abbreviations_decimals_and_list_markers():
    """Dr., e.g., i.e., U.S., decimals and a leading "1." do not end a sentence."""
    rules = rules_for("en")
    text = "1. Ask Dr. Lee, e.g. at your visit, about 2.5 mg. The U.S. Food and Drug Administration agrees, i.e. it is fine! Is it? Yes."
    spans = [text[a:b] for a, b in split_sentences(text, rules)]
    assert spans == [
        "1. Ask Dr. Lee, e.g. at your visit, about 2.5 mg.",
        "The U.S. Food and Drug Administration agrees, i.e. it is fine!",
        "Is it?",
        "Yes.",
    ]


def test_formulas_match_their_published_coefficients():
    """Flesch–Kincaid and SMOG give the published results for known counts."""
    c = Counts(sentences=10, words=100, syllables=150, polysyllables=10)
    assert round(flesch_kincaid_grade(c), 2) == round(0.39 * 10 + 11.8 * 1.5 - 15.59, 2) == 6.01
    assert round(smog_grade(c), 2) == round(1.0430 * (30**0.5) + 3.1291, 2) == 8.84


def test_english_syllables_are_counted_without_any_download():
    """Syllables come from rules in the package, right on common and medical words."""
    count = rules_for("en").syllables
    expected = {"medicine": 3, "depression": 3, "people": 2, "takes": 1, "wanted": 2, "serious": 3, "muscles": 2, "stimulation": 4}
    assert {w: count(w) for w in expected} == expected


def test_clear_handout_has_no_warnings_and_scores_prose_only(project, capsys):
    """A plain handout passes; headings and the title are not scored; SMOG on 8 sentences gets a note."""
    status, report = run_json(project, capsys)
    clear = next(h for h in report["handouts"] if h["id"] == "clear-sleep")
    assert status == 0
    assert clear["reading"]["sentences"] == 8  # 2 takeaways + 6 body sentences; no headings, no title
    assert clear["reading"]["grades"]["flesch_kincaid"] <= 8
    assert [p["part"] for p in clear["reading"]["parts"]] == ["Key takeaways", "Why sleep matters", "When to get help"]
    assert messages(report, "handouts/en/clear-sleep.yaml") == [
        "note: handouts/en/clear-sleep.yaml:1: codes: no codes: an EHR cannot select this handout by diagnosis, medication or lab code (see README, 'Adding a code')",
        "note: handouts/en/clear-sleep.yaml:1: too short for SMOG: 8 sentences of prose, SMOG wants 30; its grade (5.1) is less reliable"
    ]


def test_hard_handout_gets_every_plain_language_finding(project, capsys):
    """Each rule names file, line and field, and quotes what to rewrite."""
    status, report = run_json(project, capsys)
    found = messages(report, "handouts/en/hard-words.yaml")
    f = "handouts/en/hard-words.yaml"
    long_sentence = (
        "Insomnia is defined as persistent difficulty with sleep initiation, duration, consolidation or quality that "
        "occurs despite adequate opportunity for sleep and results in real daytime impairment for the person."
    )
    expected = [
        f"warning: {f}:9: sections[0].body: sentence has 29 words (more than 25); split it: “{long_sentence}”",
        f"warning: {f}:11: sections[0].body: paragraph has 6 sentences (more than 5); split it or make a list: “Sleep was disrupted.”",
        f"warning: {f}:13: sections[0].body: acronym CBTI is not spelled out at its first use: write the words, then (CBTI), or define it in glossary/en.yaml",
        f"warning: {f}:13: sections[0].body: ALL CAPS run “DO NOT EXCEED”: capitals are hard to read; use bold for emphasis",
        f"warning: {f}:1: key_takeaways: no key takeaways: add 3 to 5 short sentences that sum up the handout",
        f'warning: {f}:1: the reader is never addressed as "you"; speak to the reader directly',
        f"warning: {f}:13: sections[0].body: “sedative” is medical jargon: use a plainer word, or define it in glossary/en.yaml",
        f"warning: {f}:9: sections[0].body: “consolidation” is a long word (5 syllables) that is neither in the everyday word list "
        "nor in glossary/en.yaml: use a plainer word, or define it there",
    ]
    for line in expected:
        assert line in found
    assert any(m.startswith(f"warning: {f}:1: reading grade 9.") and "above the target of 8; hardest sections: “Clinical overview”" in m for m in found)
    passive = next(m for m in found if "passive voice" in m)
    assert passive.startswith(f"note: {f}:9: sections[0].body: passive voice in 88.9% of sentences (8 of 9; aim for 10% or less; a heuristic, not blocking)")
    assert status == 0  # warnings and notes alone do not fail


def test_strict_fails_on_warnings_but_not_on_notes(project, capsys):
    """--strict turns warnings into failure; a project with only notes still passes."""
    status, _ = run_json(project, capsys, "--strict")
    assert status == 1
    (project / "handouts" / "en" / "hard-words.yaml").unlink()
    status, report = run_json(project, capsys, "--strict")
    assert (status, report["errors"], report["warnings"], report["notes"]) == (0, 0, 0, 2)  # SMOG's caveat, and no codes


def test_target_grade_is_set_per_project(project, capsys):
    """handoutpress.yaml's checks.target_grade moves the line; a bad value is one located error."""
    (project / "handoutpress.yaml").write_text("checks:\n  target_grade: 10\n")
    _, report = run_json(project, capsys)
    assert report["target_grade"] == 10
    assert not any("above the target" in m for m in messages(report, "handouts/en/hard-words.yaml"))
    (project / "handoutpress.yaml").write_text("checks:\n  target_grade: 30\n")
    assert main(["--root", str(project), "check", "--today", TODAY]) == 1
    assert capsys.readouterr().err.strip() == "handoutpress.yaml:2: checks.target_grade: expected a grade from 1 to 16"


def test_glossary_terms_are_found_and_acronyms_they_define_pass(project, capsys):
    """A glossary term in the text is listed for the Words to know box and is not reported as jargon."""
    path = project / "handouts" / "en" / "clear-sleep.yaml"
    path.write_text(path.read_text().replace("Tell them about every medicine you take.", "Ask if you should taper a sleep medicine, as TMS can also help."))
    _, report = run_json(project, capsys)
    clear = next(h for h in report["handouts"] if h["id"] == "clear-sleep")
    assert clear["words_to_know"] == ["taper", "TMS"]
    assert not [m for m in messages(report, "handouts/en/clear-sleep.yaml") if m.startswith("warning")]


def test_review_dates_and_unsafe_addresses_are_errors(project, capsys):
    """An overdue review and a file: address in a table cell fail check with exit 1."""
    path = project / "handouts" / "en" / "clear-sleep.yaml"
    text = path.read_text().replace("next_review: 2027-06", "next_review: 2026-09")
    text += "    table:\n      columns: [Where]\n      rows: [[\"file:///etc/passwd\"]]\n"
    path.write_text(text)
    status, report = run_json(project, capsys)
    found = messages(report, "handouts/en/clear-sleep.yaml")
    assert status == 1
    assert "error: handouts/en/clear-sleep.yaml:5: review.next_review: review is overdue: next review was due 2026-09, today is 2026-11-20" in found
    assert "error: handouts/en/clear-sleep.yaml:20: file: address in the text: only https:// addresses may appear in a handout" in found


def test_pemat_subset_is_labelled_and_scored(project, capsys):
    """The PEMAT-P subset says it is automatic, and scores points over applicable items."""
    _, report = run_json(project, capsys)
    pemat = next(h for h in report["handouts"] if h["id"] == "clear-sleep")["pemat_p_subset"]
    assert pemat["label"] == "PEMAT-P automatic subset (not a full PEMAT score)"
    assert pemat["understandability"] == {"points": 9, "applicable": 9, "percent": 100}
    assert pemat["actionability"] == {"points": 2, "applicable": 3, "percent": 67}
    assert {i["number"]: i["result"] for i in pemat["items"]}[22] == "fail"


def test_terminal_table_shows_grades_per_section(project, capsys):
    """The text format prints a table row per section with FK and SMOG, and the summary."""
    assert main(["--root", str(project), "check", "--today", TODAY]) == 0
    out = capsys.readouterr().out
    assert "    Clinical overview                            9.3  11.2*      9     76  above target" in out
    assert out.rstrip().endswith("checked 2 handouts: 0 errors, 12 warnings, 5 notes")  # 2 of them: no codes


def test_seed_handouts_read_at_grade_8_or_lower():
    """The real English handouts stay at or under grade 8 by Flesch–Kincaid, with no errors before their review date."""
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        status = main(["--root", str(ROOT), "check", "--today", "2025-11-01", "--format", "json", str(ROOT / "handouts" / "en")])
    report = json.loads(buf.getvalue())
    assert status == 0 and report["errors"] == 0
    for h in report["handouts"]:
        assert h["reading"]["grades"]["flesch_kincaid"] <= 8
        assert h["reading"]["grades"]["smog"] is not None
