"""Reading PDFs with pypdf, one object at a time.

pypdf (since 6.x) parses every object of an object stream as soon as one of
them is asked for. WeasyPrint writes a tagged PDF's whole structure tree,
thousands of small dictionaries, into object streams, so opening a handout to
stamp or audit it (a few dozen objects: the catalog, the page tree, pages,
resources, fonts) parsed them all: about 100 ms a document, more than the
stamp itself. `LazyReader` reads an object stream's index once and then
parses only the objects asked for, and builds plain dictionaries and arrays
without pypdf's byte-by-byte reading (`simple_object`).

Anything unexpected (a bad index, an object missing from its stream, an
escaped string) is left to pypdf's own reader, which knows how to repair or
report it.

What it relies on in pypdf, all of it public API (no private name is read,
written or overridden), checked by tests/pdf/test_reader.py object by object:

* every reference is resolved through ``PdfReader.get_object`` (which
  ``IndirectObject.get_object`` calls on its ``pdf``), so overriding that one
  public method is enough;
* the cross-reference attributes pypdf fills while opening the file:
  ``xref`` (generation -> object number -> file offset), ``xref_free_entry``
  (the same keys -> is the entry free) and ``xref_objStm`` (object number ->
  (object stream number, index)); and ``resolved_objects`` with
  ``cache_indirect_object`` for its object cache, as pypdf's own parsing
  documents them;
* ``StreamObject.initialize_from_dictionary``, given the stream's raw bytes
  under ``"__streamdata__"``, builds the stream ``read_object`` would build;
* pypdf's own object-stream reading skips objects already in the cache, so
  handing one object back to it after others were read here warns nothing;
* ``PdfReader.read`` is where pypdf reads the cross-reference sections; a
  reader given a `ReaderPrefix` (what another reader already parsed of the
  file's first bytes: an incremental update's original) reads only the
  sections after it, and leaves anything else to pypdf's ``read``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any, cast

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
    create_string_object,
    read_object,
)

from handoutpress.pdf.syntax import NUMBER, TOKEN_END


@dataclass(frozen=True)
class ObjectStream:
    """One object stream, decoded, with its index: where each object it holds begins."""

    data: bytes
    first: int  # /First: where the objects begin, after the index
    offsets: dict[int, int]  # object number -> offset from ``first``


@dataclass(frozen=True)
class ReaderPrefix:
    """What a `LazyReader` parsed of a PDF, for a reader of a longer file that begins with
    the same bytes (the PDF with an incremental update after it).

    ``startxref``: where the PDF's last cross-reference stream begins; the
    cross-reference maps and the trailer as pypdf read them; and the object
    streams decoded so far (bytes of the PDF, so the same in the longer file).
    """

    document: bytes
    startxref: int
    xref: dict[int, dict[int, int]]
    xref_objStm: dict[int, tuple[int, int]]  # noqa: N815  (pypdf's name)
    trailer_keys: frozenset[str]
    object_streams: dict[int, ObjectStream | None]

    @classmethod
    def of(cls, reader: LazyReader, document: bytes, startxref: int) -> ReaderPrefix | None:
        """The prefix ``reader`` (which read ``document``, ending with a cross-reference stream at
        ``startxref``) gives; None where it cannot serve (free entries, an encrypted file)."""
        if any(reader.xref_free_entry.values()) or "/Encrypt" in reader.trailer:
            return None
        return cls(
            document,
            startxref,
            {generation: dict(numbers) for generation, numbers in reader.xref.items()},
            dict(reader.xref_objStm),
            frozenset(str(key) for key in reader.trailer),
            reader.object_streams_read(),
        )


class LazyReader(PdfReader):
    """A PdfReader that, asked for an object kept in an object stream, parses
    that object alone instead of every object in the stream, and builds plain
    dictionaries and arrays (`simple_object`) without pypdf's byte-by-byte reading.

    A tagged PDF keeps thousands of structure elements in object streams beside
    the catalog and the fonts; the audit needs a few dozen objects, and parsing
    the rest cost more than the audit itself. Anything unusual (a broken stream
    index, an object missing from its stream, a stream that holds itself) is
    left to pypdf's own reading, with its warnings and repairs.
    """

    def __init__(self, stream: io.BytesIO, prefix: ReaderPrefix | None = None) -> None:
        # Our state lives in one attribute with a name of our own, so it cannot
        # meet an attribute a later pypdf gives its reader.
        self._lazy_state = _LazyState()
        self._lazy_state.prefix = prefix
        super().__init__(stream)
        if "/Encrypt" not in self.trailer:  # an encrypted file's objects must go through pypdf's decryption
            self._lazy_state.file = stream.getvalue()

    def read(self, stream: Any) -> None:
        """Read the cross-reference sections: only those after the prefix, when the file begins with
        it and what follows is one plain cross-reference stream; otherwise all of them, as pypdf does."""
        prefix = self._lazy_state.prefix
        self._lazy_state.prefix = None
        found = _after_prefix(stream.getvalue(), prefix, self) if prefix is not None and isinstance(stream, io.BytesIO) else None
        if found is None:
            super().read(stream)
            return
        self.xref, self.xref_objStm, self.trailer, kept_streams = found
        self.xref_free_entry = {}  # as pypdf leaves it for a file of cross-reference streams
        self._lazy_state.object_streams.update(kept_streams)

    def object_streams_read(self) -> dict[int, ObjectStream | None]:
        """The object streams this reader has decoded and indexed so far, by object number."""
        return dict(self._lazy_state.object_streams)

    def get_object(self, indirect_reference: int | IndirectObject) -> PdfObject | None:
        if isinstance(indirect_reference, int):
            idnum, generation = indirect_reference, 0
        else:
            idnum, generation = indirect_reference.idnum, indirect_reference.generation
        if (generation, idnum) not in self.resolved_objects:
            if generation == 0 and idnum in self.xref_objStm:
                found = self._one_from_stream(idnum)
            else:
                found = self._one_in_file(idnum, generation)
            if found is not None:
                return self.cache_indirect_object(generation, idnum, found)
        return super().get_object(indirect_reference)

    def object_stream(self, stream_number: int) -> ObjectStream | None:
        """The object stream ``stream_number``, decoded and indexed once; None if it is not one we can index."""
        state = self._lazy_state
        if stream_number not in state.object_streams:
            if stream_number in state.opening:
                return None  # a stream asked for while its own index is read: pypdf decides
            state.opening.add(stream_number)
            try:
                state.object_streams[stream_number] = self._index(stream_number)
            except Exception:
                state.object_streams[stream_number] = None
            finally:
                state.opening.discard(stream_number)
        return state.object_streams[stream_number]

    def _one_in_file(self, idnum: int, generation: int) -> PdfObject | None:
        """A plain dictionary, array or stream (with a direct /Length) written as
        ``n g obj ... endobj`` where the xref says; None for anything else."""
        data = self._lazy_state.file
        start = self.xref.get(generation, {}).get(idnum) if data else None
        if start is None or self.xref_free_entry.get(generation, {}).get(idnum, False):
            return None
        header = _OBJECT_HEADER.match(data, start)
        if header is None or int(header[1]) != idnum or int(header[2]) != generation:
            return None
        found = simple_object(data, header.end(), self)
        if found is None:
            return None
        value, end = found
        if _OBJECT_END.match(data, end) is not None:
            return value
        opening = _STREAM_START.match(data, end)
        if opening is None or not isinstance(value, DictionaryObject):
            return None
        length = value.get("/Length")
        if type(length) is not NumberObject or not 0 <= length <= len(data) - opening.end():
            return None  # an indirect or missing length, or anything else: pypdf reads it
        if _STREAM_END.match(data, opening.end() + length) is None:
            return None
        fields: dict[Any, Any] = dict(value)
        fields["__streamdata__"] = data[opening.end() : opening.end() + length]
        return StreamObject.initialize_from_dictionary(fields)

    def _one_from_stream(self, idnum: int) -> PdfObject | None:
        stream = self.object_stream(self.xref_objStm[idnum][0])
        offset = stream.offsets.get(idnum) if stream is not None else None
        if stream is None or offset is None:
            return None
        found = simple_object(stream.data, stream.first + offset, self)
        if found is not None:
            return found[0]
        buffer = io.BytesIO(stream.data)
        buffer.seek(stream.first + offset)
        try:
            return read_object(buffer, self)
        except Exception:
            return None

    def _index(self, stream_number: int) -> ObjectStream | None:
        stream = IndirectObject(stream_number, 0, self).get_object()
        if not isinstance(stream, StreamObject) or stream.get("/Type") != "/ObjStm":
            return None
        data = stream.get_data()
        first, count = stream.get("/First"), stream.get("/N")
        if not isinstance(first, NumberObject) or not isinstance(count, NumberObject) or not 0 <= first <= len(data):
            return None
        header = data[:first].split()
        if len(header) < 2 * count or not all(x.isdigit() for x in header[: 2 * count]):
            return None
        offsets: dict[int, int] = {}
        for i in range(0, 2 * count, 2):
            offsets.setdefault(int(header[i]), int(header[i + 1]))
        return ObjectStream(data, int(first), offsets)


class _LazyState:
    """What a `LazyReader` keeps besides pypdf's own state."""

    def __init__(self) -> None:
        self.file = b""  # the file's bytes, once the trailer says it is not encrypted
        self.object_streams: dict[int, ObjectStream | None] = {}
        self.opening: set[int] = set()  # object streams whose index is being read
        self.prefix: ReaderPrefix | None = None  # for `read`, while the reader opens


