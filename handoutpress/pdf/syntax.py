"""The lexical layer of PDF syntax, once for the whole package: which bytes end
a token, how names, literal strings, hex strings and numbers are written, and
one content-stream tokenizer.

Everything that reads PDF syntax by hand uses these pieces: the object reader
(`handoutpress.pdf.reader`), the audit's walk through page content
(`handoutpress.verify`), and the stamp, which reads its kit's content and
rewrites the strings it shows.

Content streams
---------------
`operations(data, wanted)` yields ``(operands, operator)`` for each operator
of a decompressed content stream, in order, as pypdf's ``ContentStream`` does,
without building pypdf objects:

* operators are bytes (``b"BDC"``); an inline image (``BI ... ID ... EI``) is
  one operation, `INLINE_IMAGE`, with no operands, its data skipped;
* operands are a list: names as ``str`` (``"/Artifact"``, ``#xx`` escapes
  decoded), numbers as ``float``, strings as `PdfString`, arrays as lists,
  dictionaries as dicts with name keys, ``true``/``false`` as bool, ``null``
  as None.

Given ``wanted`` (a collection of operators), only those operations are
yielded (`INLINE_IMAGE` among them if it is wanted). Then a fast scan is tried
first: one regular expression steps from one wanted operator to the next,
passing over everything else (paths, colours, text positioning) inside the
regex engine, and only the wanted operators' operands are built. It speaks
only when the whole stream is made of tokens it knows (names, numbers, hex
strings, arrays, dictionaries, comments, operators); a literal string, a
stray delimiter or an inline image sends the stream to the full tokenizer,
which knows the whole syntax. Both say the same thing where both speak
(tests/pdf/test_syntax.py checks). Malformed input never raises: a stray
byte is skipped, an unterminated string runs to the end.

Rewriting shown text
--------------------
`text_operations(data)` yields a `TextOperation` for each font selection
(``Tf``) and each text-showing operator (``Tj``, ``TJ``, ``'``, ``"``) with
the byte span it occupies, the font in effect and the shown pieces, numbers
as written. A caller that rewrites the text (the stamp moving glyphs between
fonts, or renaming fonts) builds a replacement for the spans it cares about
and hands them to `splice`, which copies every other byte unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# ---------------------------------------------------------------------------
# Character classes and token grammars, as bytes for regular expressions.

WHITE_SPACE = rb"\s"  # the white space our readers accept between tokens
DELIMITERS = rb"()<>\[\]{}/%"  # the bytes that open or close a token
TOKEN_END = WHITE_SPACE + DELIMITERS  # inside [...]: any byte that ends a name, a number or an operator
REGULAR = rb"[^" + TOKEN_END + rb"]"  # one byte of a name, a number or an operator
NAME = rb"/" + REGULAR + rb"*"
NUMBER = rb"[+-]?+(?:\d++\.?+\d*+|\.\d++)"  # possessive: a number never gives back digits
HEX_STRING = rb"<[0-9A-Fa-f\s]*>"

INLINE_IMAGE = b"INLINE IMAGE"  # the operator `operations` gives an inline image
TEXT_SHOWING = frozenset({b"Tj", b"TJ", b"'", b'"'})

Operand = Any  # str | float | bool | None | PdfString | list[Operand] | dict[str, Operand]


# ---------------------------------------------------------------------------
# Names, strings and numbers


def decode_hex(digits: bytes) -> bytes:
    """The bytes a hex string's digits (without ``< >``) stand for: white space
    anywhere is ignored, and a missing last digit is 0 (PDF 1.7, 7.3.4.3)."""
    try:
        return bytes.fromhex(digits.decode("latin-1"))  # fast: white space between pairs only
    except ValueError:
        packed = re.sub(rb"\s", b"", digits)
        return bytes.fromhex((packed + b"0" * (len(packed) % 2)).decode("latin-1"))


_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


def decode_name(raw: bytes) -> str:
    """``/Art#69fact`` -> ``"/Artifact"``: a name as written, its ``#xx`` escapes decoded."""
    if b"#" in raw:
        raw = _NAME_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), raw)
    return raw.decode("latin-1")


_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"(": b"(", b")": b")", b"\\": b"\\"}
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\r\n]|.)", re.S)
_PARENS = re.compile(rb"[()\\]")


def _unescape(match: re.Match[bytes]) -> bytes:
    code = match[1]
    if code[:1].isdigit():
        return bytes([int(code, 8) & 0xFF])
    if code in (b"\r\n", b"\r", b"\n"):
        return b""  # a backslash before a line break continues the line
    return _ESCAPES.get(code, code)


