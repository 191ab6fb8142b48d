"""Audit PDFs: is every page stamped, is the file tagged, titled, in a language,
with its fonts embedded, and is every piece of text either tagged content or
an artifact? Used by `generate.py verify` and by the build before it publishes.

Each finding names its rule and page, so an operations lead can prove (or
disprove) that every page handed out carries the disclaimer and crisis lines:

* ``file``: the PDF cannot be read, or is encrypted.
* ``lang``, ``tagged``, ``title``: catalog ``/Lang``, ``/MarkInfo`` and
  ``/StructTreeRoot``, a title shown in the window title bar.
* ``stamp``: the text drawn inside pagination artifacts on the page holds the
  short disclaimer, 911, 988, both review months and "Page i of n".
* ``review``: the stamp's next review month is not past (only with ``today``).
* ``fonts``: every font program is embedded.
* ``artifact``: no text or image lies outside both the structure tree (a
  marked-content sequence with an MCID) and an artifact; the PDF/UA rule
  "neither artifact nor tagged". Form XObjects are followed: a form drawn
  inside an artifact or a tagged sequence belongs to it, and a form drawn
  outside both must mark its own content.

The build audits every PDF before publishing it, so the audit is kept cheap
(about 4% of WeasyPrint's time for the same document) by three fast paths, each
of which hands anything it is not sure of to the slow, general one:

* `pdfread.LazyReader` parses only the objects the rules touch, building plain
  dictionaries, arrays and streams from one regular expression's tokens
  (`_simple_object`); pypdf reads the rest.
* `_scan` steps through a content stream from one operator that matters to
  the next inside the regex engine; a literal string, a stray delimiter or an
  inline image sends the stream to the full tokenizer `operations`.
* the stamp forms' text is decoded through their fonts' ToUnicode maps; when
  that text lacks anything, pypdf's extractor reads the page again, so every
  stamp finding is pypdf's.
"""

from __future__ import annotations

import calendar
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
)

from handoutpress.errors import HandoutPressError, Problem
from handoutpress.load.brand import Brand
from handoutpress.pdf.reader import DELIMS as _DELIMS
from handoutpress.pdf.reader import LazyReader
from handoutpress.render.html import load_labels

TEXT_OPERATORS = {b"Tj", b"TJ", b"'", b'"'}
MAX_FORM_DEPTH = 12
RULES = ("file", "lang", "tagged", "title", "stamp", "review", "fonts", "artifact")


