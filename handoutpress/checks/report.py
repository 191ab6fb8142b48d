"""What the checks found, as one report: per handout and for the whole library,
shown as `generate.py check` prints it (a table, or JSON) and as a build records it.

Severity: "error" fails `check` and `build --strict`; "warning" fails only
under ``--strict``; "note" (heuristics, such as passive voice, and caveats,
such as SMOG on fewer than 30 sentences) never fails.
"""

from __future__ import annotations

import json.encoder
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from handoutpress.checks.readability import rules_for
from handoutpress.errors import Problem

_encode_string = json.encoder.encode_basestring  # the C function where there is one


@dataclass
class HandoutReport:
    """What the checks found and measured for one handout."""

    path: str
    id: str
    language: str
    kind: str
    review_status: str
    reading: dict = field(default_factory=dict)  # grades of the whole handout and of each part
    plain_language: dict = field(default_factory=dict)
    glossary_terms: list[str] = field(default_factory=list)
    pemat: dict = field(default_factory=dict)
    findings: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "path": self.path,
            "id": self.id,
            "language": self.language,
            "kind": self.kind,
            "review_status": self.review_status,
            "reading": self.reading,
            "plain_language": self.plain_language,
            "words_to_know": self.glossary_terms,
            "pemat_p_subset": self.pemat,
            "findings": [finding_json(p) for p in self.findings],
        }

    def reading_fields(self, target_grade: int) -> dict:
        """The manifest's reading grades for an output made from this handout."""
        reading = self.reading
        if not reading:
            return {"reading_grades": None}
        return {
            "reading_grades": {
                **reading["grades"],
                "target_grade": target_grade,
                "target_formula": reading["target_formula"],
                "target_grade_value": reading["target_grade_value"],  # for an ease formula, its approximate grade
                **({"band": reading["band"]} if "band" in reading else {}),
                "sentences": reading["sentences"],
                "smog_reliable": reading["smog_reliable"],
            }
        }