# ---------------------------------------------------------------------------
# The cross-reference stream after a prefix (an incremental update's)

_TRAILER_KEYS = ("/Root", "/Encrypt", "/Info", "/ID", "/Size")  # what a cross-reference stream's trailer carries
_STARTXREF = re.compile(rb"startxref\s+(\d+)\s*%%EOF\s*$")
_Entries = tuple[dict[int, dict[int, int]], dict[int, tuple[int, int]], DictionaryObject, dict[int, "ObjectStream | None"]]


def _after_prefix(data: bytes, prefix: ReaderPrefix, reader: LazyReader) -> _Entries | None:
    """(xref, xref_objStm, trailer, object streams kept) for ``data``: the prefix's, then one cross-reference
    stream after it whose /Prev is the prefix's; None for anything else, left to pypdf."""
    if len(data) <= len(prefix.document) or not data.startswith(prefix.document):
        return None
    end = _STARTXREF.search(data, max(0, len(data) - 1024))
    start = int(end[1]) if end is not None else -1
    if start < len(prefix.document):
        return None
    try:
        section = _xref_section(data, start, reader)
    except Exception:  # anything pypdf's own reading must judge
        return None
    if section is None:
        return None
    head, entries = section
    if head.get("/Prev") != prefix.startxref or "/XRefStm" in head or "/Encrypt" in head:
        return None
    if not all(key in head for key in prefix.trailer_keys if key in _TRAILER_KEYS):
        return None  # pypdf would take this key from the older trailer
    xref = {generation: dict(numbers) for generation, numbers in prefix.xref.items()}
    in_streams = dict(prefix.xref_objStm)
    for number, (kind, second, third) in entries.items():
        if kind == 1:
            if not _object_at(data, second, number, third, len(prefix.document), start):
                return None  # pypdf would warn and drop it
            if any(number in numbers for generation, numbers in xref.items() if generation != third):
                return None
            xref.setdefault(third, {})[number] = second
            in_streams.pop(number, None)
        elif kind == 2:
            in_streams[number] = (second, third)
            xref.get(0, {}).pop(number, None)
    trailer = DictionaryObject({NameObject(key): head.raw_get(key) for key in _TRAILER_KEYS if key in head})
    kept = {number: stream for number, stream in prefix.object_streams.items() if number not in entries}
    return xref, in_streams, trailer, kept


