"""Medical terms and their plain definitions: ``glossary/<language>.yaml``.

The schema is documented at the top of ``glossary/en.yaml``. The glossary does
two jobs: the renderer prints a "Words to know" box with every term a handout
uses, and the checks treat those terms as defined when they look for jargon.
Both find a handout's terms the same way (`Glossary.used_by` on
`handout_strings`), which is why that lives here, in the load stage that
render and checks both come after.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from handoutpress.errors import ContentError, Problem
from handoutpress.load.content import Handout, HandoutFile
from handoutpress.load.schema import StrictModel, Text, translate_errors
from handoutpress.load.yamlsafe import YamlProblems, read_yaml


class _Term(StrictModel):
    term: Text
    definition: Text
    forms: list[Text] = []


class _GlossaryFile(StrictModel):
    terms: Annotated[list[_Term], Field(min_length=0)]


@dataclass(frozen=True)
class Term:
    term: str
    definition: str
    pattern: re.Pattern

    def used_in(self, text: str) -> bool:
        return bool(self.pattern.search(text))


@dataclass(frozen=True)
class Glossary:
    language: str
    path: str  # as shown to people, e.g. glossary/en.yaml
    terms: tuple[Term, ...] = ()
    sha256: str = ""

    @classmethod
    def empty(cls, language: str) -> Glossary:
        """The glossary of a language that has none (or whose file cannot be used)."""
        return cls(language, _shown(language))

    def used_by(self, texts: list[str]) -> list[Term]:
        """The terms that appear in any of ``texts``, sorted for the box."""
        joined = "\n".join(texts)
        return sorted((t for t in self.terms if t.used_in(joined)), key=lambda t: t.term.casefold())

    def covers(self, word: str) -> bool:
        """Whether ``word`` is, or is part of, a glossary term."""
        return any(t.pattern.search(word) for t in self.terms) or any(
            word.casefold() in t.term.casefold().split() for t in self.terms
        )


def _pattern(term: str, forms: list[str]) -> re.Pattern:
    variants = []
    for v in (term, *forms):
        words = [re.escape(w) for w in re.split(r"[\s\-]+", v)]
        body = r"[\s\-]+".join(words)
        variants.append(body + r"(?:e?s)?")
    acronym = sum(c.isupper() for c in term) >= 2 and not forms
    flags = 0 if acronym else re.IGNORECASE
    return re.compile(r"(?<![\w\-])(?:" + "|".join(variants) + r")(?![\w\-])", flags)


def glossary_file(root: Path, language: str) -> Path:
    return root / "glossary" / f"{language}.yaml"


def _shown(language: str) -> str:
    """The glossary file's name as messages show it, whichever project it is in."""
    return f"glossary/{language}.yaml"


def load_glossary(root: Path, language: str) -> Glossary:
    """The glossary for ``language``, read now; empty when the project has none for it."""
    path = glossary_file(root, language)
    if not path.is_file():
        return Glossary.empty(language)
    return _read(path, language)


class Glossaries:
    """The glossaries of one project, each read once per change of its file.

    Every handout of a language needs its glossary (the "Words to know" box),
    so a long-lived renderer keeps them; a file is read again when its
    modification time changes.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._read: dict[str, tuple[int, Glossary]] = {}

    def of(self, language: str) -> Glossary:
        """The glossary for ``language`` (empty when the project has none)."""
        path = glossary_file(self.root, language)
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return Glossary.empty(language)
        kept = self._read.get(language)
        if kept is None or kept[0] != stamp:
            kept = (stamp, _read(path, language))
            self._read[language] = kept
        return kept[1]


def _read(path: Path, language: str) -> Glossary:
    shown = _shown(language)
    try:
        doc = read_yaml(path, shown)
    except YamlProblems as exc:
        raise ContentError(exc.problems) from None
    if not isinstance(doc.data, dict):
        raise ContentError(Problem(shown, "expected a mapping with a 'terms' list", line=1))
    try:
        parsed = _GlossaryFile.model_validate(doc.data)
    except ValidationError as exc:
        raise ContentError(translate_errors(exc, doc, shown, _GlossaryFile)) from None
    seen: dict[str, int] = {}
    problems = []
    for i, t in enumerate(parsed.terms):
        key = t.term.casefold()
        if key in seen:
            problems.append(
                Problem(
                    shown,
                    f"term {t.term!r} is already defined at entry {seen[key]}",
                    line=doc.line_of(("terms", i, "term")),
                    field=f"terms[{i}].term",
                )
            )
        seen.setdefault(key, i)
    if problems:
        raise ContentError(problems)
    terms = tuple(Term(t.term, t.definition, _pattern(t.term, t.forms)) for t in parsed.terms)
    return Glossary(language, shown, terms, hashlib.sha256(path.read_bytes()).hexdigest())


def handout_strings(handout: Handout) -> list[str]:
    """Every piece of text a reader sees in a handout's body, in reading order."""
    out = [handout.title, handout.subtitle or "", *handout.key_takeaways]
    for s in handout.sections:
        for part in (s, *s.sections):
            out += [part.heading, part.body or "", part.callout.text if part.callout else ""]
            if part.table:
                out += [part.table.caption or "", *part.table.columns, *(c for row in part.table.rows for c in row)]
    for qa in handout.faq:
        out += [qa.question, qa.answer]
    return [t for t in out if t]


def words_to_know(item: HandoutFile, glossary: Glossary) -> list[dict[str, str]]:
    """The "Words to know" box for a loaded handout: each term of its language's glossary it uses, with its definition."""
    return [{"term": t.term, "definition": t.definition} for t in glossary.used_by(handout_strings(item.content))]