def decode_literal(body: bytes) -> bytes:
    r"""The bytes of a literal string's body (between its outer parentheses):
    ``\n``, ``\(``, octal ``\101`` and the other escapes decoded."""
    return _ESCAPE.sub(_unescape, body) if b"\\" in body else body


def literal_end(data: bytes, start: int) -> int:
    """Index just past the literal string whose ``(`` is at ``start``: nested
    parentheses balance, a backslash escapes the next byte; an unterminated
    string runs to the end of ``data``."""
    depth, pos = 1, start + 1
    while True:
        found = _PARENS.search(data, pos)
        if found is None:
            return len(data)
        char, pos = data[found.start()], found.end()
        if char == 0x5C:  # backslash: skip the escaped byte
            pos += 1
        elif char == 0x28:
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return pos


class PdfString:
    """A string operand as written (``raw``: between its delimiters), decoded
    only when its bytes are needed (`value`)."""

    __slots__ = ("raw", "hex")

    def __init__(self, raw: bytes, hex: bool) -> None:
        self.raw, self.hex = raw, hex

    def value(self) -> bytes:
        """The string's bytes (for text: glyph codes, to decode through the font)."""
        return decode_hex(self.raw) if self.hex else decode_literal(self.raw)

    def __repr__(self) -> str:
        return f"PdfString({self.value()!r})"


# ---------------------------------------------------------------------------
# The full tokenizer

_TOKEN = re.compile(
    rb"(?P<space>\s+|%[^\r\n]*)"
    rb"|(?P<dict><<)|(?P<enddict>>>)"
    rb"|(?P<hex>" + HEX_STRING + rb")"
    rb"|(?P<str>\()"
    rb"|(?P<array>\[)|(?P<endarray>\])"
    rb"|(?P<name>" + NAME + rb")"
    rb"|(?P<number>" + NUMBER + rb")(?=[" + TOKEN_END + rb"]|$)"
    rb"|(?P<word>" + REGULAR + rb"+)"
    rb"|(?P<other>[{}>)])"
)
_INLINE_END = re.compile(rb"(?<=\s)EI(?=[" + TOKEN_END + rb"]|$)")
_MARK = object()  # opens an array or a dictionary on the operand stack
_KEYWORDS = {b"true": True, b"false": False, b"null": None}


def _inline_image_end(data: bytes, pos: int) -> int:
    """Index just past ``EI`` for an inline image whose ``BI`` ends at ``pos``."""
    end = len(data)
    while pos < end:  # the image dictionary, up to the ID keyword
        found = _TOKEN.match(data, pos)
        if found is None:
            pos += 1
            continue
        pos = literal_end(data, found.start()) if found.lastgroup == "str" else found.end()
        if found.lastgroup == "word" and found[0] == b"ID":
            image_end = _INLINE_END.search(data, pos + 1)
            return image_end.end() if image_end is not None else end
    return end


def _close(stack: list, kind: str) -> None:
    """Pop back to the innermost open mark and push the array or dictionary it opened."""
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


def _tokenize(data: bytes, number: Callable[[bytes], Any] = float) -> Iterator[tuple[list, bytes, int, int]]:
    """``(operands, operator, where the operands start, where the operator ends)``
    for every operator; ``number`` builds a number operand from its bytes."""
    stack: list = []
    start = -1  # where the first operand on the stack begins
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
        if start < 0 and kind != "other":
            start = found.start()
        if kind == "word":
            word = found[0]
            if word == b"BI":
                pos = _inline_image_end(data, pos)
                stack = []
                yield [], INLINE_IMAGE, start, pos
            elif word in _KEYWORDS:
                stack.append(_KEYWORDS[word])
                continue
            else:
                yield stack, word, start, pos
                stack = []
            start = -1
        elif kind == "name":
            stack.append(decode_name(found[0]))
        elif kind == "number":
            stack.append(number(found[0]))
        elif kind == "hex":
            stack.append(PdfString(found[0][1:-1], True))
        elif kind == "str":
            close = literal_end(data, pos - 1)
            stack.append(PdfString(data[pos : close - 1], False))
            pos = close
        elif kind in ("array", "dict"):
            stack.append(_MARK)
        elif kind in ("endarray", "enddict"):
            _close(stack, kind)


# ---------------------------------------------------------------------------
# The fast scan. Its tokens are the tokenizer's tokens; each alternative
# starts with bytes no other one starts with, so their order (the most
# frequent first) cannot change where a token ends.

