"""Plain-language rules a machine can check, each turned into a finding an editor can act on.

The rules and their numbers come from public health-literacy guidance (see the
project's HEALTH_LITERACY notes): sentences of 25 words at most and 20 on
average, paragraphs of 5 sentences at most, no ALL CAPS runs, acronyms spelled
out at first use, key takeaways, at least one action for the reader, the
reader addressed as "you", 90% or more of sentences in the active voice, and
words a reader knows (jargon the glossary does not define is reported).

Word lists that depend on the language live in `WORDS` (verbs, pronouns) and in
``handoutpress/data/<kind>-<language>.txt`` (jargon, everyday long words). A
language without them is still checked for everything that needs no words, and
gets one note saying which rules did not apply to it.

Spanish (``es``) has its own words: the reader is addressed as *usted*; an
action is a command in the *usted* form ("Llame", "No deje", "Cuéntele"),
at the start of a sentence or of its main clause ("Si ..., llame"); the passive
is *ser* + participle ("fue aprobado"), while the reflexive passive ("se da")
is ordinary Spanish and not counted; Spanish words are longer, so a word is
"long" from 5 syllables; "EE. UU." is an abbreviation, not two acronyms; and an
acronym given "por sus siglas en inglés" inside its Spanish expansion counts as
spelled out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from handoutpress.checks.prose import HandoutText, Sentence, quote
from handoutpress.checks.readability import LanguageRules, words_in
from handoutpress.errors import Problem
from handoutpress.languages import base_language
from handoutpress.load.glossary import Glossary

LONG_SENTENCE_WORDS = 25
AVERAGE_SENTENCE_WORDS = 20
PARAGRAPH_SENTENCES = 5
PASSIVE_SHARE = 0.10
LONG_WORD_SYLLABLES = 4  # English; each language sets its own in `WORDS`
DATA = Path(__file__).resolve().parents[1] / "data"


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
    you_word: str = "you"  # how messages name the way the reader is addressed
    action_example: str = "“Call your care team if your mood gets worse.”"
    long_word_syllables: int = LONG_WORD_SYLLABLES
    # Words allowed between "to be" and the participle ("is not given", "is often used").
    passive_adverbs: frozenset[str] = frozenset({"not", "also", "often", "only", "never", "still"})
    adverb_ending: str = "ly"
    participle_endings: tuple[str, ...] = ("ed",)
    # Spanish-style commands: the first word of a sentence, or of its main clause
    # after an opening such as "Si ...,", is a command, possibly with pronouns
    # attached ("Cuéntele"), possibly after "No" ("No deje"). Empty for English,
    # whose rule is `action_verbs` on the sentence's first word.
    negations: frozenset[str] = frozenset()
    clause_openers: frozenset[str] = frozenset()
    enclitics: tuple[str, ...] = ()
    informal_you: frozenset[str] = frozenset()  # "tú" forms in a language whose handouts use a formal "you"
    plural_abbreviations: bool = False  # "EE. UU.": doubled capitals and a period are an abbreviation
    acronym_explained_after: re.Pattern | None = None  # "TMS por sus siglas en inglés"
    expansion_small_words: frozenset[str] = frozenset()  # "de", "del", "and": not counted against an acronym's letters


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
        expansion_small_words=frozenset({"and", "of", "the", "for"}),
    ),
    "es": LanguageWords(
        you=frozenset({"usted", "ustedes"}),
        # Commands in the usted form, written without accents ("cuente" for
        # "cuente"/"cuénte-le"); pronouns attached at the end are taken off first.
        action_verbs=frozenset(
            "acuda agende anote apague aplique apunte asegure avise beba busque cambie camine complete comparta "
            "consulte controle cuente cuide deje descanse diga duerma elija empiece comience espere evite firme "
            "guarde haga hable incluya informe intente lea lleve llame llene mantenga maneje marque mida muestre "
            "olvide pare pida planee ponga practique pregunte prepare procure recuerde reduzca responda revise "
            "siga solicite suspenda tenga tome traiga trate use vaya venga verifique vigile actualice escriba "
            "coma mezcle tire devuelva".split()
        ),
        action_phrases=("usted debe", "es mejor no", "es mejor evitar", "es importante que usted", "le pedimos que"),
        be_forms=frozenset("ser es son fue fueron sea sean era eran será serán sería serían sido siendo fuera fueran".split()),
        irregular_participles=frozenset(
            "hecho hecha hechos hechas dicho dicha dichos dichas puesto puesta puestos puestas visto vista vistos "
            "vistas escrito escrita escritos escritas abierto abierta cubierto cubierta roto rota vuelto vuelta "
            "resuelto resuelta impreso impresa provisto provista devuelto devuelta".split()
        ),
        # "-ado"/"-ido" words that after "ser" are adjectives or nouns, not passives.
        adjectives_in_ed=frozenset(
            "adecuado adecuada adecuados adecuadas cansado cansada preocupado preocupada ocupado ocupada "
            "complicado complicada delicado delicada privado privada pesado pesada moderado moderada exagerado "
            "exagerada equivocado equivocada cuidado vida comida bebida medida salida herida partida querido "
            "querida atrevido atrevida divertido divertida aburrido aburrida parecido parecida seguido".split()
        ),
        emphasis_words=frozenset(
            "no nunca pare llame siempre solo peligro ahora importante advertencia atención urgente sí".split()
        ),
        acronyms_everyone_knows=frozenset({"OK", "TV", "DNI"}),
        you_word="usted",
        action_example="“Llame a su equipo de salud si su ánimo empeora.”",
        long_word_syllables=5,
        passive_adverbs=frozenset({"no", "muy", "también", "siempre", "ya", "más", "bien", "nunca", "casi", "solo"}),
        adverb_ending="mente",
        participle_endings=("ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas"),
        negations=frozenset({"no", "nunca"}),
        clause_openers=frozenset(
            "si cuando antes después luego mientras también siempre hoy ahora primero pero y aun así por eso".split()
        ),
        enclitics=("selo", "sela", "selos", "selas", "nos", "les", "los", "las", "le", "lo", "la", "se", "me"),
        informal_you=frozenset({"tú", "tu", "tus", "te", "ti", "contigo"}),
        plural_abbreviations=True,
        acronym_explained_after=re.compile(r"\s*,?\s*por\s+sus\s+siglas\b", re.IGNORECASE),
        expansion_small_words=frozenset({"de", "del", "la", "las", "el", "los", "y", "e", "o", "en", "para", "por"}),
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


# ---------------------------------------------------------------------------
# Voice and actions


def is_passive(sentence: str, words: LanguageWords, split: list[str] | None = None) -> bool:
    """A form of "to be" ("ser"), optional adverbs or "not", then a past participle
    (``split``: the sentence's `words_in`, when the caller has it)."""
    tokens = [w.lower() for w in (words_in(sentence) if split is None else split)]
    for i, w in enumerate(tokens[:-1]):
        if w not in words.be_forms:
            continue
        j = i + 1
        while j < len(tokens) - 1 and (tokens[j] in words.passive_adverbs or tokens[j].endswith(words.adverb_ending)):
            j += 1
        nxt = tokens[j]
        if nxt in words.adjectives_in_ed:
            continue
        if nxt in words.irregular_participles or (nxt.endswith(words.participle_endings) and len(nxt) > 4):
            return True
    return False


def is_action(sentence: str, words: LanguageWords, split: list[str] | None = None) -> bool:
    """Whether a sentence tells the reader to do something (``split``: its `words_in`, when the caller has it)."""
    text = sentence.strip()
    if text.endswith("?") or text.startswith("¿"):
        return False
    if _phrases(words.action_phrases).search(text.lower()):
        return True
    found = words_in(text) if split is None else split  # the same words: spaces are never part of one
    if not words.enclitics:
        first = [w.lower() for w in found[:2]]
        return bool(first) and first[0] in words.action_verbs and (first[0] != "do" or first[1:] == ["not"])
    # A command opens the sentence, or its main clause: "Antes de cada visita, anote ...".
    tokens = [_unaccented(w.lower()) for w in found]
    starts = [0]
    if tokens and tokens[0] in words.clause_openers:
        starts.append(1)
        head = text.split(",", 1)[0]
        if "," in text:
            starts.append(len(words_in(head)))
    for at in starts:
        clause = tokens[at : at + 2]
        if clause and clause[0] in words.negations:
            clause = clause[1:]
        if clause and _is_command(clause[0], words):
            return True
    return False


@lru_cache(maxsize=16)
def _phrases(phrases: tuple[str, ...]) -> re.Pattern:
    """One pattern finding any of ``phrases`` anywhere (as ``any(p in text for p in phrases)``)."""
    return re.compile("|".join(re.escape(p) for p in phrases) or "(?!)")


def _is_command(word: str, words: LanguageWords) -> bool:
    """A command, with any pronouns attached taken off ("cuentele" is "cuente" + "le")."""
    if word in words.action_verbs:
        return True
    return any(word.endswith(e) and word[: -len(e)] in words.action_verbs for e in words.enclitics)


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


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
    not_applicable: list[str] = field(default_factory=list)  # rules that need word lists the language lacks

    def as_json(self) -> dict:
        return dict(self.__dict__)


_ACRONYM_RE = re.compile(r"(?<![\w\-])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)(s?)(?![\w\-])")
_CAPS_RUN_RE = re.compile(r"(?<![\w\-])[A-Z][A-Z'’]+(?:[ \t,]+[A-Z][A-Z'’]+)*(?![\w\-])")
_PERCENT_RE = re.compile(r"\d\s*%|\bper ?cent\b|\b\d+/\d+\b|\b\d+\.\d+\b", re.IGNORECASE)
_CALCULATION_RE = re.compile(r"\b(?:multiply|divide|subtract|calculate|add up)\b|\d\s*[×x*÷]\s*\d", re.IGNORECASE)
# What every match of the two patterns above contains: a text without it has neither.
_NUMBER_HINT_RE = re.compile(r"\d|cent|multiply|divide|subtract|calculate|add up", re.IGNORECASE)


def plain_language_findings(
    path: str,
    text: HandoutText,
    rules: LanguageRules,
    glossary: Glossary,
    has_takeaways: bool,
    title_line: int | None,
) -> tuple[list[Problem], PlainLanguageStats]:
    """Every plain-language finding for one handout, and the numbers behind them.

    The rules run in the order their findings are listed: sentences, paragraphs,
    acronyms and capitals, key takeaways, the reader and the voice, words.
    """
    words = WORDS.get(rules.code)
    out: list[Problem] = []
    stats = PlainLanguageStats()
    _sentence_findings(path, text, title_line, out, stats)
    _paragraph_findings(path, text, out)
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
        _reader_findings(path, text, words, title_line, out, stats)
        _passive_findings(path, text, words, out, stats)
    else:
        stats.not_applicable += ["reader addressed directly", "actions for the reader", "passive voice"]
    _jargon_findings(path, text, rules, glossary, words, out, stats)
    if stats.not_applicable:
        out.append(
            Problem(
                path,
                f"these checks do not apply to language {rules.code!r}, which has no word lists for them "
                f"(handoutpress/plainlanguage.py WORDS, handoutpress/data/jargon-{rules.code}.txt and "
                f"plain-words-{rules.code}.txt): " + ", ".join(stats.not_applicable),
                line=title_line,
                severity="note",
            )
        )
    _count_numbers(text, stats)
    return out, stats


def _sentence_findings(path: str, text: HandoutText, title_line: int | None, out: list[Problem], stats: PlainLanguageStats) -> None:
    """Sentence lengths: each sentence over `LONG_SENTENCE_WORDS`, and an average over `AVERAGE_SENTENCE_WORDS`."""
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


def _paragraph_findings(path: str, text: HandoutText, out: list[Problem]) -> None:
    """Each paragraph of more than `PARAGRAPH_SENTENCES` sentences."""
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


def _reader_findings(
    path: str, text: HandoutText, words: LanguageWords, title_line: int | None, out: list[Problem], stats: PlainLanguageStats
) -> None:
    """The reader: addressed as "you" ("usted"), never as "tú" in a formal language, and told what to do."""
    stats.addresses_reader = any(w.lower() in words.you for seg in text.segments for w in seg.tokens)
    if not stats.addresses_reader:
        out.append(
            Problem(
                path,
                f'the reader is never addressed as "{words.you_word}"; speak to the reader directly',
                line=title_line,
                severity="warning",
            )
        )
    _informal_findings(path, text, words, out)
    all_texts = [(s.text, s.tokens) for s in text.sentences]
    all_texts += [(seg.text, seg.tokens) for seg in text.segments if seg.kind == "list item"]
    stats.action_sentences = sum(is_action(t, words, split) for t, split in all_texts)
    if not stats.action_sentences:
        out.append(
            Problem(
                path,
                f"no action for the reader: no sentence tells the reader what to do (for example, {words.action_example})",
                line=title_line,
                severity="warning",
            )
        )


def _passive_findings(path: str, text: HandoutText, words: LanguageWords, out: list[Problem], stats: PlainLanguageStats) -> None:
    """One note when more than `PASSIVE_SHARE` of the sentences are passive (a heuristic), quoting the first three."""
    sentences = text.sentences
    passive = [s for s in sentences if is_passive(s.text, words, s.tokens)]
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


def _count_numbers(text: HandoutText, stats: PlainLanguageStats) -> None:
    """Percentages, fractions, decimals and calculations in the reader's text (for PEMAT-P items 6 and 7)."""
    for seg in text.segments:
        if seg.kind in ("prose", "list item", "takeaway") and _NUMBER_HINT_RE.search(seg.text):
            stats.numbers_as_percent_or_fraction += len(_PERCENT_RE.findall(seg.text))
            stats.calculations += len(_CALCULATION_RE.findall(seg.text))


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
            after = seg.text[m.end() :]
            if words and words.plural_abbreviations and after.startswith(".") and re.fullmatch(r"(?:([A-Z])\1)+", acronym):
                continue  # "EE. UU.", "FF. AA.": a plural abbreviation, not an acronym
            seen.add(acronym)
            before = seg.text[: m.start()]
            spelled = bool(re.match(r"\s*\(\s*[^()\s]+(?:\s+[^()\s]+)+\s*\)", after)) or (
                before.rstrip().endswith("(") and len(words_in(before)) >= 2
            )
            if not spelled and words and words.acronym_explained_after and words.acronym_explained_after.match(after):
                # "(estimulación magnética transcraneal, o TMS por sus siglas en inglés)"
                spelled = (
                    "(" in before and ")" not in before[before.rindex("(") :] and len(words_in(before[before.rindex("(") :])) >= 2
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


def _informal_findings(path, text: HandoutText, words: LanguageWords, out) -> None:
    """One warning when a handout written in the formal "usted" also speaks as "tú"."""
    if not words.informal_you:
        return
    for seg in text.segments:
        found = next((w for w in seg.tokens if w.lower() in words.informal_you), None)
        if found:
            out.append(
                Problem(
                    path,
                    f"“{found}” speaks to the reader as “tú”; the clinic's handouts speak as “{words.you_word}”: "
                    f"keep to “{words.you_word}” throughout ({quote(seg.text, 80)})",
                    line=seg.line,
                    field=seg.field,
                    severity="warning",
                )
            )
            return


def word_forms(word: str, language: str) -> set[str]:
    """The forms a word list may hold a word under: the word itself and its singular
    (Spanish also "-es" plurals, "-ión"/"-iones" and the masculine of "-a"/"-as")."""
    low = word.lower()
    forms = {low, low[:-1] if low.endswith("s") else low}
    if base_language(language) == "es":
        if low.endswith("es"):
            forms.add(low[:-2])
        if low.endswith("iones"):
            forms.add(low[:-5] + "ión")
        for f in list(forms):
            if f.endswith("a"):
                forms.add(f[:-1] + "o")
    return forms


def _jargon_findings(path, text: HandoutText, rules: LanguageRules, glossary: Glossary, words, out, stats) -> None:
    jargon = word_list("jargon", rules.code)
    plain = word_list("plain-words", rules.code)
    long_word = words.long_word_syllables if words else LONG_WORD_SYLLABLES
    if not plain:
        stats.not_applicable.append("long words (no everyday word list)")
    if not jargon:
        stats.not_applicable.append("medical jargon (no jargon list)")
    if not plain and not jargon:
        return
    small = words.expansion_small_words if words else frozenset()
    seen: set[str] = set()
    for seg in text.segments:
        if seg.kind not in ("prose", "list item", "takeaway"):
            continue
        # Without a bracket there is no expansion to take out: the segment's own words.
        for w in words_in(_without_expansions(seg.text, small)) if "(" in seg.text else seg.tokens:
            low = w.lower()
            if low in seen or not w[:1].isalpha() or w[:1].isupper():
                continue  # capitalised: a name, a brand, or a sentence's first word
            seen.add(low)
            forms = word_forms(low, rules.code)
            if glossary.covers(w):
                continue
            if forms & jargon:
                message = f"“{w}” is medical jargon: use a plainer word, or define it in {glossary.path}"
            elif plain and rules.syllables(low) >= long_word and not forms & plain and "-" not in low:
                message = (
                    f"“{w}” is a long word ({rules.syllables(low)} syllables) that is neither in the everyday word list "
                    f"nor in {glossary.path}: use a plainer word, or define it there"
                )
            else:
                continue
            stats.jargon.append(low)
            out.append(Problem(path, message, line=seg.line, field=seg.field, severity="warning"))


def _without_expansions(text: str, small_words: frozenset[str] = frozenset()) -> str:
    """The text with acronym expansions taken out: "TMS (transcranial magnetic
    stimulation)" and "Food and Drug Administration (FDA)" spell a term out,
    so their words are not jargon of their own."""
    if "(" not in text:
        return text  # both forms need a bracket
    text = re.sub(r"(?<![\w\-])([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)s?\s*\([^()]*\)", r"\1", text)

    for m in reversed(list(re.finditer(r"\((?:the\s+)?([A-Z][A-Z0-9]*[A-Z][A-Z0-9]*)s?\)", text))):
        letters = sum(c.isupper() for c in m.group(1))
        before = text[: m.start()]
        words = list(re.finditer(r"[^\W_]+(?:['’\-][^\W_]+)*", before))
        # Walk back one word per letter; small words ("de", "and") inside the
        # expansion have no letter of their own.
        cut, counted = 0, 0
        for word in reversed(words):
            if counted == letters:
                break
            cut = word.start()
            if word.group() not in small_words:
                counted += 1
        text = text[:cut] + m.group(1) + text[m.end() :]
    return text
