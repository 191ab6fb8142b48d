"""The reading report of one handout: its grades, whole and part by part, and what they call for.

The numbers come from `readability` (counts and formulas) on the prose that
`prose` finds; this module puts them together the way the check's JSON, its
table and the manifest read them, and turns them into findings: a warning when
the handout reads above the project's target grade (naming its hardest
sections and longest sentences), a note when it is too short for SMOG, a note
when it has no prose to score at all.
"""

from __future__ import annotations

from handoutpress.checks.prose import HandoutText, Part, quote
from handoutpress.checks.readability import (
    SMOG_SAMPLE_SENTENCES,
    Counts,
    Formula,
    LanguageRules,
    count_words,
    scores,
    target_grade_of,
)
from handoutpress.errors import Problem
from handoutpress.load.content import HandoutFile


def reading_report(item: HandoutFile, text: HandoutText, rules: LanguageRules, target: int) -> tuple[dict, list[Problem]]:
    """Grades of the whole handout and of each part, and the findings they call for."""
    target_formula = next(f for f in rules.formulas if f.key == rules.target)
    # The handout's sentences are its parts' sentences, in order: its counts are their sums.
    counted = [(part, count_words([s.tokens for s in part.sentences], rules)) for part in text.parts]
    whole = sum((c for _, c in counted), Counts())
    report = _whole_report(whole, rules, target_formula, target, _part_reports(counted, rules, target_formula))
    return report, _reading_findings(item, text, whole, report, target_formula, target)


def _part_reports(counted: list[tuple[Part, Counts]], rules: LanguageRules, target_formula: Formula) -> list[dict]:
    """The grades of each part that has prose, in reading order."""
    parts = []
    for part, c in counted:
        if not c.sentences:
            continue
        part_scores = scores(c, rules)
        parts.append(
            {
                "part": part.label,
                "field": part.field,
                "line": part.line,
                "sentences": c.sentences,
                "words": c.words,
                "grades": part_scores,
                "target_grade_value": target_grade_of(part_scores, rules),
                **_band(target_formula, part_scores),
                "smog_reliable": c.sentences >= SMOG_SAMPLE_SENTENCES,
            }
        )
    return parts


def _whole_report(whole: Counts, rules: LanguageRules, target_formula: Formula, target: int, parts: list[dict]) -> dict:
    """The whole handout's counts and grades, the target they are compared with, and its parts."""
    whole_scores = scores(whole, rules)
    return {
        "sentences": whole.sentences,
        "words": whole.words,
        "syllables": whole.syllables,
        "polysyllables": whole.polysyllables,
        "grades": whole_scores,
        "target_formula": rules.target,
        "target_formula_name": target_formula.name,
        # "grade": the formula gives a grade; "ease": a reading ease, turned into
        # an approximate US grade (target_grade_value) to compare with the target.
        "target_formula_kind": target_formula.kind,
        "target_grade": target,
        "target_grade_value": target_grade_of(whole_scores, rules),
        **_band(target_formula, whole_scores),
        "smog_reliable": whole.sentences >= SMOG_SAMPLE_SENTENCES,
        "parts": parts,
    }


def _band(formula: Formula, score_map: dict) -> dict:
    """The named band of the target formula's score ("fairly easy" on INFLESZ), where its scale has bands."""
    value = score_map.get(formula.key)
    if formula.band is None or value is None:
        return {}
    return {"band": formula.band(value)}


def _reading_findings(
    item: HandoutFile, text: HandoutText, whole: Counts, report: dict, target_formula: Formula, target: int
) -> list[Problem]:
    """No prose at all (a note); too short for SMOG (a note); above the target grade (a warning)."""
    line = item.line_of("title")
    if not whole.sentences:
        return [Problem(item.path, "no prose to score: reading grades need sentences", line=line, severity="note")]
    out = []
    grades = report["grades"]
    if whole.sentences < SMOG_SAMPLE_SENTENCES and "smog" in grades:
        out.append(
            Problem(
                item.path,
                f"too short for SMOG: {whole.sentences} sentences of prose, SMOG wants {SMOG_SAMPLE_SENTENCES}; "
                f"its grade ({grades['smog']}) is less reliable",
                line=line,
                severity="note",
            )
        )
    grade = report["target_grade_value"]
    if grade is not None and grade > target:
        out.append(Problem(item.path, _above_target(text, report, target_formula, target), line=line, severity="warning"))
    return out


def _above_target(text: HandoutText, report: dict, target_formula: Formula, target: int) -> str:
    """What reads too hard, and where to start: the two hardest sections and the two longest sentences."""
    grade = report["target_grade_value"]
    worst = sorted((p for p in report["parts"] if p["target_grade_value"] is not None), key=lambda p: -p["target_grade_value"])[:2]
    longest = sorted(text.sentences, key=lambda s: -s.words)[:2]
    if target_formula.kind == "ease":
        measured = (
            f"reading grade {grade} (approximate, from {target_formula.name} ease "
            f"{report['grades'][target_formula.key]}) is above the target of {target}"
        )
    else:
        measured = f"reading grade {grade} by {target_formula.name} is above the target of {target}"
    return (
        f"{measured}; "
        f"hardest sections: "
        + ", ".join(f"{quote(p['part'], 60)} (grade {p['target_grade_value']})" for p in worst)
        + "; longest sentences: "
        + ", ".join(f"{quote(s.text, 120)} (line {s.line}, {s.words} words)" for s in longest)
    )
