"""Checks on content that are not about its shape: what `generate.py check` reports.

The build and `generate.py check` share these, so a handout is judged the same
way wherever it is looked at. For each handout:

* review dates against today (`review_findings`);
* reading grades per handout and per section (`readability`, on prose only,
  see `prose`), compared with the project's target grade (`config`);
* plain-language rules and jargon (`plainlanguage`, with the `glossary`);
* text that must never be a link target (``javascript:``, ``file:``);
* an automatic PEMAT-P subset (`pemat`).

Severity: "error" fails `check` and `build --strict`; "warning" fails only
under ``--strict``; "note" (heuristics, such as passive voice, and caveats,
such as SMOG on fewer than 30 sentences) never fails.

A build keeps each handout's results in a cache file (`checkcache`), so it
re-checks only handouts whose check inputs changed; review status is worked
out afresh every time, since it depends on the day.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from handoutpress.errors import ContentError, Problem
from handoutpress.load.config import ProjectConfig, load_project_config
from handoutpress.load.content import HandoutFile, ReviewDate, load_library

DUE_SOON_DAYS = 60
LONGEST_REVIEW_CYCLE_DAYS = 3 * 365 + 1

CURRENT, DUE_SOON, OVERDUE = "current", "due-soon", "overdue"


def due_date(next_review: ReviewDate) -> date:
    """The last day a review is still on time: the day given, or the month's end."""
    if next_review.day:
        return next_review.first_day
    last = calendar.monthrange(next_review.year, next_review.month)[1]
    return date(next_review.year, next_review.month, last)


def review_status(item: HandoutFile, today: date) -> str:
    due = due_date(item.content.review.next_review)
    if today > due:
        return OVERDUE
    if today >= due - timedelta(days=DUE_SOON_DAYS):
        return DUE_SOON
    return CURRENT


def review_findings(item: HandoutFile, today: date) -> list[Problem]:
    """Review-date problems for one handout, each stating its dates."""
    review = item.content.review
    line = item.line_of("review", "next_review")
    out: list[Problem] = []
    status = review_status(item, today)
    if status == OVERDUE:
        out.append(
            Problem(
                item.path,
                f"review is overdue: next review was due {review.next_review}, today is {today.isoformat()}",
                line=line,
                field="review.next_review",
            )
        )
    elif status == DUE_SOON:
        out.append(
            Problem(
                item.path,
                f"review is due soon: next review {review.next_review} is within {DUE_SOON_DAYS} days of today ({today.isoformat()})",
                line=line,
                field="review.next_review",
                severity="warning",
            )
        )
    if review.reviewed.first_day > today:
        out.append(
            Problem(
                item.path,
                f"reviewed date {review.reviewed} is in the future (today is {today.isoformat()})",
                line=item.line_of("review", "reviewed"),
                field="review.reviewed",
            )
        )
    if (review.next_review.first_day - review.reviewed.first_day).days > LONGEST_REVIEW_CYCLE_DAYS:
        out.append(
            Problem(
                item.path,
                f"next review {review.next_review} is more than 3 years after the review ({review.reviewed})",
                line=line,
                field="review.next_review",
                severity="warning",
            )
        )
    return out


# ---------------------------------------------------------------------------
# The whole report: every check on every handout


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