@dataclass
class AuditResult:
    file: str
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """The one line `verify` prints for this file: every finding, same ones on several pages merged."""
        if self.ok:
            return f"{self.file}: ok ({self.pages} pages stamped, tagged, fonts embedded)"
        grouped: dict[tuple[str, str], list[str]] = {}
        for p in self.problems:
            match = re.match(r"page (\d+): (.*)", p.message)
            page, message = (match[1], match[2]) if match else ("", p.message)
            grouped.setdefault((p.field or "", message), []).append(page)
        parts = []
        for (rule, message), pages in grouped.items():
            pages = [x for x in pages if x]
            where = (f"page {pages[0]}: " if len(pages) == 1 else f"pages {', '.join(pages)}: ") if pages else ""
            parts.append(f"{rule}: {where}{message}")
        return f"{self.file}: " + "; ".join(parts)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def audit_pdf(data: bytes, shown: str, brand: Brand, labels_dir: Path, today: date | None = None) -> AuditResult:
    """Check one PDF's bytes against the stamp and accessibility rules.

    ``today`` turns on the review rule; the build leaves it off, because an
    overdue handout is still built (and listed as overdue).
    """
    result = AuditResult(shown)
    try:
        reader = LazyReader(io.BytesIO(data))
        if reader.is_encrypted:
            result.problems.append(Problem(shown, "PDF is encrypted", field="file"))
            return result
        pages = reader.pages
        result.pages = len(pages)
        catalog = reader.trailer["/Root"].get_object()
    except Exception as exc:
        result.problems.append(Problem(shown, f"not a readable PDF: {type(exc).__name__}: {exc}", field="file"))
        return result

    def fail(rule: str, message: str, page: int | None = None) -> None:
        where = f"page {page}: " if page else ""
        result.problems.append(Problem(shown, where + message, field=rule))

    language = str(catalog.get("/Lang", "") or "")
    if not language:
        fail("lang", "no document language (/Lang)")
    mark_info = catalog.get("/MarkInfo")
    if not (isinstance(mark_info, DictionaryObject) and mark_info.get("/Marked")):
        fail("tagged", "not marked as a tagged PDF (/MarkInfo /Marked)")
    if "/StructTreeRoot" not in catalog:
        fail("tagged", "no structure tree (/StructTreeRoot)")
    title = (reader.metadata or {}).get("/Title")
    if not title:
        fail("title", "no document title")
    prefs = catalog.get("/ViewerPreferences")
    if not (isinstance(prefs, DictionaryObject) and prefs.get("/DisplayDocTitle")):
        fail("title", "title is not shown in the window title bar (/DisplayDocTitle)")

    # The stamp is checked in the PDF's own language; a language without labels
    # or brand wording is a finding, never a silent check against English.
    base_language = _stamp_language(language, labels_dir) if language else "en"
    try:
        wording = brand.wording(base_language)
        labels = load_labels(labels_dir, base_language)
    except HandoutPressError as exc:
        for problem in exc.problems:
            fail("lang", f"cannot check the stamp in language {base_language!r}: {problem}")
        return result
    disclaimer = _squash(wording.disclaimer_short)
    month = r"(\S+(?: de)? \d{4})"
    reviewed_re = re.compile(re.escape(labels["reviewed"]).replace(re.escape("{date}"), month))
    next_re = re.compile(re.escape(labels["next_review"]).replace(re.escape("{date}"), month))

    unembedded: set[str] = set()
    overdue_pages: list[int] = []
    due: date | None = None
    forms_read: dict[int, tuple] = {}
    decoded = _Decoded()
    fonts_seen: set[int] = set()

    def stamp_missing(text: str, page_of: str):
        """What the stamp text lacks, and the next-review match."""
        text = _squash(text)
        missing = [what for what, shown in (("disclaimer", disclaimer), ("911", "911"), ("988", "988")) if shown not in text]
        next_match = next_re.search(text)
        if not reviewed_re.search(text) or not next_match:
            missing.append("review months")
        if page_of not in text:
            missing.append("page number")
        return missing, next_match

    for number, page in enumerate(pages, start=1):
        page_of = labels["page_of"].format(page=number, pages=len(pages))
        try:
            walk = _walk_page(page)
            loose = walk.loose
            # The forms' own text, decoded with their fonts' ToUnicode maps, is
            # enough when it holds everything; otherwise pypdf's extractor has the
            # last word, so a finding is never the fast decoder's.
            if walk.inline_artifact_text:
                fast = _page_artifact_text(page, decoded)
            else:
                fast = _forms_text(walk.artifact_forms, decoded)
            missing, next_match = stamp_missing(fast, page_of) if fast is not None else (["?"], None)
            if missing:
                missing, next_match = stamp_missing(_artifact_text(page, walk, forms_read), page_of)
        except Exception as exc:
            fail("stamp", f"content cannot be read: {type(exc).__name__}: {exc}", number)
            continue
        if missing:
            fail("stamp", "stamp incomplete (in the pagination artifact): missing " + ", ".join(missing), number)
        if loose:
            fail(
                "artifact",
                f"{loose[0]} is neither tagged nor an artifact" + (f" (and {len(loose) - 1} more)" if len(loose) > 1 else ""),
                number,
            )
        if today is not None and next_match:
            due = _due_date(next_match.group(1), base_language)
            if due is not None and today > due:
                overdue_pages.append(number)
        unembedded |= _unembedded_fonts(page.get("/Resources"), fonts_seen)
    if overdue_pages and due is not None:
        where = "every page" if len(overdue_pages) == len(pages) else "pages " + ", ".join(map(str, overdue_pages))
        fail("review", f"review is overdue: next review was due by {due.isoformat()} ({where}; today is {today.isoformat()})")
    for name in sorted(unembedded):
        fail("fonts", f"font {name} is not embedded")
    return result


def _stamp_language(language: str, labels_dir: Path) -> str:
    """``es-MX`` uses labels/es-MX.yaml if there is one, else labels/es.yaml."""
    if (labels_dir / f"{language}.yaml").is_file():
        return language
    return language.split("-")[0]


