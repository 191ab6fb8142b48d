"""What a handout says, split into the prose a reading grade is computed on.

Reading formulas measure sentences. A handout also holds furniture: its title,
headings, table cells, captions and bullet fragments ("Your health history").
This module walks a loaded handout in reading order and returns

* `Part`s (key takeaways, each top-level section with its subsections, the
  questions and answers), each made of `Paragraph`s of `Sentence`s: the prose;
* `Segment`s: every piece of text, prose or not, for the checks that look at
  all of it (acronyms, ALL CAPS, glossary terms, links).

Every sentence knows its file line and field path, so a finding can say which
sentence to rewrite, quoting it (`quote`). Lines are exact for ``|`` block
scalars (the usual way to write a body) and point at the field for other styles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from handoutpress.checks.markdown import markdown_tokens
from handoutpress.checks.readability import LanguageRules, split_sentences, words_in
from handoutpress.load.content import HandoutFile, SubSection
from handoutpress.load.yamlsafe import field_name

_TERMINAL_RE = re.compile(r"[.!?][\"'”’)\]]*$")
_BLOCK_SCALAR_RE = re.compile(r":\s*\|[-+0-9]*\s*(#.*)?$")


def _tokens(piece: Sentence | Segment) -> list[str]:
    """``words_in(piece.text)``, kept on the piece the first time it is asked for (the
    piece is frozen: its text never changes)."""
    found = piece.__dict__.get("_tokens")
    if found is None:
        found = piece.__dict__["_tokens"] = words_in(piece.text)
    return found


@dataclass(frozen=True)
class Sentence:
    text: str  # plain text, Markdown marks removed
    line: int | None
    field: str

    @property
    def tokens(self) -> list[str]:
        """Its words (`readability.words_in`), split once for every rule that reads them."""
        return _tokens(self)

    @property
    def words(self) -> int:
        return len(self.tokens)


@dataclass(frozen=True)
class Paragraph:
    field: str
    line: int | None
    kind: str  # "paragraph", "list item", "callout", "answer", "takeaway"
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True)
class Part:
    """A stretch of the handout that gets its own reading grade."""

    label: str  # "Key takeaways", a section heading, "Questions and answers"
    field: str  # "key_takeaways", "sections[2]", "faq"
    line: int | None
    paragraphs: tuple[Paragraph, ...]

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.paragraphs for s in p.sentences]


@dataclass(frozen=True)
class Segment:
    """Any piece of text in reading order, prose or furniture."""

    field: str
    line: int | None
    kind: str  # "title", "heading", "prose", "list item", "cell", "caption", "question", "alt"
    text: str
    bold: bool = False

    @property
    def tokens(self) -> list[str]:
        """Its words (`readability.words_in`), split once for every rule that reads them."""
        return _tokens(self)


@dataclass
class HandoutText:
    parts: list[Part] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    ordered_lists: int = 0
    bullet_lists: int = 0
    bold_runs: int = 0

    @property
    def sentences(self) -> list[Sentence]:
        return [s for p in self.parts for s in p.sentences]


def quote(text: str, limit: int = 160) -> str:
    """A piece of the handout as a finding quotes it: on one line, in curly quotes, cut at ``limit`` characters."""
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def handout_text(item: HandoutFile, rules: LanguageRules) -> HandoutText:
    """Split ``item`` into scored prose and every other piece of text."""
    reader = _Reader(item, rules)
    h = item.content
    reader.plain(("title",), "title", h.title)
    if h.subtitle:
        reader.plain(("subtitle",), "title", h.subtitle)
    if h.key_takeaways:
        paragraphs = []
        for i, point in enumerate(h.key_takeaways):
            paragraphs += reader.markdown(("key_takeaways", i), point, "takeaway")
        reader.out.parts.append(Part("Key takeaways", "key_takeaways", item.line_of("key_takeaways"), tuple(paragraphs)))
    for i, section in enumerate(h.sections):
        path = ("sections", i)
        paragraphs = reader.section(path, section)
        for j, sub in enumerate(section.sections):
            paragraphs += reader.section(path + ("sections", j), sub)
        reader.out.parts.append(Part(section.heading, field_name(path), item.line_of(*path), tuple(paragraphs)))
    if h.faq:
        paragraphs = []
        for i, qa in enumerate(h.faq):
            reader.plain(("faq", i, "question"), "question", qa.question)
            paragraphs += reader.markdown(("faq", i, "answer"), qa.answer, "answer")
        reader.out.parts.append(Part("Questions and answers", "faq", item.line_of("faq"), tuple(paragraphs)))
    return reader.out


class _Reader:
    def __init__(self, item: HandoutFile, rules: LanguageRules):
        self.item = item
        self.rules = rules
        self.out = HandoutText()
        try:
            self.source_lines = item.source.read_text(encoding="utf-8").splitlines()
        except OSError:
            self.source_lines = []

    def plain(self, path: tuple, kind: str, text: str) -> None:
        self.out.segments.append(Segment(field_name(path), self.item.line_of(*path), kind, text))

    def section(self, path: tuple, s: SubSection) -> list[Paragraph]:
        self.plain(path + ("heading",), "heading", s.heading)
        paragraphs = []
        if s.body:
            paragraphs += self.markdown(path + ("body",), s.body, "paragraph")
        if s.image:
            self.plain(path + ("image", "alt"), "alt", s.image.alt)
        if s.table:
            t = s.table
            if t.caption:
                self.plain(path + ("table", "caption"), "caption", t.caption)
            for k, col in enumerate(t.columns):
                self.plain(path + ("table", "columns", k), "cell", col)
            for r, row in enumerate(t.rows):
                for k, cell in enumerate(row):
                    self.plain(path + ("table", "rows", r, k), "cell", cell)
        if s.callout:
            paragraphs += self.markdown(path + ("callout", "text"), s.callout.text, "callout")
        return paragraphs

    def _first_line(self, path: tuple) -> tuple[int | None, bool]:
        """The line of a field's first text line, and whether lines inside map 1:1."""
        line = self.item.line_of(*path)
        if line and 0 < line <= len(self.source_lines) and _BLOCK_SCALAR_RE.search(self.source_lines[line - 1]):
            return line + 1, True
        return line, False

    def markdown(self, path: tuple, text: str, kind: str) -> list[Paragraph]:
        """Paragraphs of prose in a Markdown field; headings and fragments become segments only."""
        base, exact = self._first_line(path)
        shown = field_name(path)
        tokens = markdown_tokens(text)
        paragraphs: list[Paragraph] = []
        lists: list[str] = []
        for i, tok in enumerate(tokens):
            if tok.type in ("bullet_list_open", "ordered_list_open"):
                lists.append(tok.type)
                if tok.type == "ordered_list_open":
                    self.out.ordered_lists += 1
                else:
                    self.out.bullet_lists += 1
            elif tok.type in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            if tok.type != "inline":
                continue
            opener = tokens[i - 1].type if i else ""
            start = base + (tok.map[0] if (exact and tok.map) else 0) if base else None
            plain, breaks, label_end, bold = _plain_inline(tok)
            self.out.bold_runs += bold
            in_list = bool(lists)
            if opener.startswith("heading"):
                self.out.segments.append(Segment(shown, start, "heading", plain))
                continue
            seg_kind = "list item" if in_list else ("takeaway" if kind == "takeaway" else "prose")
            self.out.segments.append(Segment(shown, start, seg_kind, plain, bold=bool(bold)))
            scored = plain
            offset = 0
            if in_list or kind == "takeaway":
                # A list item is prose only if it is written as sentences; a bold
                # lead-in ("**IV infusion.** The medicine ...") is a label, not one.
                if not _TERMINAL_RE.search(plain.rstrip()):
                    continue
                if label_end and plain[label_end:].strip():
                    offset = label_end
                    scored = plain[label_end:]
            sentences = []
            for a, b in split_sentences(scored, self.rules):
                a += offset
                b += offset
                line = None
                if start is not None:
                    line = start + (sum(1 for at in breaks if at <= a) if exact else 0)
                sentences.append(Sentence(plain[a:b].strip(), line, shown))
            if sentences:
                para_kind = "list item" if in_list else kind
                paragraphs.append(Paragraph(shown, sentences[0].line, para_kind, tuple(sentences)))
        return paragraphs


def _plain_inline(tok) -> tuple[str, list[int], int, int]:
    """Plain text of an inline token, offsets of its line breaks, end of a leading
    bold label ending in a full stop (0 if none), and how many bold runs it has."""
    out = ""
    breaks: list[int] = []
    label_end = 0
    bold = 0
    children = tok.children or []
    leading_strong = bool(children) and next((c.type for c in children if c.type != "text" or c.content), "") == "strong_open"
    for child in children:
        if child.type in ("text", "code_inline"):
            out += child.content
        elif child.type in ("softbreak", "hardbreak"):
            out += " "
            breaks.append(len(out))
        elif child.type == "strong_open":
            bold += 1
        elif child.type == "strong_close" and leading_strong and not label_end and bold == 1:
            if _TERMINAL_RE.search(out.rstrip()):
                label_end = len(out)
            leading_strong = False
    return out, breaks, label_end, bold