@dataclass
class CheckReport:
    today: date
    target_grade: int
    handouts: list[HandoutReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # every finding, loader's included, in order
    # How many handouts were checked afresh; the rest came from the checks cache
    # (`checkcache`). Not part of the results: a cached report equals a fresh one.
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
        return {
            "today": self.today.isoformat(),
            "target_grade": self.target_grade,
            # Per language: the formula the target grade is compared with.
            "target_formulas": {h.language: h.reading["target_formula"] for h in self.handouts if h.reading},
            "files": len(self.handouts) + len({p.file for p in self.problems if p.file not in {h.path for h in self.handouts}}),
            "errors": self.errors,
            "warnings": self.warnings,
            "notes": self.notes,
            "handouts": [h.as_json() for h in self.handouts],
            "findings": [finding_json(p) for p in self.problems],
        }


def finding_json(p: Problem) -> dict:
    return {"file": p.file, "line": p.line, "field": p.field, "severity": p.severity, "message": p.message}


def run_checks(paths, root: Path, today: date, config: ProjectConfig | None = None) -> CheckReport:
    """Load every handout under ``paths`` and check each; nothing is written."""
    problems: list[Problem] = []
    if config is None:
        try:
            config = load_project_config(root)
        except ContentError as exc:
            problems.extend(exc.problems)
            config = ProjectConfig()
    handouts, load_problems = load_library(paths, root)
    report = check_handouts(handouts, load_problems, root, today, config)
    report.problems[:0] = problems
    return report


def check_handouts(
    handouts: list[HandoutFile],
    load_problems: list[Problem],
    root: Path,
    today: date,
    config: ProjectConfig,
    cache_file: Path | None = None,
) -> CheckReport:
    """Check handouts already loaded (the build calls this with its own library).

    ``cache_file``: a `checkcache` file (JSON) of earlier results; a handout whose
    check inputs are unchanged is taken from it instead of checked again, and the
    file is updated. The report is the same with or without it.
    """
    from handoutpress.checks.cache import CheckCache

    report = CheckReport(today, config.target_grade, problems=list(load_problems))
    cache = CheckCache.open(cache_file, root, config) if cache_file is not None else None
    glossaries: dict[str, object] = {}
    reported: set[str] = set()  # languages whose glossary problems are in the report
    for item in handouts:
        language = item.language
        if language not in reported:
            reported.add(language)
            known = cache.glossary_problems(language) if cache else None
            if known is None:
                glossaries[language], known = _load_glossary(root, language)
                if cache:
                    cache.remember_glossary(language, known)
            report.problems.extend(known)
        content = cache.lookup(item) if cache else None
        if content is None:
            if language not in glossaries:
                glossaries[language] = _load_glossary(root, language)[0]
            content = content_checks(item, config, glossaries[language])
            report.rechecked += 1
            if cache:
                cache.store(item, content)
        result = with_review(content, item, today)
        report.handouts.append(result)
        report.problems.extend(result.findings)
    if cache:
        cache.save(handouts)
    return report


def _load_glossary(root: Path, language: str):
    """The glossary of ``language`` and the problems loading it (then it is empty)."""
    from handoutpress.load.glossary import Glossary, load_glossary

    try:
        return load_glossary(root, language), []
    except ContentError as exc:
        return Glossary(language, f"glossary/{language}.yaml"), list(exc.problems)


def check_handout(item: HandoutFile, today: date, config: ProjectConfig, glossary) -> HandoutReport:
    """Every check on one loaded handout."""
    return with_review(content_checks(item, config, glossary), item, today)


def with_review(content: HandoutReport, item: HandoutFile, today: date) -> HandoutReport:
    """``content`` (from `content_checks`) with the review status and findings for ``today`` first."""
    return replace(
        content,
        review_status=review_status(item, today),
        findings=review_findings(item, today) + content.findings,
    )


def content_checks(item: HandoutFile, config: ProjectConfig, glossary) -> HandoutReport:
    """The checks that do not depend on the day: links, glossary, reading, plain language, PEMAT.

    What it returns depends only on the handout's file, its glossary, the
    project config and the code and word lists, which is what lets
    `checkcache` keep it; ``review_status`` is left empty for `with_review`.
    """
    from handoutpress.checks.pemat import pemat_subset
    from handoutpress.checks.plainlanguage import plain_language_findings
    from handoutpress.checks.prose import handout_text
    from handoutpress.checks.readability import rules_for
    from handoutpress.load.glossary import handout_strings

    result = HandoutReport(item.path, item.id, item.language, item.content.kind, "")
    result.findings.extend(_link_findings(item))
    result.glossary_terms = [t.term for t in glossary.used_by(handout_strings(item.content))]
    rules = rules_for(item.language)
    if rules is None:
        result.findings.append(
            Problem(
                item.path,
                f"no reading-grade formulas for language {item.language!r} yet (add them to readability.LANGUAGES)",
                severity="warning",
            )
        )
        return result
    text = handout_text(item, rules)
    result.reading = reading_report(item, text, rules, config.target_grade, result.findings)
    findings, stats = plain_language_findings(
        item.path, text, rules, glossary, bool(item.content.key_takeaways), item.line_of("title")
    )
    result.findings.extend(findings)
    result.plain_language = stats.as_json()
    result.pemat = pemat_subset(item.content, text, stats, result.reading.get("target_grade_value"), config.target_grade)
    return result


def reading_report(item: HandoutFile, text, rules, target: int, findings: list[Problem]) -> dict:
    """Grades of the whole handout and of each part; a warning above target, a note for short SMOG."""
    from handoutpress.checks.plainlanguage import quote
    from handoutpress.checks.readability import SMOG_SAMPLE_SENTENCES, count_text, scores, target_grade_of

    whole = count_text([s.text for s in text.sentences], rules)
    whole_scores = scores(whole, rules)
    grade = target_grade_of(whole_scores, rules)
    target_formula = next(f for f in rules.formulas if f.key == rules.target)
    parts = []
    for part in text.parts:
        c = count_text([s.text for s in part.sentences], rules)
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
    out = {
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
        "target_grade_value": grade,
        **_band(target_formula, whole_scores),
        "smog_reliable": whole.sentences >= SMOG_SAMPLE_SENTENCES,
        "parts": parts,
    }
    line = item.line_of("title")
    if not whole.sentences:
        findings.append(Problem(item.path, "no prose to score: reading grades need sentences", line=line, severity="note"))
        return out
    if whole.sentences < SMOG_SAMPLE_SENTENCES and "smog" in whole_scores:
        findings.append(
            Problem(
                item.path,
                f"too short for SMOG: {whole.sentences} sentences of prose, SMOG wants {SMOG_SAMPLE_SENTENCES}; "
                f"its grade ({whole_scores['smog']}) is less reliable",
                line=line,
                severity="note",
            )
        )
    if grade is not None and grade > target:
        worst = sorted((p for p in parts if p["target_grade_value"] is not None), key=lambda p: -p["target_grade_value"])[:2]
        longest = sorted(text.sentences, key=lambda s: -s.words)[:2]
        if target_formula.kind == "ease":
            measured = (
                f"reading grade {grade} (approximate, from {target_formula.name} ease "
                f"{whole_scores[target_formula.key]}) is above the target of {target}"
            )
        else:
            measured = f"reading grade {grade} by {target_formula.name} is above the target of {target}"
        findings.append(
            Problem(
                item.path,
                f"{measured}; "
                f"hardest sections: "
                + ", ".join(f"{quote(p['part'], 60)} (grade {p['target_grade_value']})" for p in worst)
                + "; longest sentences: "
                + ", ".join(f"{quote(s.text, 120)} (line {s.line}, {s.words} words)" for s in longest),
                line=line,
                severity="warning",
            )
        )
    return out


def _band(formula, score_map: dict) -> dict:
    """The named band of the target formula's score ("fairly easy" on INFLESZ), where its scale has bands."""
    value = score_map.get(formula.key)
    if formula.band is None or value is None:
        return {}
    return {"band": formula.band(value)}


_UNSAFE_ADDRESS_RE = re.compile(r"(?<![\w])(javascript|vbscript|file):\S", re.IGNORECASE)


def _link_findings(item: HandoutFile) -> list[Problem]:
    """``javascript:`` and ``file:`` addresses anywhere in the text are errors."""
    from handoutpress.load.glossary import handout_strings

    out = []
    texts = handout_strings(item.content) + [r.url for r in item.content.references]
    for text in texts:
        for m in _UNSAFE_ADDRESS_RE.finditer(text):
            out.append(
                Problem(
                    item.path,
                    f"{m[1].lower()}: address in the text: only https:// addresses may appear in a handout",
                    line=_line_of_text(item, m.group()),
                    severity="error",
                )
            )
    return out


def _line_of_text(item: HandoutFile, needle: str) -> int | None:
    try:
        for n, line in enumerate(item.source.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return n
    except OSError:
        pass
    return None


def format_text(report: CheckReport) -> str:
    """The terminal table: per handout its grades, by section, and its plain-language numbers."""
    lines: list[str] = []
    for h in report.handouts:
        reading = h.reading
        lines.append(f"{h.path}  ({h.language}, {h.kind}, review {h.review_status})")
        if reading:
            lines += _reading_table(reading, h.language, report.target_grade)
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
        counts = {s: sum(1 for p in h.findings if p.severity == s) for s in ("error", "warning", "note")}
        lines.append(f"  findings: {counts['error']} errors, {counts['warning']} warnings, {counts['note']} notes")
        lines.append("")
    summary = f"checked {len(report.handouts)} handouts: {report.errors} errors, {report.warnings} warnings"
    if report.notes:
        summary += f", {report.notes} notes"
    lines.append(summary)
    return "\n".join(lines)


def _reading_table(reading: dict, language: str, target: int) -> list[str]:
    """The reading rows of one handout: a column per formula of its language, the
    approximate grade beside an ease formula that is the target, and the target named."""
    from handoutpress.checks.readability import rules_for

    rules = rules_for(language)
    formulas = rules.formulas if rules else ()
    target_formula = next((f for f in formulas if f.key == reading["target_formula"]), None)
    # (heading, how to show a row's value, marks unreliable?)
    columns: list[tuple[str, object, bool]] = []
    for f in formulas:
        columns.append((f.short or f.key, lambda row, k=f.key: row["grades"].get(k), f.min_sentences > 1))
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
    for row in rows:
        label = row["part"] if len(row["part"]) <= 42 else row["part"][:41] + "…"
        cells = []
        for (_, value, markable), w in zip(columns, widths, strict=True):
            mark = "*" if markable and not row["smog_reliable"] else ""
            cells.append(f"{_num(value(row)) + mark:>{w}}")
        grade = row.get("target_grade_value")
        notes = [row["band"]] if "band" in row else []
        if grade is not None and grade > target:
            notes.append("above target")
        lines.append(
            f"    {label:<42} {' '.join(cells)} {row['sentences']:>6} {row['words']:>6}"
            + (f"  {', '.join(notes)}" if notes else "")
        )
    legend = {
        "smog": "* SMOG on fewer than 30 sentences is less reliable",
        "szigriszt_pazos": "SzP: Szigriszt-Pazos ease on the INFLESZ scale (higher is easier; 55-65 normal, 65-80 fairly easy); "
        "grade: its approximate US grade",
        "fernandez_huerta": "F-H: Fernández-Huerta ease (higher is easier), for comparison",
    }
    lines += [f"    {legend[f.key]}" for f in formulas if f.key in legend]
    return lines


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pct(value: int | None) -> str:
    return "n/a" if value is None else f"{value}%"


# ---------------------------------------------------------------------------
# What the build records


def build_checks_line(
    handouts: list[HandoutFile], load_problems: list[Problem], root: Path, today: date, cache_file: Path | None = None
) -> str:
    """The one-line summary a build prints; the same numbers as `generate.py check`.

    ``cache_file``: the build's checks cache (`checkcache.CACHE_FILE` under
    ``out/``), so only handouts whose check inputs changed are checked again.
    """
    try:
        config = load_project_config(root)
    except ContentError as exc:
        return f"checks: {root.name}/handoutpress.yaml is invalid: {exc.problems[0]}"
    report = check_handouts(handouts, load_problems, root, today, config, cache_file)
    for h in report.handouts:
        _READING_CACHE[(h.path, _sha(handouts, h.path))] = _reading_fields(h, config.target_grade)
    return report.summary_line()


_READING_CACHE: dict[tuple[str, str], dict] = {}


def _sha(handouts: list[HandoutFile], path: str) -> str:
    return next((h.source_sha256 for h in handouts if h.path == path), "")


def _reading_fields(h: HandoutReport, target: int) -> dict:
    reading = h.reading
    if not reading:
        return {"reading_grades": None}
    return {
        "reading_grades": {
            **reading["grades"],
            "target_grade": target,
            "target_formula": reading["target_formula"],
            "target_grade_value": reading["target_grade_value"],  # for an ease formula, its approximate grade
            **({"band": reading["band"]} if "band" in reading else {}),
            "sentences": reading["sentences"],
            "smog_reliable": reading["smog_reliable"],
        }
    }


def reading_fields(item: HandoutFile) -> dict:
    """The manifest's reading grades for an output made from ``item``."""
    key = (item.path, item.source_sha256)
    if key not in _READING_CACHE:
        root = item.source.resolve().parents[2]
        try:
            config = load_project_config(root)
        except ContentError:
            config = ProjectConfig()
        from handoutpress.load.glossary import Glossary

        h = check_handout(item, date.today(), config, Glossary(item.language, ""))
        _READING_CACHE[key] = _reading_fields(h, config.target_grade)
    return _READING_CACHE[key]