def _due_date(text: str, language: str) -> date | None:
    """ "February 2026" / "febrero de 2026" -> the month's last day."""
    from babel.dates import get_month_names

    year = int(re.search(r"\d{4}", text)[0])
    word = text.split()[0].lower()
    for context in ("format", "stand-alone"):
        for number, name in get_month_names("wide", context=context, locale=language).items():
            if name.lower() == word:
                return date(year, number, calendar.monthrange(year, number)[1])
    return None


# ---------------------------------------------------------------------------
# Walking content streams


def _artifact_text(page, walk: _Walk, forms_read: dict | None = None) -> str:
    """The text a page draws inside artifacts, in drawing order.

    Fast path: the artifacts only draw forms (our stamp), so only those small
    forms are read for text, each form once per document (``forms_read``: the
    band form every page shares is read on the first page only). Text shown directly inside an artifact sends the
    whole page through pypdf's extractor, keeping what falls in artifacts.
    """
    if not walk.inline_artifact_text:
        parts = []
        for form in walk.artifact_forms:
            known = forms_read.get(id(form)) if forms_read is not None else None
            if known is None:
                holder = PageObject.create_blank_page(width=1, height=1)
                holder[NameObject("/Resources")] = form.get("/Resources") or DictionaryObject()
                holder.replace_contents(form)
                known = (form, holder.extract_text())  # the form is kept so its id stays its own
                if forms_read is not None:
                    forms_read[id(form)] = known
            parts.append(known[1])
        return " ".join(parts)
    depth: list[bool] = []  # one entry per open marked-content sequence: is it an artifact?
    found: list[str] = []

    def before(operator, operands, cm, tm):
        if operator in (b"BDC", b"BMC"):
            depth.append(bool(operands) and operands[0] == "/Artifact")
        elif operator == b"EMC" and depth:
            depth.pop()

    def text(chunk, cm, tm, font, size):
        if any(depth):
            found.append(chunk)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    return "".join(found)  # the pieces carry the spaces and line breaks pypdf puts between them


@dataclass
class _Walk:
    loose: list[str] = field(default_factory=list)  # drawn outside both tags and artifacts
    artifact_forms: list = field(default_factory=list)  # forms drawn inside artifacts (the stamp)
    inline_artifact_text: bool = False


def _walk_page(page) -> _Walk:
    """One pass over the page's content: what is loose, what the artifacts draw."""
    walk = _Walk()
    contents = page.get("/Contents")
    if contents is not None:
        contents = contents.get_object()
        streams = contents if isinstance(contents, ArrayObject) else [contents]
        data = b"\n".join(s.get_object().get_data() for s in streams)
        _walk(data, page.get("/Resources"), walk, set(), 0)
    return walk


def _walk(data: bytes, resources, walk: _Walk, forms: set[int], depth: int) -> None:
    resources = resources.get_object() if resources is not None else DictionaryObject()
    stack: list[str] = []  # per open sequence: "artifact", "tagged" or "other"
    for operator, operands in _walked_operations(data):
        if operator == b"EMC":
            if stack:
                stack.pop()
        elif operator == b"BDC" or operator == b"BMC":
            if isinstance(operands, bytes):
                plain = _PLAIN_MARK.fullmatch(operands)
                if plain is not None and (plain[2] is not None or operator == b"BMC"):
                    tagged = plain[2] is not None and operator == b"BDC"
                    stack.append("artifact" if plain[1] == b"Artifact" else "tagged" if tagged else "other")
                    continue
                operands = _operands(operands, operator)
            stack.append(_kind(operands, resources, operator))
        else:  # text, an XObject or an inline image
            if "tagged" in stack and "artifact" not in stack:
                continue
            if isinstance(operands, bytes):
                operands = _operands(operands, operator)
            if "artifact" in stack:
                if operator == b"Do":
                    form = _form(operands, resources)
                    if form is not None:
                        walk.artifact_forms.append(form)
                elif operator in TEXT_OPERATORS:
                    walk.inline_artifact_text = True
                continue
            if operator == b"Do":
                _walk_xobject(operands, resources, walk, forms, depth)
            elif operator == b"INLINE IMAGE":
                walk.loose.append("an inline image")
            elif _shows_ink(operands, operator):
                walk.loose.append(f"text {_sample(operands, operator)}")


