"""The text a page's stamp shows: what is drawn inside its pagination
artifacts, read for the audit's stamp rule.

Two readers, the fast one first:

* `StampText` decodes the shown strings itself, through their fonts'
  ToUnicode maps (`handoutpress.pdf.tounicode`): the band's form, once per
  document, and the page's own number, drawn in an artifact in the page's
  stamp stream. It declines (None) wherever it is not sure: a font without a
  map, an image or a nested form, a code it cannot decode.
* `extracted_artifact_text` asks pypdf's extractor, the reference. The audit
  turns to it whenever the fast text lacks anything, so a stamp finding is
  always pypdf's word, never the fast decoder's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pypdf import PageObject
from pypdf.generic import DictionaryObject, NameObject

from handoutpress.pdf.syntax import INLINE_IMAGE, TEXT_SHOWING, Operand, PdfString, operations
from handoutpress.pdf.tounicode import ToUnicode, read_to_unicode
from handoutpress.verify.content import PageContent, entry, form_xobject, resources_of
from handoutpress.verify.walk import Walk

_MARKS = frozenset({b"BDC", b"BMC", b"EMC"})
_MOVES = frozenset({b"BT", b"Tm", b"Td", b"TD", b"T*"})  # a new line or position: a space between pieces
# What the decoder reads: fonts, shows, moves, and what it must decline (forms, images).
_TEXT = frozenset({b"Tf", b"Tj", b"TJ", b"'", b'"', b"Do", INLINE_IMAGE} | _MOVES)
PAGE_TEXT = _TEXT | _MARKS  # what `StampText.page_artifact_text` reads of a page's content
_GAP = -250  # a TJ adjustment of a quarter em or more (thousandths, negative) reads as a space


class _Declined(Exception):
    """The fast decoder cannot be sure of this text; pypdf's extractor must read it."""


class StampText:
    """The fast decoder for one document: each form's text and each font's map are read once.

    The band's form is the same object on every page, and the stamp's fonts
    are shared, so the cost is paid on the first page.
    """

    def __init__(self) -> None:
        self._forms: dict[int, tuple[Any, str | None]] = {}  # id(form) -> (the form, kept so its id stays its own; text)
        self._fonts: dict[int, tuple[Any, ToUnicode | None]] = {}  # font object number (or id) -> (font, map)

    def forms_text(self, forms: list) -> str | None:
        """The text of these forms (drawn in artifacts), joined by spaces; None where one cannot be decoded here."""
        parts = []
        for form in forms:
            known = self._forms.get(id(form))
            if known is None:
                try:
                    text = self._text_of(operations(form.get_data(), _TEXT), resources_of(form), artifacts_only=False)
                except Exception:
                    text = None
                known = self._forms[id(form)] = (form, text)
            if known[1] is None:
                return None
            parts.append(known[1])
        return " ".join(parts)

    def page_artifact_text(self, content: PageContent) -> str | None:
        """The text a page draws inside artifacts (the band's form and the page's
        number), decoded here from the page's scanned content (which must hold
        `PAGE_TEXT`); None where that cannot be sure."""
        return self._text_of(content.operations, content.resources, artifacts_only=True)

    def _text_of(self, found: Iterable[tuple[Sequence[Operand], bytes]], resources: Any, *, artifacts_only: bool) -> str | None:
        """The text these operations show, through their fonts' maps; None where pypdf's extractor must decide.

        ``artifacts_only``: page content, of which only what lies inside
        artifacts counts; a form drawn there counts with its text.
        """
        try:
            return _TextReader(self, resources, artifacts_only).read(found)
        except _Declined:
            return None

    def font_map(self, reference: Any) -> ToUnicode | None:
        """The ToUnicode map of the font ``reference`` points at (read once per font), or None."""
        key = getattr(reference, "idnum", None)
        font = reference.get_object()
        key = key if key is not None else id(font)
        known = self._fonts.get(key)
        if known is None:
            known = self._fonts[key] = (font, read_to_unicode(font))  # the font is kept so its id stays its own
        return known[1]


