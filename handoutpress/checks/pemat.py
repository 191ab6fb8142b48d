"""An automatic subset of AHRQ's PEMAT-P (Patient Education Materials Assessment Tool, print).

PEMAT-P has 24 items, 17 on understandability and 7 on actionability, scored
by people. A program can judge only some of them, and only in part. This
module scores those items from the checks' numbers and says plainly that the
result is an automatic subset, not a PEMAT score: a reviewer still has to judge
the rest (purpose, distracting content, order, the visual aids' value).

Each item is agree (1), disagree (0) or not applicable; a percentage is the
points over the applicable items, as in PEMAT itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoutpress.checks.plainlanguage import PASSIVE_SHARE, PlainLanguageStats
from handoutpress.checks.prose import HandoutText
from handoutpress.load.content import Handout

LABEL = "PEMAT-P automatic subset (not a full PEMAT score)"
GENERIC_HEADINGS = {"introduction", "overview", "information", "more information", "other", "details", "background", "misc"}
MAX_SECTION_WORDS = 300


@dataclass(frozen=True)
class PematItem:
    number: int
    group: str  # "understandability" or "actionability"
    text: str
    result: str  # "pass", "fail" or "n/a"
    why: str


def pemat_subset(handout: Handout, text: HandoutText, stats: PlainLanguageStats, grade: float | None, target: int) -> dict:
    """The items a machine can judge, their results and the percentages per group."""
    items: list[PematItem] = []

    def add(number: int, group: str, label: str, ok: bool | None, why: str) -> None:
        items.append(PematItem(number, group, label, "n/a" if ok is None else ("pass" if ok else "fail"), why))

    u, a = "understandability", "actionability"
    add(
        3,
        u,
        "uses common, everyday language",
        grade is not None and grade <= target and not stats.jargon,
        f"reading grade {grade} (target {target}), {len(stats.jargon)} words reported as jargon",
    )
    add(4, u, "medical terms are defined", not stats.jargon and not stats.acronyms_not_spelled_out,
        f"{len(stats.jargon)} undefined long or jargon words, {len(stats.acronyms_not_spelled_out)} acronyms not spelled out")
    na = set(stats.not_applicable)  # rules the language has no word lists for: not judged
    add(5, u, "uses the active voice", None if "passive voice" in na else stats.passive_sentences <= PASSIVE_SHARE * max(1, stats.sentences),
        f"{stats.passive_percent:g}% of sentences passive (heuristic)" if "passive voice" not in na else "no passive-voice rules for this language")
    add(6, u, "numbers are clear (no percentages, fractions or decimals)", stats.numbers_as_percent_or_fraction == 0,
        f"{stats.numbers_as_percent_or_fraction} percentages, fractions or decimals in the prose")
    add(7, u, "does not expect the reader to calculate", stats.calculations == 0, f"{stats.calculations} calculations asked for")
    section_words = [sum(s.words for s in p.sentences) for p in text.parts if p.field.startswith("sections")]
    add(8, u, "breaks information into short sections", bool(section_words) and max(section_words) <= MAX_SECTION_WORDS,
        f"longest section has {max(section_words, default=0)} words of prose (at most {MAX_SECTION_WORDS})")
    headings = [s.heading for s in handout.sections] + [sub.heading for s in handout.sections for sub in s.sections]
    vague = [h for h in headings if h.strip().lower() in GENERIC_HEADINGS or len(h.split()) < 2]
    add(9, u, "section headings are informative", (not vague) if headings else None,
        f"{len(vague)} of {len(headings)} headings are one word or generic" if headings else "no sections")
    add(11, u, "provides a summary", bool(handout.key_takeaways), f"{len(handout.key_takeaways)} key takeaways")
    callouts = sum(1 for s in handout.sections for part in (s, *s.sections) if part.callout)
    add(12, u, "uses visual cues to draw attention to key points", bool(callouts or text.bold_runs or handout.key_takeaways),
        f"{callouts} callouts, {text.bold_runs} bold phrases")
    tables = [part.table for s in handout.sections for part in (s, *s.sections) if part.table]
    add(17, u, "visual aids have clear titles or captions", all(t.caption for t in tables) if tables else None,
        f"{sum(1 for t in tables if t.caption)} of {len(tables)} tables captioned" if tables else "no tables")
    add(19, u, "tables are simple, with short, clear row and column headings",
        all(len(t.columns) <= 4 and len(t.rows) <= 8 and all(len(c.split()) <= 4 for c in t.columns) for t in tables) if tables else None,
        "at most 4 columns, 8 rows and 4-word headings" if tables else "no tables")
    add(20, a, "identifies at least one action the reader can take", None if "actions for the reader" in na else stats.action_sentences > 0,
        f"{stats.action_sentences} sentences or list items tell the reader what to do" if "actions for the reader" not in na
        else "no action rules for this language")
    add(21, a, "addresses the reader directly when describing actions", None if "reader addressed directly" in na else stats.addresses_reader,
        "no word lists for this language" if "reader addressed directly" in na
        else ("the reader is addressed directly" if stats.addresses_reader else "the reader is never addressed directly"))
    add(22, a, "breaks actions into explicit steps", (text.ordered_lists + text.bullet_lists) > 0 if stats.action_sentences else None,
        f"{text.ordered_lists} numbered and {text.bullet_lists} bulleted lists")
    add(24, a, "explains how to do any calculation", None if stats.calculations == 0 else False,
        "no calculations" if stats.calculations == 0 else "calculations are asked for; check the instructions by hand")

    def percent(group: str) -> dict:
        scored = [i for i in items if i.group == group and i.result != "n/a"]
        points = sum(1 for i in scored if i.result == "pass")
        return {
            "points": points,
            "applicable": len(scored),
            "percent": round(100 * points / len(scored)) if scored else None,
        }

    return {
        "label": LABEL,
        "items_judged": len(items),
        "items_in_pemat_p": 24,
        "understandability": percent(u),
        "actionability": percent(a),
        "items": [i.__dict__ for i in items],
    }