def _form(operands, resources):
    xobjects = (resources.get("/XObject") or DictionaryObject()).get_object()
    if not operands or not isinstance(operands[0], str) or operands[0] not in xobjects:
        return None
    xobject = xobjects[operands[0]].get_object()
    return xobject if xobject.get("/Subtype") == "/Form" else None


def _kind(operands, resources, operator) -> str:
    if operands and operands[0] == "/Artifact":
        return "artifact"
    if operator == b"BDC" and len(operands) > 1:
        props = operands[1]
        if isinstance(props, str):  # a named property list in /Properties
            props = ((resources.get("/Properties") or DictionaryObject()).get_object()).get(props)
            props = props.get_object() if props is not None else None
        if isinstance(props, dict) and "/MCID" in props:
            return "tagged"
    return "other"


def _walk_xobject(operands, resources, walk: _Walk, forms, depth) -> None:
    xobjects = (resources.get("/XObject") or DictionaryObject()).get_object()
    name = operands[0] if operands and isinstance(operands[0], str) else None
    ref = xobjects.raw_get(name) if name is not None and name in xobjects else None
    if ref is None:
        return
    xobject = ref.get_object()
    subtype = xobject.get("/Subtype")
    if subtype == "/Image":
        walk.loose.append(f"image {name}")
        return
    if subtype != "/Form":
        return
    key = getattr(ref, "idnum", id(xobject))
    if key in forms or depth >= MAX_FORM_DEPTH:
        return
    forms.add(key)
    try:
        _walk(xobject.get_data(), xobject.get("/Resources") or resources, walk, forms, depth + 1)
    finally:
        forms.discard(key)


def _shown(operands, operator) -> list:
    items = operands[0] if operator == b"TJ" and operands and isinstance(operands[0], list) else operands[-1:]
    return [item for item in items if isinstance(item, _String)]


def _shows_ink(operands, operator) -> bool:
    return any(item.value() for item in _shown(operands, operator))


def _sample(operands, operator) -> str:
    raw = b"".join(item.value() for item in _shown(operands, operator))
    printable = raw.decode("latin-1") if raw.isascii() and raw.decode("latin-1").isprintable() else f"<{raw[:8].hex()}…>"
    return repr(printable[:30])


def _unembedded_fonts(resources, seen: set | None = None) -> set[str]:
    """Names of the fonts without a font program, in these resources and their forms'.

    ``seen`` (ids of resource dictionaries, font dictionaries, fonts and forms
    already looked at) may be shared by every page of a document, so the fonts
    and forms the pages share are looked at once.
    """
    seen = seen if seen is not None else set()
    out: set[str] = set()
    if resources is None:
        return out
    resources = resources.get_object()
    if id(resources) in seen:
        return out
    seen.add(id(resources))
    fonts = resources.get("/Font")
    fonts = fonts.get_object() if fonts is not None else None
    if isinstance(fonts, DictionaryObject) and id(fonts) not in seen:
        seen.add(id(fonts))
        for font in fonts.values():
            font = font.get_object()
            if id(font) in seen:
                continue
            seen.add(id(font))
            descriptors = []
            if font.get("/Subtype") == "/Type0":
                for descendant in font.get("/DescendantFonts", []):
                    descriptors.append(descendant.get_object().get("/FontDescriptor"))
            elif font.get("/Subtype") != "/Type3":
                descriptors.append(font.get("/FontDescriptor"))
            for descriptor in descriptors:
                descriptor = descriptor.get_object() if descriptor is not None else None
                if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    out.add(str(font.get("/BaseFont", "?")).lstrip("/"))
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if id(xobject) not in seen and xobject.get("/Subtype") == "/Form":
            seen.add(id(xobject))
            out |= _unembedded_fonts(xobject.get("/Resources"), seen)
    return out


# ---------------------------------------------------------------------------
# A content-stream tokenizer: just enough of the syntax to know where each
# operator is and what its operands are, without building pypdf objects.

