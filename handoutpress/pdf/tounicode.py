"""ToUnicode CMaps, read once for the whole package: which text each glyph code
of a font stands for (PDF 1.7, 9.10.3).

A CMap says how long its codes are (``begincodespacerange``), maps single codes
(``beginbfchar``) and ranges of codes (``beginbfrange``), either to a first
target that counts up (``<0010> <0012> <0041>``: A, B, C) or to an array of
targets, one per code. Targets are UTF-16BE: one code may stand for several
characters (a ligature glyph reads "fi") or for a character beyond the Basic
Multilingual Plane (U+1F600 written as the surrogate pair D83D DE00).

`read_to_unicode(font)` reads a pypdf font dictionary's map; the audit decodes
the stamp's text with `ToUnicode.decode`. `to_unicode(font)` gives the same map
as a plain ``code -> text`` dict, for the stamp, which compares the body's and
the kit's glyphs code by code.
"""

from __future__ import annotations

import re
from typing import Any

from handoutpress.pdf.syntax import HEX_STRING, decode_hex

_SECTION = re.compile(rb"begin(codespacerange|bfchar|bfrange)(.*?)end\1", re.S)
_ITEM = re.compile(HEX_STRING + rb"|\[|\]")

# A bfrange: (code length in bytes, first code, last code, first target or one target per code)
_Range = tuple[int, int, int, "bytes | list[bytes]"]


def _text(target: bytes) -> str:
    """A UTF-16BE target as text (surrogate pairs joined; a broken unit becomes U+FFFD)."""
    return target.decode("utf-16-be", errors="replace")


class ToUnicode:
    """One font's map from glyph codes to text.

    ``code_length`` is how many bytes each code of a shown string takes, or
    None where the codespace ranges mix lengths (`decode` then declines).
    Codes found in ranges are remembered, so a map is cheap to ask again.
    """

    def __init__(self, code_length: int | None, lengths: tuple[int, ...], chars: dict[bytes, str], ranges: list[_Range]):
        self.code_length = code_length
        self._lengths = lengths  # every code length the map uses, shortest first
        self._chars = chars  # code bytes -> text
        self._ranges = ranges

    def lookup(self, code: bytes) -> str | None:
        """The text of one code, given as the bytes a string shows; None if the map has none."""
        text = self._chars.get(code)
        if text is not None:
            return text
        number = int.from_bytes(code, "big")
        for size, low, high, target in self._ranges:
            if size == len(code) and low <= number <= high:
                text = _in_range(target, number - low)
                break
        if text is not None:
            self._chars[code] = text
        return text

    def get(self, code: int, default: str | None = None) -> str | None:
        """The text of the code numbered ``code`` (as a code of the map's length), or ``default``."""
        for length in self._lengths:
            if code < 1 << (8 * length):
                text = self.lookup(code.to_bytes(length, "big"))
                if text is not None:
                    return text
        return default

    def decode(self, shown: bytes) -> str | None:
        """The text a shown string's bytes stand for; None where a code is unmapped or codes mix lengths."""
        width = self.code_length
        if width is None or len(shown) % width:
            return None
        out = []
        for i in range(0, len(shown), width):
            text = self.lookup(shown[i : i + width])
            if text is None:
                return None
            out.append(text)
        return "".join(out)

    def as_dict(self) -> dict[int, str]:
        """Every code the map knows, by number, with its text (bfchar entries win over ranges, as in `lookup`)."""
        out: dict[int, str] = {}
        for _, low, high, target in reversed(self._ranges):  # the first range holding a code wins
            for number in range(low, high + 1):
                text = _in_range(target, number - low)
                if text is not None:
                    out[number] = text
        out.update((int.from_bytes(code, "big"), text) for code, text in self._chars.items())
        return out


def _in_range(target: bytes | list[bytes], offset: int) -> str | None:
    """The text of the code ``offset`` past a bfrange's first code."""
    if isinstance(target, list):
        return _text(target[offset]) if offset < len(target) else None
    if len(target) < 2:
        return None
    # The first target counts up in its last UTF-16 unit, as PDF 1.7 9.10.3 says.
    last = int.from_bytes(target[-2:], "big") + offset
    if last > 0xFFFF:
        return None
    return _text(target[:-2] + last.to_bytes(2, "big"))


def _tokens(body: bytes) -> list[bytes | list[bytes]]:
    """A section's hex strings as bytes, its arrays as lists of them."""
    tokens: list[bytes | list[bytes]] = []
    array: list[bytes] | None = None
    for match in _ITEM.finditer(body):
        item = match[0]
        if item == b"[":
            array = []
        elif item == b"]":
            tokens.append(array if array is not None else [])
            array = None
        elif array is not None:
            array.append(decode_hex(item[1:-1]))
        else:
            tokens.append(decode_hex(item[1:-1]))
    return tokens


def parse_to_unicode(data: bytes, code_length: int = 1) -> ToUnicode:
    """The map a ToUnicode CMap stream's decoded ``data`` describes.

    ``code_length`` is the code length used when the CMap declares no codespace
    range (2 for a Type0 font's CMap, 1 for a simple font's).
    """
    lengths: set[int] = set()
    chars: dict[bytes, str] = {}
    ranges: list[_Range] = []
    for section, body in _SECTION.findall(data):
        tokens = _tokens(body)
        if section == b"codespacerange":
            lengths |= {len(t) for t in tokens if isinstance(t, bytes)}
        elif section == b"bfchar":
            for source, target in zip(tokens[::2], tokens[1::2], strict=False):
                if isinstance(source, bytes) and isinstance(target, bytes):
                    chars[source] = _text(target)
        else:
            for low, high, first in zip(tokens[::3], tokens[1::3], tokens[2::3], strict=False):
                if isinstance(low, bytes) and isinstance(high, bytes) and len(low) == len(high):
                    ranges.append((len(low), int.from_bytes(low, "big"), int.from_bytes(high, "big"), first))
    if not lengths:
        return ToUnicode(code_length, (code_length,), chars, ranges)
    width = next(iter(lengths)) if len(lengths) == 1 else None
    return ToUnicode(width, tuple(sorted(lengths)), chars, ranges)


def read_to_unicode(font: Any) -> ToUnicode | None:
    """The ToUnicode map of a pypdf font dictionary, or None if it has none."""
    stream = font.get("/ToUnicode")
    if stream is None:
        return None
    return parse_to_unicode(stream.get_object().get_data(), 2 if font.get("/Subtype") == "/Type0" else 1)


def to_unicode(font: Any) -> dict[int, str]:
    """A pypdf font dictionary's codes, by number, with their text; empty if it has no ToUnicode map."""
    found = read_to_unicode(font)
    return found.as_dict() if found is not None else {}