_OPERAND = (
    rb"(?:<[0-9A-Fa-f\s]*+>|" + NUMBER + rb"(?!" + REGULAR + rb")|[\s\[\]]++|/" + REGULAR + rb"*+"
    rb"|<<|>>|%[^\r\n]*+|(?:true|false|null)(?!" + REGULAR + rb"))*+"
)


_NO_OPERANDS: tuple[Operand, ...] = ()


@dataclass(frozen=True)
class _Scanner:
    step: re.Pattern[bytes]  # to the next chosen operator, its operand bytes in group "args"
    tail: re.Pattern[bytes]  # the rest of the stream, holding no chosen operator


_SCANNERS: dict[frozenset[bytes], _Scanner] = {}  # compiled once per set of wanted operators


def _scanner(wanted: frozenset[bytes]) -> _Scanner:
    found = _SCANNERS.get(wanted)
    if found is None:
        # BI is always chosen: inline image data may hold anything, so the scan gives up there
        chosen_ops = sorted((wanted - {INLINE_IMAGE}) | {b"BI"})
        chosen = rb"(?:" + rb"|".join(re.escape(op) for op in chosen_ops) + rb")(?!" + REGULAR + rb")"
        other = rb"(?:" + _OPERAND + rb"(?!" + chosen + rb")" + REGULAR + rb"++)*+"
        found = _Scanner(
            re.compile(other + rb"(?P<args>" + _OPERAND + rb")(?P<op>" + chosen + rb")"), re.compile(other + _OPERAND)
        )
        _SCANNERS[wanted] = found
    return found


def fast_scan(data: bytes, wanted: frozenset[bytes]) -> list[tuple[Sequence[Operand], bytes]] | None:
    """The fast scan alone: ``(operands, operator)`` for each operator in ``wanted``, or None
    where it cannot be sure and the full tokenizer must read ``data`` (`operations` does both)."""
    scanner = _scanner(wanted)
    step = scanner.step.match
    found: list[tuple[Sequence[Operand], bytes]] = []
    append = found.append
    pos = 0
    while True:
        match = step(data, pos)
        if match is None:
            break
        args, operator = match.groups()
        if operator == b"BI":
            return None
        # most operators the scan stops at (EMC, BT, T*) have no operands at all
        append(((_NO_OPERANDS if not args or args.isspace() else Operands(args)), operator))
        pos = match.end()
    return found if scanner.tail.fullmatch(data, pos) is not None else None


# The operand bytes the scan hands over hold only these tokens (it has checked).
# A comment matches no group, so `findall` steps over it instead of reading names out of it.
_SCANNED_TOKEN = re.compile(
    rb"%[^\r\n]*|(/" + REGULAR + rb"*)|(" + NUMBER + rb")|(" + HEX_STRING + rb")|(<<|\[)|(>>)|(\])|(true|false|null)"
)
_SHOWN_ARRAY = re.compile(rb"\s*\[(?:" + HEX_STRING + rb"|" + NUMBER + rb"|\s)*\]\s*")  # a TJ array of hex strings and numbers
_SHOWN_ITEM = re.compile(rb"<([0-9A-Fa-f\s]*)>|(" + NUMBER + rb")")


_MARK_SHAPE = re.compile(rb"\s*(/[A-Za-z0-9_.\-]+)\s*(?:<<\s*/MCID\s+(\d+)\s*>>\s*)?")  # /P or /P <</MCID 3>>


def _scanned_operands(args: bytes) -> list:
    """The operands in ``args`` (bytes the fast scan vouched for), as the tokenizer builds them."""
    # The two most frequent shapes by far, built straight from one match:
    # a TJ array of hex strings and numbers, and a tag with at most an MCID.
    if _SHOWN_ARRAY.fullmatch(args) is not None:
        return [[float(n) if n else PdfString(h, True) for h, n in _SHOWN_ITEM.findall(args)]]
    mark = _MARK_SHAPE.fullmatch(args)
    if mark is not None:
        return [mark[1].decode("latin-1"), {"/MCID": float(mark[2])}] if mark[2] is not None else [mark[1].decode("latin-1")]
    stack: list = []
    for name, number, hexed, opening, end_dict, end_array, word in _SCANNED_TOKEN.findall(args):
        if name:
            stack.append(decode_name(name))
        elif number:
            stack.append(float(number))
        elif hexed:
            stack.append(PdfString(hexed[1:-1], True))
        elif opening:
            stack.append(_MARK)
        elif end_dict:
            _close(stack, "enddict")
        elif end_array:
            _close(stack, "endarray")
        elif word:
            stack.append(_KEYWORDS[word])
    return stack