_TOKEN = re.compile(
    rb"(?P<space>[\s]+|%[^\r\n]*)"
    rb"|(?P<dict><<)|(?P<enddict>>>)"
    rb"|(?P<hex><[0-9A-Fa-f\s]*>)"
    rb"|(?P<str>\()"
    rb"|(?P<array>\[)|(?P<endarray>\])"
    rb"|(?P<name>/[^" + _DELIMS + rb"]*)"
    rb"|(?P<number>[+-]?(?:\d+\.?\d*|\.\d+))(?=[" + _DELIMS + rb"]|$)"
    rb"|(?P<word>[^" + _DELIMS + rb"]+)"
    rb"|(?P<other>[{}>)])"
)
_PARENS = re.compile(rb"[()\\]")
_INLINE_END = re.compile(rb"(?<=\s)EI(?=[\s/\[\]()<>%]|$)")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\r\n]|.)", re.S)
_MARK = object()  # opens an array or a dictionary on the operand stack


class _String:
    """A string operand, decoded only when its bytes are needed."""

    __slots__ = ("raw", "hex")

    def __init__(self, raw: bytes, hex: bool):
        self.raw, self.hex = raw, hex

    def value(self) -> bytes:
        if self.hex:
            return _hex(self.raw)
        return _ESCAPE.sub(_unescape, self.raw)


def _unescape(match) -> bytes:
    code = match[1]
    if code[:1].isdigit():
        return bytes([int(code, 8) & 0xFF])
    if code in (b"\r\n", b"\r", b"\n"):
        return b""  # a backslash before a line break continues the line
    return _ESCAPES.get(code, code)


def _name(raw: bytes) -> str:
    if b"#" in raw:
        raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m[1], 16)]), raw)
    return raw.decode("latin-1")


def _string_end(data: bytes, start: int) -> int:
    """Index just past the literal string opening at ``start`` (balanced parens, escapes)."""
    depth, pos = 1, start + 1
    while True:
        found = _PARENS.search(data, pos)
        if found is None:
            return len(data)  # unterminated: the rest is the string
        char, pos = data[found.start()], found.end()
        if char == 0x5C:  # backslash: skip the escaped byte
            pos += 1
        elif char == 0x28:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


def _inline_image_end(data: bytes, pos: int) -> int:
    """Index just past ``EI`` for an inline image whose ``BI`` ends at ``pos``."""
    end = len(data)
    while pos < end:  # the image dictionary, up to the ID keyword
        found = _TOKEN.match(data, pos)
        if found is None:
            pos += 1
            continue
        pos = _string_end(data, found.start()) if found.lastgroup == "str" else found.end()
        if found.lastgroup == "word" and found[0] == b"ID":
            image_end = _INLINE_END.search(data, pos + 1)
            return image_end.end() if image_end is not None else end
    return end


def operations(data: bytes):
    """Yield ``(operator, operands)`` for a decompressed content stream.

    Operators are bytes (``b"BDC"``); an inline image is ``b"INLINE IMAGE"``.
    Operands: names as ``str`` (``"/Artifact"``), numbers as ``float``,
    strings as `_String`, arrays as lists, dictionaries as dicts with name keys.
    """
    stack: list = []
    pos, end = 0, len(data)
    match_at = _TOKEN.match
    while pos < end:
        found = match_at(data, pos)
        if found is None:  # a stray byte no token starts with
            pos += 1
            continue
        kind, pos = found.lastgroup, found.end()
        if kind == "space":
            continue
        if kind == "word":
            word = found[0]
            if word == b"BI":
                pos = _inline_image_end(data, pos)
                stack = []
                yield b"INLINE IMAGE", []
            elif word in (b"true", b"false", b"null"):
                stack.append(word == b"true" if word != b"null" else None)
            else:
                yield word, stack
                stack = []
        elif kind == "name":
            stack.append(_name(found[0]))
        elif kind == "number":
            stack.append(float(found[0]))
        elif kind == "hex":
            stack.append(_String(found[0][1:-1], True))
        elif kind == "str":
            close = _string_end(data, pos - 1)
            stack.append(_String(data[pos : close - 1], False))
            pos = close
        elif kind in ("array", "dict"):
            stack.append(_MARK)
        elif kind in ("endarray", "enddict"):
            items = []
            while stack and stack[-1] is not _MARK:
                items.append(stack.pop())
            if stack:
                stack.pop()
            items.reverse()
            if kind == "endarray":
                stack.append(items)
            else:
                stack.append({k: v for k, v in zip(items[::2], items[1::2], strict=False) if isinstance(k, str)})