def _xref_section(data: bytes, start: int, reader: LazyReader) -> tuple[DictionaryObject, dict[int, tuple[int, int, int]]] | None:
    """The cross-reference stream at ``start``: its dictionary and its entries (number -> type and two fields)."""
    header = _OBJECT_HEADER.match(data, start)
    if header is None:
        return None
    buffer = io.BytesIO(data)
    ahead = data[header.end() : header.end() + 64]
    buffer.seek(header.end() + len(ahead) - len(ahead.lstrip()))
    head = read_object(buffer, reader)  # pypdf reads the stream: its /ID strings, its filters
    if not isinstance(head, StreamObject) or head.get("/Type") != "/XRef" or _OBJECT_END.match(data, buffer.tell()) is None:
        return None
    rows = head.get_data()
    widths = [int(w) for w in cast(ArrayObject, head["/W"])]
    index = [int(n) for n in cast(ArrayObject, head.get("/Index", [0, head["/Size"]]))]
    if len(widths) != 3 or min(widths) < 0 or len(index) % 2 or sum(widths) == 0:
        return None
    size = sum(widths)
    entries: dict[int, tuple[int, int, int]] = {}
    at = 0
    for first, count in zip(index[::2], index[1::2], strict=True):
        for number in range(first, first + count):
            row = rows[at : at + size]
            if len(row) != size:
                return None
            cuts = (0, widths[0], widths[0] + widths[1], size)
            fields = [int.from_bytes(row[cuts[i] : cuts[i + 1]], "big") for i in range(3)]
            kind = fields[0] if widths[0] else 1
            entries.setdefault(number, (kind, fields[1], fields[2]))
            at += size
    return head, entries