class Operands(Sequence[Operand]):
    """The operands of one operation found by the fast scan, built the first time
    they are looked at: most operations a caller asks for are passed over
    (text inside tagged content, for the audit), and building their operands
    would cost more than the scan itself."""

    __slots__ = ("_args", "_items")

    def __init__(self, args: bytes) -> None:
        self._args = args
        self._items: list | None = None

    def _built(self) -> list:
        items = self._items
        if items is None:
            items = self._items = _scanned_operands(self._args)
        return items

    def __getitem__(self, index: Any) -> Any:
        return self._built()[index]

    def __len__(self) -> int:
        return len(self._built())

    def __iter__(self) -> Iterator[Operand]:
        return iter(self._built())

    def __repr__(self) -> str:
        return repr(self._built())


def operations(data: bytes, wanted: Collection[bytes] | None = None) -> Iterator[tuple[Sequence[Operand], bytes]]:
    """``(operands, operator)`` for each operation of a decompressed content stream, in order
    (see the module's docstring).

    ``wanted``: only these operators (`INLINE_IMAGE` for inline images); the
    fast scan is tried first, and their operands are built only when looked
    at (`Operands`). Callers keep ``wanted`` as a module-level frozenset, so
    its scanner is looked up, not rebuilt.
    """
    if wanted is None:
        return ((operands, operator) for operands, operator, _, _ in _tokenize(data))
    chosen = wanted if isinstance(wanted, frozenset) else frozenset(wanted)
    found = fast_scan(data, chosen)
    if found is not None:
        return iter(found)  # a list's iterator: no generator frame to resume per operation
    return ((operands, operator) for operands, operator, _, _ in _tokenize(data) if operator in chosen)


# ---------------------------------------------------------------------------
# Text operations with their spans, for rewriting content


@dataclass(frozen=True)
class TextOperation:
    """A font selection (``Tf``) or a text-showing operator in a content stream, and where it lies.

    ``data[start:end]`` is the whole operation, from its first operand to the
    end of its operator, so `splice` can put something else in its place.
    ``font`` is the font resource name in effect (for ``Tf``, the one it
    selects; ``""`` before any ``Tf``) and ``size`` its size as written there
    (``b"9"``, ``b"10.5"``; ``b""`` before any ``Tf``). ``font_span`` is, for a
    ``Tf``, where its font's name is written (to rename the font, keeping the
    rest as written); None for the others. ``pieces`` are, for a show, the
    strings it shows and, in a ``TJ`` array, each position adjustment as
    written (bytes such as ``b"-250"``), in order; empty for ``Tf``.
    """

    operator: bytes
    start: int
    end: int
    font: str
    size: bytes
    font_span: tuple[int, int] | None
    pieces: tuple[PdfString | bytes, ...]


_NAME_AT = re.compile(NAME)


def text_operations(data: bytes) -> Iterator[TextOperation]:
    """Every ``Tf`` and every ``Tj``, ``TJ``, ``'`` and ``"`` of ``data``, in order (see `TextOperation`).

    The stamp uses it to read its kit's shown glyphs and to rewrite the band:
    a run whose glyphs move to another font is replaced by pieces with a
    ``Tf`` before each; a ``Tf`` is replaced to rename its font.
    """
    font, size = "", b""
    for operands, operator, start, end in _tokenize(data, number=bytes):
        if operator == b"Tf":
            name = operands[0] if len(operands) == 2 and isinstance(operands[0], str) else None
            if name is None or not isinstance(operands[1], bytes):
                continue  # not a font selection this reader understands
            font, size = name, operands[1]
            at = _NAME_AT.match(data, start)
            span = (start, at.end()) if at is not None else None
            yield TextOperation(operator, start, end, font, size, span, ())
        elif operator in TEXT_SHOWING:
            shown = operands[0] if operator == b"TJ" and operands and isinstance(operands[0], list) else operands[-1:]
            pieces = tuple(item for item in shown if isinstance(item, (PdfString, bytes)))
            yield TextOperation(operator, start if start >= 0 else end - len(operator), end, font, size, None, pieces)


def splice(data: bytes, replacements: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``data`` with each ``(start, end, new bytes)`` span replaced, every other byte kept.

    The spans must be in order and not overlap (those of `text_operations` are).
    """
    out, pos = [], 0
    for start, end, new in replacements:
        out.append(data[pos:start])
        out.append(new)
        pos = end
    if not out:
        return data
    out.append(data[pos:])
    return b"".join(out)