# ---------------------------------------------------------------------------
# The fast scan: one regular expression steps from one operator that matters
# to the next, passing over everything else (paths, colours, text positioning,
# the operands of TJ arrays) inside the regex engine. It only speaks when the
# whole stream is made of tokens it knows (names, numbers, hex strings, arrays,
# dictionaries, comments, operators); a literal string, a stray delimiter or an
# inline image sends the stream to `operations`, which knows the whole syntax.
# Its tokens are the tokenizer's tokens, tried in the same order, so where it
# speaks it says what `operations` says (tests/test_audit_speed.py checks).

_REGULAR = rb"[^" + _DELIMS + rb"]"
# Each alternative starts with bytes no other one starts with, so their order
# (the most frequent first) cannot change where a token ends.
_OPERAND = (
    rb"(?:<[0-9A-Fa-f\s]*+>|[+-]?+(?:\d++\.?+\d*+|\.\d++)(?!" + _REGULAR + rb")|[\s\[\]]++|/" + _REGULAR + rb"*+"
    rb"|<<|>>|%[^\r\n]*+|(?:true|false|null)(?!" + _REGULAR + rb"))*+"
)


def _scanner(operators: tuple[bytes, ...]) -> tuple[re.Pattern, re.Pattern]:
    """(step to the next of ``operators`` with its operand bytes, the rest of the stream without one)."""
    chosen = rb"(?:" + rb"|".join(re.escape(op) for op in operators) + rb")(?!" + _REGULAR + rb")"
    other = rb"(?:" + _OPERAND + rb"(?!" + chosen + rb")" + _REGULAR + rb"++)*+"
    step = re.compile(other + rb"(?P<args>" + _OPERAND + rb")(?P<op>" + chosen + rb")")
    tail = re.compile(other + _OPERAND)
    return step, tail


_WALKED = (b"BDC", b"BMC", b"EMC", b"Tj", b"TJ", b"'", b'"', b"Do", b"BI")
_TEXT = (b"Tf", b"Tj", b"TJ", b"'", b'"', b"BT", b"Tm", b"Td", b"TD", b"T*", b"Do", b"BI")
_MARKS = (b"BDC", b"BMC", b"EMC")
_SCAN_WALKED = _scanner(_WALKED)
_SCAN_TEXT = _scanner(_TEXT)
_SCAN_ARTIFACT_TEXT = _scanner(_TEXT + _MARKS)
_PLAIN_MARK = re.compile(rb"\s*/([A-Za-z0-9_.\-]+)\s*(?:<<\s*/MCID\s+(\d+)\s*>>\s*)?")


def _scan(data: bytes, scanner: tuple[re.Pattern, re.Pattern]) -> list[tuple[bytes, bytes]] | None:
    """``(operator, operand bytes)`` for each chosen operator, or None if the fast scan cannot be sure."""
    step, tail = scanner
    found = []
    pos = 0
    while True:
        match = step.match(data, pos)
        if match is None:
            break
        operator = match["op"]
        if operator == b"BI":
            return None
        found.append((operator, match["args"]))
        pos = match.end()
    return found if tail.fullmatch(data, pos) is not None else None


def _operands(args: bytes, operator: bytes) -> list:
    """The operands in ``args`` (bytes from the fast scan), as `operations` gives them."""
    return list(operations(args + b" " + operator))[-1][1]


def _walked_operations(data: bytes):
    """The operators the walk acts on; operands as bytes (fast scan) or parsed (`operations`)."""
    found = _scan(data, _SCAN_WALKED)
    if found is not None:
        return found
    wanted = set(_WALKED) | {b"INLINE IMAGE"}
    return [(operator, operands) for operator, operands in operations(data) if operator in wanted]


# ---------------------------------------------------------------------------
# Stamp text straight from the forms: glyph codes through the font's ToUnicode.


class _Decoded:
    """Per document: each form's text and each font's code map, read once."""

    def __init__(self) -> None:
        self.forms: dict[int, tuple] = {}
        self.fonts: dict[int, tuple] = {}


