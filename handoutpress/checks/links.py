"""Addresses a reader must never be sent to: ``javascript:``, ``vbscript:`` and ``file:``
anywhere in a handout's text, not only in links.

Loading already refuses such schemes as link targets (`load.content`); this
check also catches one written as plain text, in a table cell or a reference,
where a PDF viewer may still turn it into a link.
"""

from __future__ import annotations

import re

from handoutpress.errors import Problem
from handoutpress.load.content import HandoutFile
from handoutpress.load.glossary import handout_strings

_UNSAFE_ADDRESS_RE = re.compile(r"(?<![\w])(javascript|vbscript|file):\S", re.IGNORECASE)


def link_findings(item: HandoutFile) -> list[Problem]:
    """``javascript:`` and ``file:`` addresses anywhere in the text are errors."""
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
    """The first line of the handout's file that holds ``needle`` (the models keep no lines for text inside a field)."""
    try:
        for n, line in enumerate(item.source.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return n
    except OSError:
        pass
    return None
