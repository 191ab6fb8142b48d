"""Reading grades: sentences, words, syllables and the formulas, per language.

Everything a formula needs is counted here (syllables in `checks.syllables`),
in plain Python, so the scores are the same on every machine and nothing is
downloaded at run time (textstat 0.7 wants NLTK's CMU dictionary, which it
fetches from the network).

A language is one entry of `LANGUAGES`: how to count its syllables, which
abbreviations do not end a sentence, which formulas to report and which of them
the project's target grade is compared with. Adding a language is that data
plus, where its formulas differ, one function per formula.

Formulas (published coefficients):

* Flesch–Kincaid grade = 0.39 × words/sentences + 11.8 × syllables/words − 15.59
* SMOG grade = 1.0430 × √(polysyllables × 30 / sentences) + 3.1291, where a
  polysyllable has three syllables or more; SMOG was normed on samples of 30
  sentences, so a shorter text gets a grade flagged as less reliable.
* Fernández-Huerta reading ease (Spanish) = 206.84 − 0.60 × syllables per 100
  words − 1.02 × sentences per 100 words; higher is easier, like Flesch's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from handoutpress.checks.syllables import english_syllables, number_syllables, spanish_syllables
from handoutpress.languages import base_language

SMOG_SAMPLE_SENTENCES = 30

# A word: letters or digits, joined by inner apostrophes or hyphens ("don't", "long-term").
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")


# ---------------------------------------------------------------------------
# Counting and the formulas


@dataclass(frozen=True)
class Counts:
    """What every formula is made from."""

    sentences: int = 0
    words: int = 0
    syllables: int = 0
    polysyllables: int = 0  # words of three syllables or more

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.sentences + other.sentences,
            self.words + other.words,
            self.syllables + other.syllables,
            self.polysyllables + other.polysyllables,
        )


def flesch_kincaid_grade(c: Counts) -> float | None:
    if not c.sentences or not c.words:
        return None
    return 0.39 * c.words / c.sentences + 11.8 * c.syllables / c.words - 15.59


def smog_grade(c: Counts) -> float | None:
    if not c.sentences:
        return None
    return 1.0430 * math.sqrt(c.polysyllables * SMOG_SAMPLE_SENTENCES / c.sentences) + 3.1291


def fernandez_huerta_ease(c: Counts) -> float | None:
    # As usually printed, the last term is "sentences per 100 words", which
    # would make shorter sentences *harder*; the coefficient belongs to the mean
    # sentence length, as in Flesch's formula it adapts (Law, 2011).
    if not c.sentences or not c.words:
        return None
    return 206.84 - 0.60 * (100 * c.syllables / c.words) - 1.02 * (c.words / c.sentences)


def szigriszt_pazos_ease(c: Counts) -> float | None:
    """Szigriszt-Pazos perspicuity, read on the INFLESZ scale for Spanish health texts.

    INFLESZ (Barrio-Cantalejo et al., 2008): under 40 very hard, 40-55 somewhat
    hard, 55-65 normal, 65-80 fairly easy, over 80 very easy.
    """
    if not c.sentences or not c.words:
        return None
    return 206.835 - 62.3 * c.syllables / c.words - c.words / c.sentences


# INFLESZ bands for Szigriszt-Pazos scores (Barrio-Cantalejo et al., 2008),
# lowest score first: (score at which the band starts, its name).
_INFLESZ_BANDS = ((-math.inf, "very hard"), (40.0, "somewhat hard"), (55.0, "normal"), (65.0, "fairly easy"), (80.0, "very easy"))


def inflesz_band(score: float) -> str:
    """The INFLESZ name of a Szigriszt-Pazos score: "very hard" (under 40) to "very easy" (80 and over)."""
    name = _INFLESZ_BANDS[0][1]
    for start, band in _INFLESZ_BANDS:
        if score >= start:
            name = band
    return name


# Reading ease (Flesch's scale, which Szigriszt-Pazos and Fernández-Huerta
# follow) to an approximate US school grade, from Flesch's own table:
# 90-100 grade 5, 80-90 grade 6, 70-80 grade 7, 60-70 grades 8-9, 50-60 grades
# 10-12, 30-50 college. Between the points the grade is interpolated.
_EASE_TO_GRADE = ((100.0, 4.0), (90.0, 5.0), (80.0, 6.0), (70.0, 7.0), (60.0, 8.5), (50.0, 11.0), (30.0, 14.0), (0.0, 17.0))


def ease_to_grade(ease: float) -> float:
    """An approximate US grade for a reading-ease score (higher ease, lower grade)."""
    points = _EASE_TO_GRADE
    if ease >= points[0][0]:
        return points[0][1]
    for (hi, g_hi), (lo, g_lo) in zip(points, points[1:], strict=False):
        if ease >= lo:
            return g_lo + (g_hi - g_lo) * (ease - lo) / (hi - lo)
    return points[-1][1]


@dataclass(frozen=True)
class Formula:
    key: str  # the name in JSON and the manifest
    name: str  # the name people read
    kind: str  # "grade" (lower is easier) or "ease" (higher is easier)
    compute: Callable[[Counts], float | None]
    min_sentences: int = 1  # below this the score is flagged as less reliable
    short: str = ""  # a column heading in the check's table
    band: Callable[[float], str] | None = None  # the named band of a score, for scales that have one


FLESCH_KINCAID = Formula("flesch_kincaid", "Flesch–Kincaid", "grade", flesch_kincaid_grade, short="FK")
SMOG = Formula("smog", "SMOG", "grade", smog_grade, SMOG_SAMPLE_SENTENCES, short="SMOG")
FERNANDEZ_HUERTA = Formula("fernandez_huerta", "Fernández-Huerta", "ease", fernandez_huerta_ease, short="F-H")
SZIGRISZT_PAZOS = Formula(
    "szigriszt_pazos", "Szigriszt-Pazos (INFLESZ)", "ease", szigriszt_pazos_ease, short="SzP", band=inflesz_band
)


@dataclass(frozen=True)
class LanguageRules:
    """How to read one language: the only place a language's reading rules live."""

    code: str
    syllables: Callable[[str], int]
    formulas: tuple[Formula, ...]
    target: str  # the formula key the project's target grade is compared with
    # Lower-case tokens ending in "." that do not end a sentence.
    abbreviations: frozenset[str] = field(default_factory=frozenset)
    # Turns the target formula's score into a grade, for "ease" formulas.
    as_grade: Callable[[float], float] = staticmethod(lambda score: score)