@dataclass
class CheckReport:
    """Every handout's report and every finding of one run, the loader's included."""

    today: date
    target_grade: int
    handouts: list[HandoutReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # every finding, loader's included, in order
    # How many handouts were checked afresh; the rest came from the checks cache
    # (`checks.cache`). Not part of the results: a cached report equals a fresh one.
    rechecked: int = field(default=0, compare=False)

    def count(self, severity: str) -> int:
        return sum(1 for p in self.problems if p.severity == severity)

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def warnings(self) -> int:
        return self.count("warning")

    @property
    def notes(self) -> int:
        return self.count("note")

    def summary_line(self) -> str:
        """One line for the end of a build."""
        return (
            f"checks: {len(self.handouts)} handouts, {self.errors} errors, {self.warnings} warnings, {self.notes} notes"
            f" (details: python generate.py check)"
        )

    def as_json(self) -> dict:
        checked = {h.path for h in self.handouts}
        return {
            "today": self.today.isoformat(),
            "target_grade": self.target_grade,
            # Per language: the formula the target grade is compared with.
            "target_formulas": {h.language: h.reading["target_formula"] for h in self.handouts if h.reading},
            "files": len(self.handouts) + len({p.file for p in self.problems if p.file not in checked}),
            "errors": self.errors,
            "warnings": self.warnings,
            "notes": self.notes,
            "handouts": [h.as_json() for h in self.handouts],
            "findings": [finding_json(p) for p in self.problems],
        }


def json_text(report: CheckReport) -> str:
    """``report.as_json()`` as `generate.py check --format json` prints it (`indented_json`)."""
    return indented_json(report.as_json())


def indented_json(value: object) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, character for character, in about
    two thirds of its time: the standard library indents in a generator per level."""
    parts: list[str] = []
    _indented(value, "\n", parts)
    return "".join(parts)


def _scalar(o: object) -> str | None:
    """A JSON scalar as `json.dumps` writes it; None for a list or mapping."""
    if isinstance(o, str):
        return _encode_string(o)
    if o is None:
        return "null"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if isinstance(o, int):
        return int.__repr__(o)
    if isinstance(o, float):
        if o != o:
            return "NaN"
        if o in (math.inf, -math.inf):
            return "Infinity" if o > 0 else "-Infinity"
        return float.__repr__(o)
    if isinstance(o, list | tuple | dict):
        return None
    raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")


def _indented(o: object, indent: str, parts: list[str]) -> None:
    """Append the JSON of ``o`` to ``parts``; ``indent`` is a newline and the current level's spaces."""
    text = _scalar(o)
    if text is not None:
        parts.append(text)
        return
    inner = indent + "  "
    if isinstance(o, dict):
        items = [(_encode_string(k) if type(k) is str else _key(k), v) for k, v in o.items()]
        values = [v for _, v in items]
        opening, closing = "{", "}"
    else:
        assert isinstance(o, list | tuple)
        items, values, opening, closing = [], list(o), "[", "]"
    if not values:
        parts.append(opening + closing)
        return
    for i, value in enumerate(values):
        parts.append((opening if not i else ",") + inner + (items[i][0] + ": " if items else ""))
        # Strings and whole numbers are most values: written here, without a call for each.
        kind = type(value)
        if kind is str:
            parts.append(_encode_string(value))
        elif kind is int:
            parts.append(int.__repr__(value))
        else:
            _indented(value, inner, parts)
    parts.append(indent + closing)


def _key(key: object) -> str:
    """A mapping key that is not a string, as `json.dumps` writes it (in quotes)."""
    if isinstance(key, bool | float | int) or key is None:
        return '"' + (_scalar(key) or "") + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def finding_json(p: Problem) -> dict:
    """A finding as the check's JSON (and the checks cache) writes it."""
    return {"file": p.file, "line": p.line, "field": p.field, "severity": p.severity, "message": p.message}


# ---------------------------------------------------------------------------
# The terminal table


def format_text(report: CheckReport) -> str:
    """The terminal table: per handout its grades, by section, and its plain-language numbers."""
    lines: list[str] = []
    for h in report.handouts:
        lines.append(f"{h.path}  ({h.language}, {h.kind}, review {h.review_status})")
        if h.reading:
            lines += _reading_table(h.reading, h.language, report.target_grade)
        lines += _plain_language_lines(h)
        counts = {s: sum(1 for p in h.findings if p.severity == s) for s in ("error", "warning", "note")}
        lines.append(f"  findings: {counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes")
        lines.append("")
    summary = f"checked {len(report.handouts)} handouts: {report.errors} errors, {report.warnings} warnings"
    if report.notes:
        summary += f", {report.notes} notes"
    lines.append(summary)
    return "\n".join(lines)


def _plain_language_lines(h: HandoutReport) -> list[str]:
    """The plain-language numbers, the words to know and the PEMAT-P items of one handout."""
    lines = []
    pl = h.plain_language
    if pl:
        lines.append(
            f"  plain language: {pl['average_words']} words per sentence on average (longest {pl['longest_words']}), "
            f"{pl['long_sentences']} over 25 words, passive {pl['passive_percent']:g}%, "
            f"{pl['action_sentences']} actions, {len(pl['jargon'])} jargon words"
        )
    if h.glossary_terms:
        lines.append(f"  words to know ({len(h.glossary_terms)}): {', '.join(h.glossary_terms)}")
    if h.pemat:
        u, a = h.pemat["understandability"], h.pemat["actionability"]
        lines.append(
            f"  {h.pemat['label']}: understandability {u['points']}/{u['applicable']} ({_pct(u['percent'])}), "
            f"actionability {a['points']}/{a['applicable']} ({_pct(a['percent'])})"
        )
        failed = [f"{i['number']} {i['text']} ({i['why']})" for i in h.pemat["items"] if i["result"] == "fail"]
        for f in failed:
            lines.append(f"    not met: item {f}")
    return lines


# A column of the reading table: its heading, how to show a row's value, and
# whether a row with too few sentences for the formula is marked unreliable.
_Column = tuple[str, Callable[[dict], float | None], bool]

_LEGEND = {
    "smog": "* SMOG on fewer than 30 sentences is less reliable",
    "szigriszt_pazos": "SzP: Szigriszt-Pazos ease on the INFLESZ scale (higher is easier; 55-65 normal, 65-80 fairly easy); "
    "grade: its approximate US grade",
    "fernandez_huerta": "F-H: Fernández-Huerta ease (higher is easier), for comparison",
}


def _reading_table(reading: dict, language: str, target: int) -> list[str]:
    """The reading rows of one handout: a column per formula of its language, the
    approximate grade beside an ease formula that is the target, and the target named."""
    rules = rules_for(language)
    formulas = rules.formulas if rules else ()
    target_formula = next((f for f in formulas if f.key == reading["target_formula"]), None)
    columns: list[_Column] = []
    for f in formulas:
        columns.append((f.short or f.key, _grade_by(f.key), f.min_sentences > 1))
        if f is target_formula and f.kind == "ease":
            columns.append(("grade", lambda row: row.get("target_grade_value"), False))
    if target_formula is None:
        heading = f"target: grade {target}"
    elif target_formula.kind == "ease":
        heading = f"target: grade {target}, from {target_formula.name} ease as an approximate grade"
    else:
        heading = f"target: grade {target} by {target_formula.name}"
    widths = [5] + [6] * (len(columns) - 1)
    head = " ".join(f"{name:>{w}}" for (name, _, _), w in zip(columns, widths, strict=True))
    lines = [f"  {'reading grade':<44} {head} {'sent.':>6} {'words':>6}   {heading}"]
    rows = [{"part": "whole handout", **reading}, *reading["parts"]]
    lines += [_reading_row(row, columns, widths, target) for row in rows]
    lines += [f"    {_LEGEND[f.key]}" for f in formulas if f.key in _LEGEND]
    return lines


def _grade_by(key: str) -> Callable[[dict], float | None]:
    """A row's score by the formula ``key``."""
    return lambda row: row["grades"].get(key)


def _reading_row(row: dict, columns: list[_Column], widths: list[int], target: int) -> str:
    """One row of the reading table: the part, a cell per column, its size, its band and whether it is above target."""
    label = row["part"] if len(row["part"]) <= 42 else row["part"][:41] + "…"
    cells = []
    for (_, value, markable), w in zip(columns, widths, strict=True):
        mark = "*" if markable and not row["smog_reliable"] else ""
        cells.append(f"{_num(value(row)) + mark:>{w}}")
    grade = row.get("target_grade_value")
    notes = [row["band"]] if "band" in row else []
    if grade is not None and grade > target:
        notes.append("above target")
    return f"    {label:<42} {' '.join(cells)} {row['sentences']:>6} {row['words']:>6}" + (f"  {', '.join(notes)}" if notes else "")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: int | None) -> str:
    return "n/a" if value is None else f"{value}%"
