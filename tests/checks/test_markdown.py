"""The Markdown tokens the checks build for plain fields are the very tokens markdown-it gives
(types, line maps, inline children), and fields that are not plain are left to markdown-it."""

from __future__ import annotations

import random

from markdown_it import MarkdownIt
from support import ROOT

from handoutpress.checks.markdown import markdown_tokens, plain_tokens
from handoutpress.load.content import load_library

FIXTURES = ROOT / "tests" / "checks" / "fixtures"
PLAIN = [
    "Take your pill with water.", "Call us now!", "A", "Él toma agua.", "Dr. Smith gave 2.5 mg at 10:30 (about 3%).",
    "Two  spaces", "- Item one.", "- item", "", "Word: value = 3 + 4 @ $5 ^ {x}", "long-term care", "- Item, with: colon",
]
PIECES = PLAIN + [
    "-", "- ", "1. One", "2) Two", "* Star", "+ Plus", "Some *emphasis*",
    "Some __bold__", "  Indented", "    Code", "# Heading", "> Quote", "---", "===", "Trailing ", " Leading", "- - -",
    "-  Two spaces", "¿Qué pasa?", "Tab\there", "A & B", "a_b",
    "[link](https://x.org)", "<b>x</b>", "No\u00a0break", "Ends in \\", "CAPS RUN HERE", "Line\u2028sep", "a\rb",
    "- Item with `code`", "  - Nested item", "Setext", "Text ![img](x.png)", "~~strike~~",
]


def _shape(tokens) -> list:
    """What the checks read of each token: its type and, for inline tokens, line map and children."""
    return [
        (t.type, list(t.map), [(c.type, c.content) for c in t.children or []]) if t.type == "inline" else (t.type,)
        for t in tokens
    ]


def _fields(handouts) -> list[str]:
    texts: list[str] = []
    for h in handouts:
        c = h.content
        texts += [c.title, *c.key_takeaways]
        for section in c.sections:
            for s in (section, *section.sections):
                texts += [t for t in (s.body, s.callout.text if s.callout else None) if t]
        for qa in c.faq:
            texts += [qa.question, qa.answer]
    return texts


def test_plain_fields_give_markdown_it_s_tokens() -> None:
    """On every field of the seed and fixture handouts, and on thousands of generated texts mixing
    plain lines with Markdown, the tokens built for plain text equal markdown-it's."""
    md = MarkdownIt("commonmark", {"html": False})
    texts = _fields(load_library([ROOT / "handouts"], ROOT)[0])
    for folder in ("checks", "checks_es"):
        texts += _fields(load_library([FIXTURES / folder], ROOT)[0])
    rng = random.Random(15)
    for _ in range(4000):
        lines = [rng.choice(PLAIN if rng.random() < 0.8 else PIECES) for _ in range(rng.randint(1, 7))]
        texts.append("\n".join(lines) + rng.choice(["", "\n", "\n\n"]))
    plain = 0
    for text in texts:
        built = plain_tokens(text)
        if built is not None:
            plain += 1
            assert _shape(built) == _shape(md.parse(text)), text
        assert _shape(markdown_tokens(text)) == _shape(md.parse(text)), text
    assert plain > 1000  # the fast way is taken, and compared, often


def test_markup_is_left_to_markdown_it() -> None:
    """Emphasis, links, numbered lists, headings, indentation and lazy continuations are not plain."""
    for text in ("Some **bold** text.", "See [this](https://x.org).", "1. First", "# Title", "  Indented.",
                 "- Item\ncontinued lazily", "Para\n- item under it", "Para\n\n\n- after two blank lines", "Tab\tin it."):
        assert plain_tokens(text) is None, text
    assert plain_tokens("One line.\nAnother.\n\n- An item.\n- Another item.\n") is not None
