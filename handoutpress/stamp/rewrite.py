"""Moving the stamp's glyphs between fonts, in content it has already written.

Where the handout's own font lacks a few of the band's glyphs, those glyphs
are drawn with a small supplement font (`handoutpress.pdf.fonts.make_supplement`)
and the rest with the handout's font: a `FontUse` says which codes move and
what they become, and `rewrite` cuts each text run where the font changes,
and gives the stamp's fonts the names a page knows them by.

What it relies on: the shared content-stream tokenizer
(`handoutpress.pdf.syntax.text_operations` and `splice`), which gives each
font selection and each shown run with its byte span, so every other byte of
the content is copied as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pypdf.generic import NameObject

from handoutpress.pdf.syntax import PdfString, splice, text_operations


@dataclass(frozen=True)
class FontUse:
    """How the stamp draws one font of its kit: the codes in ``codes`` with the
    supplement ``name`` (renumbered), the others with the document's font;
    ``rename``: every glyph from the supplement (the document has none of them)."""

    name: NameObject
    codes: dict[int, int]
    rename: bool

    @property
    def key(self) -> tuple[str, tuple[tuple[int, int], ...], bool]:
        """The same for equal uses: what a rewritten band is kept by."""
        return (str(self.name), tuple(sorted(self.codes.items())), self.rename)


Plan = dict[str, FontUse]  # a kit font's resource name -> how it is drawn


def rewrite(content: bytes, plan: Plan, names: dict[str, NameObject] | None = None) -> bytes:
    """``content`` with each glyph of a planned font drawn by the font the plan gives it,
    and, given ``names``, every font it selects called by that name (the page's name for it).

    A run (TJ or Tj) is cut where the font changes, with a Tf before each
    piece; the kerning numbers stay where they were, and both fonts have the
    same widths, so every glyph lands where it did. After the run the font is
    the one the original content has there, so what follows (and q/Q) is
    unchanged. Only for content `StampKit.rewritable` accepts (hex strings,
    TJ and Tj, no inline image). One pass over the content does both jobs:
    the stamp rewrites every page's number this way.
    """
    if not plan and not names:
        return content

    def current(name: str) -> str:
        use = plan.get(name)
        return str(use.name) if use is not None and use.rename else name

    def called(name: str) -> bytes:
        return (names[name] if names is not None else name).encode()

    replacements = []
    for operation in text_operations(content):
        if operation.operator == b"Tf" and not plan:
            if operation.font_span is None:
                continue
            start, end = operation.font_span  # only the name changes; the rest stays as written
            replacements.append((start, end, called(operation.font)))
            continue
        if operation.operator == b"Tf":
            new = called(current(operation.font)) + b" " + operation.size + b" Tf"
        elif operation.operator in (b"TJ", b"Tj") and operation.font in plan:
            use = plan[operation.font]
            new = _cut_run(operation.pieces, operation.font, operation.size, use, current(operation.font), called)
        else:
            continue
        replacements.append((operation.start, operation.end, new))
    return splice(content, replacements)


def _cut_run(pieces, base: str, size: bytes, use: FontUse, drawn: str, called: Callable[[str], bytes]) -> bytes:
    """One shown run as TJ pieces, each in the font its glyphs now come from.

    ``base`` is the kit's font the run was written in, ``drawn`` the font the
    content selects for it (the supplement when every glyph moved); the font
    selected afterwards is ``drawn`` again. ``called`` gives a font's name as written.
    """
    extra = str(use.name)
    segments: list[tuple[str, list[bytes]]] = []
    for piece in pieces:
        if not isinstance(piece, PdfString):  # a kerning number, as written
            if not segments:
                segments.append((drawn, []))
            segments[-1][1].append(b" " + piece + b" ")
            continue
        raw = piece.value()
        for i in range(0, len(raw) - 1, 2):
            code = int.from_bytes(raw[i : i + 2], "big")
            font = extra if code in use.codes else base
            glyph = b"<%04x>" % use.codes.get(code, code)
            if not segments or segments[-1][0] != font:
                segments.append((font, []))
            segments[-1][1].append(glyph)
    out, actual = [], drawn
    for font, parts in segments:
        if font != actual:
            out.append(called(font) + b" " + size + b" Tf")
            actual = font
        out.append(b"[" + b"".join(parts) + b"] TJ")
    if actual != drawn:
        out.append(called(drawn) + b" " + size + b" Tf")
    return b"\n".join(out)