_COMMON_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "dr.", "mr.", "mrs.", "ms.", "st.", "no.", "approx.", "fig."})

LANGUAGES: dict[str, LanguageRules] = {
    "en": LanguageRules(
        code="en",
        syllables=english_syllables,
        formulas=(FLESCH_KINCAID, SMOG),
        target="flesch_kincaid",
        abbreviations=_COMMON_ABBREVIATIONS | {"u.s.", "u.k.", "a.m.", "p.m.", "jr.", "sr.", "prof.", "inc."},
    ),
    # Spanish: syllables by the Real Academia's rules (`syllables`); the
    # target is compared on Szigriszt-Pazos, the INFLESZ scale
    # used for Spanish patient materials, turned into an approximate grade.
    "es": LanguageRules(
        code="es",
        syllables=spanish_syllables,
        formulas=(SZIGRISZT_PAZOS, FERNANDEZ_HUERTA),
        target="szigriszt_pazos",
        abbreviations=frozenset(
            {"dr.", "dra.", "sr.", "sra.", "srta.", "ud.", "uds.", "etc.", "ej.", "p.", "aprox.", "núm.", "pág.", "ee.", "uu.", "a.", "m."}
        ),
        as_grade=staticmethod(ease_to_grade),
    ),
}


def rules_for(language: str) -> LanguageRules | None:
    """The reading rules for ``language`` ("en", "en-US"), or None if it has none yet."""
    return LANGUAGES.get(language) or LANGUAGES.get(base_language(language))


class SyllableMemo:
    """The syllable counts of the words one run has met, per language: each word is counted
    once per run, however many handouts, parts and rules use it. Kept by whoever runs the
    checks (one per process), never by this module."""

    def __init__(self) -> None:
        self._rules: dict[str, tuple[LanguageRules, LanguageRules]] = {}  # code -> (rules, memoized)

    def rules(self, rules: LanguageRules) -> LanguageRules:
        """``rules``, counting syllables through this memo (the same counts, once per word)."""
        known = self._rules.get(rules.code)
        if known is not None and known[0] is rules:
            return known[1]
        counts: dict[str, int] = {}
        count = rules.syllables

        def syllables(word: str) -> int:
            n = counts.get(word)
            if n is None:
                n = counts[word] = count(word)
            return n

        memoized = replace(rules, syllables=syllables)
        self._rules[rules.code] = (rules, memoized)
        return memoized


def count_text(sentences: list[str], rules: LanguageRules) -> Counts:
    """Counts for a list of sentences already split."""
    return count_words([WORD_RE.findall(sentence) for sentence in sentences], rules)


def count_words(sentences: list[list[str]], rules: LanguageRules) -> Counts:
    """Counts for sentences already split into words (`words_in`)."""
    words = syllables = poly = 0
    count = rules.syllables
    for tokens in sentences:
        for w in tokens:
            n = number_syllables(w) or count(w)
            syllables += n
            poly += n >= 3
        words += len(tokens)
    return Counts(len(sentences), words, syllables, poly)


def scores(c: Counts, rules: LanguageRules) -> dict[str, float | None]:
    """Every formula of the language on ``c``, rounded to one decimal."""
    out: dict[str, float | None] = {}
    for f in rules.formulas:
        value = f.compute(c)
        out[f.key] = None if value is None else round(value, 1)
    return out


def target_grade_of(score_map: dict[str, float | None], rules: LanguageRules) -> float | None:
    """The grade the project's target is compared with (by the language's target formula)."""
    value = score_map.get(rules.target)
    return None if value is None else round(rules.as_grade(value), 1)


# ---------------------------------------------------------------------------
# Sentences

# A sentence ends at . ! ? (and any closing quote or bracket) before a space and
# a capital, a digit or an opening quote, or at the end of the text.
_END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[¿¡]*[^\W_a-z]|\s*$)")


_INITIALS_RE = re.compile(r"(?:[a-z]\.)+")


def split_sentences(text: str, rules: LanguageRules) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in ``text``.

    A period does not end a sentence after a listed abbreviation ("Dr.",
    "e.g."), after a single letter (an initial), inside a number ("2.5"), or
    after a number that opens the sentence (a list marker such as "1.").
    """
    spans: list[tuple[int, int]] = []
    start = _skip_space(text, 0)
    for m in _END_RE.finditer(text):
        if m.start() < start:
            continue
        before = text[start : m.start()].split()
        last = before[-1] if before else ""
        token = (last + m.group()).lower().rstrip("\"'”’)]")
        if m.group()[0] == ".":
            if token in rules.abbreviations or _INITIALS_RE.fullmatch(token):
                continue
            if last.isdigit() and len(before) == 1:
                continue  # "1." opening a line is a list marker, not a sentence
        end = m.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = _skip_space(text, end)
    if start < len(text) and text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def words_in(sentence: str) -> list[str]:
    return WORD_RE.findall(sentence)
