"""The Markdown of a handout's fields as the checks read it: markdown-it's block tokens.

Most fields are plain: lines of words, blank lines between paragraphs, and
bullet items written ``- Text``. For a field wholly in that subset (`plain_tokens`
says which) the tokens the checks read are built here directly: the same
types, line maps and inline children markdown-it gives (a test compares the
two on every field of the seeds, the fixtures and generated text), at a small
part of its cost. Anything else (emphasis, links, code, headings, numbered
lists, indentation, a line that could continue a list item) goes to
markdown-it itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

# Characters that may start or change Markdown anywhere in a line (escapes,
# code, emphasis, links, images, autolinks, entities, strike-through, tables,
# headings, quotes); a field holding any of them is read by markdown-it.
_MARKUP = frozenset("\\`*_[]!<>&~|#")


@dataclass(frozen=True)
class Child:
    """An inline child token: only "text" and "softbreak" come from `plain_tokens`."""

    type: str
    content: str = ""


@dataclass(frozen=True)
class Token:
    """A block token with what the checks read of markdown-it's: its type and, for an
    inline token, its line map (first line, line after the last) and children."""

    type: str
    map: list[int] | None = None
    children: list[Child] | None = None


@lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False})


def markdown_tokens(text: str) -> list:
    """The block tokens of ``text``: built directly for plain text, else markdown-it's."""
    tokens = plain_tokens(text)
    return _md().parse(text) if tokens is None else tokens


def _is_plain_line(line: str) -> bool:
    """Printable, no markup character, no space at either end, starting with a letter."""
    return line[:1].isalpha() and line.isprintable() and line[-1] != " " and _MARKUP.isdisjoint(line)


def plain_tokens(text: str) -> list[Token] | None:
    """The tokens markdown-it gives ``text`` when it is plain (paragraphs of plain lines, items
    ``- Text`` one per line, single blank lines between them), else None."""
    lines = text.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    tokens: list[Token] = []
    in_list = False
    paragraph: list[str] = []  # the lines of the paragraph being read, from line ``start``
    start = 0
    previous = ""  # "blank", "paragraph" or "item": what the line before was
    for number, line in enumerate(lines):
        if line == "":
            if previous == "blank":
                return None  # two blank lines: leave to markdown-it
            kind = "blank"
        elif line.startswith("- ") and _is_plain_line(line[2:]):
            if previous == "paragraph":
                return None  # an item right under a paragraph: leave to markdown-it
            kind = "item"
        elif _is_plain_line(line):
            if previous == "item":
                return None  # a lazy continuation of the item above
            kind = "paragraph"
        else:
            return None
        if paragraph and kind != "paragraph":
            tokens += _paragraph(paragraph, start)
            paragraph = []
        if in_list and kind == "paragraph":
            tokens.append(Token("bullet_list_close"))
            in_list = False
        if kind == "item":
            if not in_list:
                tokens.append(Token("bullet_list_open"))
                in_list = True
            tokens.append(Token("list_item_open"))
            tokens += _paragraph([line[2:]], number)
            tokens.append(Token("list_item_close"))
        elif kind == "paragraph":
            if not paragraph:
                start = number
            paragraph.append(line)
        previous = kind
    if paragraph:
        tokens += _paragraph(paragraph, start)
    if in_list:
        tokens.append(Token("bullet_list_close"))
    return tokens


def _paragraph(lines: list[str], start: int) -> list[Token]:
    """paragraph_open, inline (text, softbreak, text ...), paragraph_close for ``lines`` from line ``start``."""
    children: list[Child] = []
    for i, line in enumerate(lines):
        if i:
            children.append(Child("softbreak"))
        children.append(Child("text", line))
    return [Token("paragraph_open"), Token("inline", [start, start + len(lines)], children), Token("paragraph_close")]