def _object_at(data: bytes, offset: int, number: int, generation: int, low: int, high: int) -> bool:
    """Does ``number generation obj`` begin at ``offset``, between ``low`` and ``high``?"""
    if not low <= offset <= high:
        return False
    header = _OBJECT_HEADER.match(data, offset)
    return header is not None and int(header[1]) == number and int(header[2]) == generation


# Dictionaries and arrays of plain names, numbers, references, booleans, null
# and strings without escapes (fonts and their width arrays, the catalog,
# page-tree nodes) are built straight from one regular expression's tokens, as
# pypdf would build them; anything else (escaped strings, names with #
# escapes, comments, a repeated key) is read by pypdf.
_ENDS = rb"(?![^" + TOKEN_END + rb"])"  # the token ends here
_OBJECT_ALTERNATIVES = (
    rb"(<<)|(>>)|(\[)|(\])",  # groups 1-4
    rb"/([A-Za-z0-9_.+\-:*']*+)" + _ENDS,  # 5: a name without # escapes
    rb"(\d++)\s++(\d++)\s++R" + _ENDS,  # 6, 7: a reference
    rb"(" + NUMBER + rb")" + _ENDS,  # 8
    rb"(true|false|null)" + _ENDS,  # 9
    rb"\(([^()\\]*+)\)",  # 10: a literal string without escapes or parentheses
)
_OBJECT_TOKEN = re.compile(rb"\s*+(?:" + rb"|".join(_OBJECT_ALTERNATIVES) + rb")")
_NUMBER_ARRAY = re.compile(rb"((?:\s*+" + NUMBER + _ENDS + rb")*+)\s*+\]")  # after "[": numbers only, no reference
_OBJECT_HEADER = re.compile(rb"\s*+(\d++)\s++(\d++)\s++obj" + _ENDS)
_OBJECT_END = re.compile(rb"\s*+endobj" + _ENDS)
_STREAM_START = re.compile(rb"\s*+stream *+(?:\r\n?|\n)")
_STREAM_END = re.compile(rb"\s*+endstream\s*+endobj" + _ENDS)
_MARK_DICT, _MARK_ARRAY = object(), object()


def _number(text: bytes) -> PdfObject:
    return FloatObject(text.decode()) if b"." in text else NumberObject(text.decode())


def simple_object(data: bytes, pos: int, reader: PdfReader) -> tuple[PdfObject, int] | None:
    """(the dictionary or array at ``pos``, where it ends), or None where pypdf must read it."""
    match_at = _OBJECT_TOKEN.match
    stack: list[Any] = []
    while True:
        found = match_at(data, pos)
        if found is None:
            return None
        pos = found.end()
        kind = found.lastindex
        if kind == 1:
            stack.append(_MARK_DICT)
        elif kind == 3:
            numbers = _NUMBER_ARRAY.match(data, pos)
            if numbers is not None and stack:  # a width array: all its numbers at once
                pos = numbers.end()
                stack.append(ArrayObject(_number(n) for n in numbers[1].split()))
            else:
                stack.append(_MARK_ARRAY)
        elif kind in (2, 4):
            value = _close(stack, kind == 4)
            if value is None:
                return None
            if not stack:
                return value, pos
            stack.append(value)
        elif not stack:
            return None  # a lone number, name or reference: pypdf reads it
        else:
            stack.append(_plain(found, reader))


def _close(stack: list[Any], array: bool) -> PdfObject | None:
    """The array or dictionary the innermost mark opened, popped off ``stack``; None if pypdf must decide."""
    items = []
    while stack and stack[-1] is not _MARK_DICT and stack[-1] is not _MARK_ARRAY:
        items.append(stack.pop())
    if not stack or stack.pop() is not (_MARK_ARRAY if array else _MARK_DICT):
        return None
    items.reverse()
    if array:
        return ArrayObject(items)
    keys = items[::2]
    if len(items) % 2 or not all(isinstance(k, NameObject) for k in keys) or len(set(keys)) != len(keys):
        return None  # an odd count, a key that is not a name, a repeated key: pypdf decides which wins
    return DictionaryObject(zip(keys, items[1::2], strict=True))


def _plain(found: re.Match[bytes], reader: PdfReader) -> PdfObject:
    """A name, reference, number, boolean, null or plain string token as pypdf builds it."""
    kind = found.lastindex
    if kind == 5:
        return NameObject("/" + found[5].decode("ascii"))
    if kind == 7:  # a reference: groups 6 and 7, the last one set is 7
        return IndirectObject(int(found[6]), int(found[7]), reader)
    if kind == 8:
        return _number(found[8])
    if kind == 9:
        return NullObject() if found[9] == b"null" else BooleanObject(found[9] == b"true")
    return create_string_object(found[10])  # as pypdf decodes a string's bytes
