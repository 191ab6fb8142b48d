"""Plain-language rules a machine can check, each turned into a finding an editor can act on.

The rules and their numbers come from public health-literacy guidance (see the
project's HEALTH_LITERACY notes): sentences of 25 words at most and 20 on
average, paragraphs of 5 sentences at most, no ALL CAPS runs, acronyms spelled
out at first use, key takeaways, at least one action for the reader, the
reader addressed as "you", 90% or more of sentences in the active voice, and
words a reader knows (jargon the glossary does not define is reported).

Word lists that depend on the language live in `WORDS` (verbs, pronouns) and in
``handoutpress/data/<kind>-<language>.txt`` (jargon, everyday long words). A
language without them is still checked for everything that needs no words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import Problem
from .glossary import Glossary
from .prose import HandoutText, Sentence
from .readability import LanguageRules, words_in

LONG_SENTENCE_WORDS = 25
AVERAGE_SENTENCE_WORDS = 20
PARAGRAPH_SENTENCES = 5
PASSIVE_SHARE = 0.10
LONG_WORD_SYLLABLES = 4
DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class LanguageWords:
    """The words the voice, action and "you" rules need for one language."""

    you: frozenset[str]
    action_verbs: frozenset[str]  # sentence openers that tell the reader to do something
    action_phrases: tuple[str, ...]
    be_forms: frozenset[str]
    irregular_participles: frozenset[str]
    adjectives_in_ed: frozenset[str]  # "-ed" words that are usually adjectives, not passives
    emphasis_words: frozenset[str]  # ordinary words that, in capitals, are shouting
    acronyms_everyone_knows: frozenset[str] = field(default_factory=frozenset)


WORDS: dict[str, LanguageWords] = {
    "en": LanguageWords(
        you=frozenset({"you", "your", "yours", "yourself", "you're", "you'll", "you've", "you'd"}),
        action_verbs=frozenset(
            "add ask avoid bring call check choose come drink eat follow get give go have keep let limit make "
            "plan put read remember see share start stay stop take talk tell try update use wait watch write "
            "do don't never always please".split()
        ),
        action_phrases=("you should", "you need to", "be sure to", "make sure", "you can call", "call us", "ask your"),
        be_forms=frozenset({"am", "is", "are", "was", "were", "be", "been", "being", "isn't", "aren't", "wasn't", "weren't"}),
        irregular_participles=frozenset(
            "given taken made done seen known shown written told sent kept left put set found held brought bought "
            "thought taught caught run begun drunk eaten chosen driven forgotten gotten hidden hurt led lost met "
            "paid read said sold spent split spread stuck struck swept thrown understood woken worn".split()
        ),
        adjectives_in_ed=frozenset(
            "tired worried scared confused interested married excited concerned relaxed detailed limited qualified "
            "related used supposed experienced skilled trained talented crowded disconnected agitated worsened "
            "pleased bored stressed depressed".split()
        ),
        emphasis_words=frozenset(
            "not never stop do don't call always only must danger now important warning note no yes urgent".split()
        ),
        acronyms_everyone_knows=frozenset({"OK", "TV", "AM", "PM", "USA", "ID"}),
    ),
}


@lru_cache(maxsize=16)
def word_list(kind: str, language: str) -> frozenset[str]:
    """A maintained word list, ``data/<kind>-<language>.txt`` (empty if there is none)."""
    path = DATA / f"{kind}-{language}.txt"
    if not path.is_file():
        return frozenset()
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            words.add(line)
    return frozenset(words)


def quote(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


# ---------------------------------------------------------------------------
# Voice and actions


def is_passive(sentence: str, words: LanguageWords) -> bool:
    """A form of "to be", an optional adverb or "not", then a past participle."""
    tokens = [w.lower() for w in words_in(sentence)]
    for i, w in enumerate(tokens[:-1]):
        if w not in words.be_forms:
            continue
        j = i + 1
        while j < len(tokens) - 1 and (tokens[j] in ("not", "also", "often", "only", "never", "still") or tokens[j].endswith("ly")):
            j += 1
        nxt = tokens[j]
        if nxt in words.adjectives_in_ed:
            continue
        if nxt in words.irregular_participles or (nxt.endswith("ed") and len(nxt) > 4):
            return True
    return False


def is_action(sentence: str, words: LanguageWords) -> bool:
    """Whether a sentence tells the reader to do something."""
    text = sentence.strip()
    if text.endswith("?"):
        return False
    first = [w.lower() for w in words_in(text)[:2]]
    if first and first[0] in words.action_verbs and (first[0] != "do" or first[1:] == ["not"]):
        return True
    low = text.lower()
    return any(p in low for p in words.action_phrases)


# ---------------------------------------------------------------------------
# The rules


@dataclass
class PlainLanguageStats:
    sentences: int = 0
    words: int = 0
    average_words: float = 0.0
    longest_words: int = 0
    long_sentences: int = 0
    passive_sentences: int = 0
    passive_percent: float = 0.0
    action_sentences: int = 0
    addresses_reader: bool = False
    acronyms_not_spelled_out: list[str] = field(default_factory=list)
    jargon: list[str] = field(default_factory=list)
    all_caps_runs: int = 0
    numbers_as_percent_or_fraction: int = 0
    calculations: int = 0

    def as_json(self) -> dict:
        return dict(self.__dict__)


_ACRONYM_RE = re.compile(r"(?<![\w\-])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)(s?)(?![\w\-])")
_CAPS_RUN_RE = re.compile(r"(?<![\w\-])[A-Z][A-Z'’]+(?:[ \t,]+[A-Z][A-Z'’]+)*(?![\w\-])")
_PERCENT_RE = re.compile(r"\d\s*%|\bper ?cent\b|\b\d+/\d+\b|\b\d+\.\d+\b", re.IGNORECASE)
_CALCULATION_RE = re.compile(r"\b(?:multiply|divide|subtract|calculate|add up)\b|\d\s*[×x*÷]\s*\d", re.IGNORECASE)


def plain_language_findings(
    path: str,
    text: HandoutText,
    rules: LanguageRules,
    glossary: Glossary,
    has_takeaways: bool,
    title_line: int | None,
) -> tuple[list[Problem], PlainLanguageStats]:
    """Every plain-language finding for one handout, and the numbers behind them."""
    words = WORDS.get(rules.code)
    out: list[Problem] = []
    stats = PlainLanguageStats()
    sentences = text.sentences
    counts = [s.words for s in sentences]
    stats.sentences = len(sentences)
    stats.words = sum(counts)
    stats.average_words = round(stats.words / len(sentences), 1) if sentences else 0.0
    stats.longest_words = max(counts, default=0)

    for s in sentences:
        if s.words > LONG_SENTENCE_WORDS:
            stats.long_sentences += 1
            out.append(
                _warn(path, s, f"sentence has {s.words} words (more than {LONG_SENTENCE_WORDS}); split it: {quote(s.text, 400)}")
            )
    if sentences and stats.average_words > AVERAGE_SENTENCE_WORDS:
        out.append(
            Problem(
                path,
                f"sentences average {stats.average_words} words (more than {AVERAGE_SENTENCE_WORDS}); use shorter sentences",
                line=title_line,
                severity="warning",
            )
        )
    for part in text.parts:
        for p in part.paragraphs:
            if len(p.sentences) > PARAGRAPH_SENTENCES:
                out.append(
                    Problem(
                        path,
                        f"paragraph has {len(p.sentences)} sentences (more than {PARAGRAPH_SENTENCES}); "
                        f"split it or make a list: {quote(p.sentences[0].text, 80)}",
                        line=p.line,
                        field=p.field,
                        severity="warning",
                    )
                )

    known_acronyms = _acronym_findings(path, text, glossary, words, out, stats)
    _caps_findings(path, text, known_acronyms, words, out, stats)

    if not has_takeaways:
        out.append(
            Problem(
                path,
                "no key takeaways: add 3 to 5 short sentences that sum up the handout",
                line=title_line,
                field="key_takeaways",
                severity="warning",
            )
        )
    if words:
        stats.addresses_reader = any(w.lower() in words.you for seg in text.segments for w in words_in(seg.text))
        if not stats.addresses_reader:
            out.append(
                Problem(path, 'the reader is never addressed as "you"; speak to the reader directly', line=title_line, severity="warning")
            )
        all_texts = [s.text for s in sentences] + [seg.text for seg in text.segments if seg.kind == "list item"]
        stats.action_sentences = sum(is_action(t, words) for t in all_texts)
        if not stats.action_sentences:
            out.append(
                Problem(
                    path,
                    "no action for the reader: no sentence tells the reader what to do "
                    "(for example, “Call your care team if your mood gets worse.”)",
                    line=title_line,
                    severity="warning",
                )
            )
        passive = [s for s in sentences if is_passive(s.text, words)]
        stats.passive_sentences = len(passive)
        stats.passive_percent = round(100 * len(passive) / len(sentences), 1) if sentences else 0.0
        if sentences and len(passive) / len(sentences) > PASSIVE_SHARE:
            examples = ", ".join(quote(s.text, 70) for s in passive[:3])
            out.append(
                Problem(
                    path,
                    f"passive voice in {stats.passive_percent:g}% of sentences ({len(passive)} of {len(sentences)}; "
                    f"aim for {PASSIVE_SHARE:.0%} or less; a heuristic, not blocking): {examples}",
                    line=passive[0].line,
                    field=passive[0].field,
                    severity="note",
                )
            )
    _jargon_findings(path, text, rules, glossary, out, stats)
    for seg in text.segments:
        if seg.kind in ("prose", "list item", "takeaway"):
            stats.numbers_as_percent_or_fraction += len(_PERCENT_RE.findall(seg.text))
            stats.calculations += len(_CALCULATION_RE.findall(seg.text))
    return out, stats


def _warn(path: str, s: Sentence, message: str) -> Problem:
    return Problem(path, message, line=s.line, field=s.field, severity="warning")


def _acronym_findings(path, text: HandoutText, glossary: Glossary, words, out, stats) -> set[str]:
    everyone = words.acronyms_everyone_knows if words else frozenset()
    seen: set[str] = set()
    emphasis = words.emphasis_words if words else frozenset()
    for seg in text.segments:
        runs = [r.span() for r in _CAPS_RUN_RE.finditer(seg.text) if len(r.group().split()) >= 2]
        for m in _ACRONYM_RE.finditer(seg.text):
            acronym = m.group(1)
            if acronym in seen or acronym in everyone or acronym.isdigit() or acronym.lower() in emphasis:
                continue
            if any(a <= m.start() < b for a, b in runs):
                continue  # shouting, reported as ALL CAPS instead
            seen.add(acronym)
            after = seg.text[m.end() :]
            before = seg.text[: m.start()]
            spelled = bool(re.match(r"\s*\(\s*[^()\s]+(?:\s+[^()\s]+)+\s*\)", after)) or (
                before.rstrip().endswith("(") and len(words_in(before)) >= 2
            )
            if spelled or glossary.covers(acronym + m.group(2)) or glossary.covers(acronym):
                continue
            stats.acronyms_not_spelled_out.append(acronym)
            out.append(
                Problem(
                    path,
                    f"acronym {acronym} is not spelled out at its first use: write the words, then ({acronym}), "
                    f"or define it in {glossary.path}",
                    line=seg.line,
                    field=seg.field,
                    severity="warning",
                )
            )
    return seen


def _caps_findings(path, text: HandoutText, acronyms: set[str], words, out, stats) -> None:
    emphasis = words.emphasis_words if words else frozenset()
    for seg in text.segments:
        for m in _CAPS_RUN_RE.finditer(seg.text):
            run = [w.strip(",") for w in m.group().split() if w.strip(",")]
            shouting = [w for w in run if w not in acronyms or w.lower() in emphasis]
            if (len(run) >= 2 and shouting) or any(w.lower() in emphasis and len(w) > 1 for w in run):
                stats.all_caps_runs += 1
                out.append(
                    Problem(
                        path,
                        f"ALL CAPS run {quote(m.group())}: capitals are hard to read; use bold for emphasis",
                        line=seg.line,
                        field=seg.field,
                        severity="warning",
                    )
                )


def _jargon_findings(path, text: HandoutText, rules: LanguageRules, glossary: Glossary, out, stats) -> None:
    jargon = word_list("jargon", rules.code)
    plain = word_list("plain-words", rules.code)
    seen: set[str] = set()
    for seg in text.segments:
        if seg.kind not in ("prose", "list item", "takeaway"):
            continue
        for w in words_in(_without_expansions(seg.text)):
            low = w.lower()
            if low in seen or not w[:1].isalpha() or w[:1].isupper():
                continue  # capitalised: a name, a brand, or a sentence's first word
            seen.add(low)
            singular = low[:-1] if low.endswith("s") else low
            if glossary.covers(w):
                continue
            if low in jargon or singular in jargon:
                message = f"“{w}” is medical jargon: use a plainer word, or define it in {glossary.path}"
            elif rules.syllables(low) >= LONG_WORD_SYLLABLES and low not in plain and singular not in plain and "-" not in low:
                message = (
                    f"“{w}” is a long word ({rules.syllables(low)} syllables) that is neither in the everyday word list "
                    f"nor in {glossary.path}: use a plainer word, or define it there"
                )
            else:
                continue
            stats.jargon.append(low)
            out.append(Problem(path, message, line=seg.line, field=seg.field, severity="warning"))


def _without_expansions(text: str) -> str:
    """The text with acronym expansions taken out: "TMS (transcranial magnetic
    stimulation)" and "Food and Drug Administration (FDA)" spell a term out,
    so their words are not jargon of their own."""
    text = re.sub(r"(?<![\w\-])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)s?\s*\([^()]*\)", r"\1", text)

    for m in reversed(list(re.finditer(r"\((?:the\s+)?([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)s?\)", text))):
        letters = sum(c.isupper() for c in m.group(1))
        before = text[: m.start()]
        words = list(re.finditer(r"[^\W_]+(?:['’\-][^\W_]+)*", before))
        cut = words[-letters].start() if len(words) >= letters else 0
        text = text[:cut] + m.group(1) + text[m.end() :]
    return text