def _forms_text(forms: list, decoded: _Decoded) -> str | None:
    """The text of the forms drawn in artifacts, or None where a form's text cannot be decoded here."""
    parts = []
    for form in forms:
        known = decoded.forms.get(id(form))
        if known is None:
            try:
                text = _form_text(form, decoded)
            except Exception:
                text = None
            known = decoded.forms[id(form)] = (form, text)  # the form is kept so its id stays its own
        if known[1] is None:
            return None
        parts.append(known[1])
    return " ".join(parts)


_MOVES = {b"BT", b"Tm", b"Td", b"TD", b"T*"}
_NUMBER = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_SIMPLE_SHOW = re.compile(rb"\s*(?:<[0-9A-Fa-f\s]*>|(\[)(?:<[0-9A-Fa-f\s]*>|" + _NUMBER + rb"|\s)*\])\s*")
_SHOWN_ITEM = re.compile(rb"<([0-9A-Fa-f\s]*)>|(" + _NUMBER + rb")")


def _page_artifact_text(page, decoded: _Decoded) -> str | None:
    """The text a page draws inside artifacts, decoded here: from the content streams
    holding an artifact (the stamp's own stream: the band's form and the page's
    number), each read on its own; None where that cannot be sure."""
    contents = page.get("/Contents")
    if contents is None:
        return None
    contents = contents.get_object()
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    parts = []
    for stream in contents if isinstance(contents, ArrayObject) else [contents]:
        data = stream.get_object().get_data()
        if b"/Artifact" in data:
            text = _text_of(data, resources, decoded, artifacts_only=True)
            if text is None:
                return None
            parts.append(text)
    return " ".join(parts)


def _form_text(form, decoded: _Decoded) -> str | None:
    resources = form.get("/Resources")
    resources = resources.get_object() if resources is not None else DictionaryObject()
    return _text_of(form.get_data(), resources, decoded)


def _text_of(data: bytes, resources, decoded: _Decoded, *, artifacts_only: bool = False) -> str | None:
    """The text ``data`` shows, through its fonts' ToUnicode maps; None where pypdf's extractor must decide.

    ``artifacts_only``: page content, of which only what lies inside artifacts
    counts; a form drawn there counts with its text (`_forms_text`).
    """
    scanner = _SCAN_ARTIFACT_TEXT if artifacts_only else _SCAN_TEXT
    found = _scan(data, scanner)
    if found is None:
        wanted = set(_TEXT + _MARKS if artifacts_only else _TEXT) | {b"INLINE IMAGE"}
        found = [(operator, operands) for operator, operands in operations(data) if operator in wanted]
    fonts = (resources.get("/Font") or DictionaryObject()).get_object()
    font = None
    pieces: list[str] = []
    moved = False
    marks: list[bool] = []  # per open marked-content sequence: is it an artifact?
    for operator, operands in found:
        if operator in _MARKS:
            if operator == b"EMC":
                if not marks:
                    return None  # closes a sequence opened elsewhere
                marks.pop()
            else:
                if isinstance(operands, bytes):  # the fast scan's operand bytes
                    marks.append(re.match(rb"\s*/Artifact(?![^\s/<\[(])", operands) is not None)
                else:
                    marks.append(bool(operands) and operands[0] == "/Artifact")
            continue
        if artifacts_only and not any(marks) and operator != b"Tf":
            continue
        if operator in _MOVES:
            moved = True
            continue
        if operator == b"Do" and artifacts_only:
            form = _form(_operands(operands, operator) if isinstance(operands, bytes) else operands, resources)
            text = _forms_text([form], decoded) if form is not None else None
            if text is None:
                return None
            pieces.append(text + " ")
            continue
        if operator in (b"Do", b"BI", b"INLINE IMAGE"):
            return None  # a form inside the form, or an image: pypdf's extractor decides
        if isinstance(operands, bytes):
            simple = _SIMPLE_SHOW.fullmatch(operands) if operator in (b"Tj", b"TJ") else None
            if simple is not None and (simple[1] is None) == (operator == b"Tj"):
                # hex strings and numbers only (the scan has checked every token)
                operands = [[float(n) if n else _String(h, True) for h, n in _SHOWN_ITEM.findall(operands)]]
                operands = operands if operator == b"TJ" else operands[0]
            else:
                operands = _operands(operands, operator)
        if operator == b"Tf":
            name = operands[0] if operands and isinstance(operands[0], str) else None
            font = _code_map(fonts.raw_get(name), decoded) if name in fonts else None
            continue
        if font is None:
            return None
        if operator in (b"'", b'"'):
            moved = True
        items = operands[0] if operator == b"TJ" and operands and isinstance(operands[0], list) else operands[-1:]
        run = []
        for item in items:
            if isinstance(item, _String):
                text = _decode(item.value(), font)
                if text is None:
                    return None
                run.append(text)
            elif isinstance(item, float) and item <= -250:  # a gap of a quarter em or more reads as a space
                run.append(" ")
        if moved and pieces:
            pieces.append(" ")
        moved = False
        pieces.append("".join(run))
    return "".join(pieces)