class _TextReader:
    """One stream's text, operation by operation: the state of one `StampText._text_of` call."""

    def __init__(self, decoder: StampText, resources: Any, artifacts_only: bool) -> None:
        self.decoder, self.resources, self.artifacts_only = decoder, resources, artifacts_only
        self.fonts = entry(resources, "/Font")
        self.font: ToUnicode | None = None
        self.pieces: list[str] = []
        self.moved = False
        self.marks: list[bool] = []  # per open marked-content sequence: is it an artifact?

    def read(self, found: Iterable[tuple[Sequence[Operand], bytes]]) -> str:
        for operands, operator in found:
            if operator in _MARKS:
                self._mark(operands, operator)
            elif self.artifacts_only and not any(self.marks) and operator != b"Tf":
                continue  # drawn outside artifacts: not the stamp's
            elif operator in _MOVES:
                self.moved = True
            elif operator == b"Do" and self.artifacts_only:
                self._form(operands)
            elif operator in (b"Do", INLINE_IMAGE):
                raise _Declined  # a form inside the form, or an image: pypdf's extractor decides
            elif operator == b"Tf":
                name = operands[0] if operands and isinstance(operands[0], str) else None
                self.font = self.decoder.font_map(self.fonts.raw_get(name)) if name in self.fonts else None
            elif operator in TEXT_SHOWING:
                self._show(operands, operator)
        return "".join(self.pieces)

    def _mark(self, operands: Sequence[Operand], operator: bytes) -> None:
        if operator != b"EMC":
            self.marks.append(bool(operands) and operands[0] == "/Artifact")
        elif self.marks:
            self.marks.pop()
        else:
            raise _Declined  # closes a sequence opened elsewhere

    def _form(self, operands: Sequence[Operand]) -> None:
        form = form_xobject(operands, self.resources)
        text = self.decoder.forms_text([form]) if form is not None else None
        if text is None:
            raise _Declined
        self.pieces.append(text + " ")

    def _show(self, operands: Sequence[Operand], operator: bytes) -> None:
        if self.font is None:
            raise _Declined
        if operator in (b"'", b'"'):
            self.moved = True  # these move to the next line first
        items = operands[0] if operator == b"TJ" and operands and isinstance(operands[0], list) else operands[-1:]
        run = []
        for item in items:
            if isinstance(item, PdfString):
                text = self.font.decode(item.value())
                if text is None:
                    raise _Declined
                run.append(text)
            elif isinstance(item, float) and item <= _GAP:
                run.append(" ")
        if self.moved and self.pieces:
            self.pieces.append(" ")
        self.moved = False
        self.pieces.append("".join(run))


def extracted_artifact_text(page: Any, walk: Walk, forms_read: dict[int, tuple[Any, str]]) -> str:
    """The text a page draws inside artifacts, in drawing order, as pypdf's extractor reads it.

    Where the artifacts only draw forms (our stamp), only those small forms
    are extracted, each once per document (``forms_read``: the band's form,
    shared by every page, is read on the first). Text shown directly inside
    an artifact sends the whole page through the extractor, keeping what
    falls in artifacts.
    """
    if not walk.inline_artifact_text:
        parts = []
        for form in walk.artifact_forms:
            known = forms_read.get(id(form))
            if known is None:
                holder = PageObject.create_blank_page(width=1, height=1)
                holder[NameObject("/Resources")] = form.get("/Resources") or DictionaryObject()
                holder.replace_contents(form)
                known = forms_read[id(form)] = (form, holder.extract_text())  # the form is kept so its id stays its own
            parts.append(known[1])
        return " ".join(parts)
    depth: list[bool] = []  # one entry per open marked-content sequence: is it an artifact?
    found: list[str] = []

    def before(operator: bytes, operands: list, cm: Any, tm: Any) -> None:
        if operator in (b"BDC", b"BMC"):
            depth.append(bool(operands) and operands[0] == "/Artifact")
        elif operator == b"EMC" and depth:
            depth.pop()

    def text(chunk: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if any(depth):
            found.append(chunk)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return "".join(found)  # the pieces carry the spaces and line breaks pypdf puts between them