def _code_map(reference, decoded: _Decoded):
    """(code width in bytes, code -> text, ranges) from a font's ToUnicode CMap, or None."""
    key = getattr(reference, "idnum", None)
    font = reference.get_object()
    key = key if key is not None else id(font)
    if key in decoded.fonts:
        return decoded.fonts[key][1]
    found = None
    stream = font.get("/ToUnicode")
    if stream is not None:
        found = _parse_cmap(stream.get_object().get_data(), 2 if font.get("/Subtype") == "/Type0" else 1)
    decoded.fonts[key] = (font, found)
    return found


_CMAP_SECTION = re.compile(rb"begin(codespacerange|bfchar|bfrange)(.*?)end\1", re.S)
_CMAP_ITEM = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]")


def _hex(text: bytes) -> bytes:
    """Hex digits to bytes: white space anywhere, a missing last digit is 0."""
    try:
        return bytes.fromhex(text.decode("latin-1"))  # white space between pairs only
    except ValueError:
        digits = re.sub(rb"\s", b"", text)
        return bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode("latin-1"))


def _utf16(raw: bytes) -> str:
    return raw.decode("utf-16-be", errors="replace")


def _parse_cmap(data: bytes, width: int):
    widths: set[int] = set()
    chars: dict[bytes, str] = {}
    ranges: list[tuple[int, int, int, bytes | list[bytes]]] = []  # (width, low, high, first target or targets)
    for section, body in _CMAP_SECTION.findall(data):
        tokens = []  # hex strings as bytes, arrays as lists
        array = None
        for match in _CMAP_ITEM.finditer(body):
            if match[0] == b"[":
                array = []
            elif match[0] == b"]":
                tokens.append(array if array is not None else [])
                array = None
            elif array is not None:
                array.append(_hex(match[1]))
            else:
                tokens.append(_hex(match[1]))
        if section == b"codespacerange":
            widths |= {len(t) for t in tokens if isinstance(t, bytes)}
        elif section == b"bfchar":
            for source, target in zip(tokens[::2], tokens[1::2], strict=False):
                if isinstance(source, bytes) and isinstance(target, bytes):
                    chars[source] = _utf16(target)
        else:
            for low, high, target in zip(tokens[::3], tokens[1::3], tokens[2::3], strict=False):
                if isinstance(low, bytes) and isinstance(high, bytes) and len(low) == len(high):
                    ranges.append((len(low), int.from_bytes(low, "big"), int.from_bytes(high, "big"), target))
    if widths:
        if len(widths) != 1:
            return None  # codes of mixed lengths: left to pypdf
        width = widths.pop()
    return width, chars, ranges


def _decode(raw: bytes, code_map) -> str | None:
    width, chars, ranges = code_map
    if len(raw) % width:
        return None
    out = []
    for i in range(0, len(raw), width):
        code = raw[i : i + width]
        text = chars.get(code)
        if text is None:
            number = int.from_bytes(code, "big")
            for size, low, high, target in ranges:
                if size == width and low <= number <= high:
                    if isinstance(target, list):
                        text = _utf16(target[number - low]) if number - low < len(target) else None
                    else:
                        last = int.from_bytes(target[-2:], "big") + number - low if len(target) >= 2 else None
                        text = _utf16(target[:-2] + last.to_bytes(2, "big")) if last is not None and last <= 0xFFFF else None
                    break
            if text is None:
                return None
            chars[code] = text
        out.append(text)
    return "".join(out)
