"""Reading PDFs with pypdf, one object at a time.

pypdf (since 6.x) parses every object of an object stream as soon as one of
them is asked for. WeasyPrint writes a tagged PDF's whole structure tree,
thousands of small dictionaries, into object streams, so opening a handout to
stamp or audit it (a few dozen objects: the catalog, the page tree, pages,
resources, fonts) parsed them all: about 100 ms a document, more than the
stamp itself. `LazyReader` reads an object stream's index once and then
parses only the objects asked for, and builds plain dictionaries and arrays
without pypdf's byte-by-byte reading (`_simple_object`).

Anything unexpected (a bad index, an object missing from its stream, an
escaped string) is left to pypdf's own reader, which knows how to repair or
report it.
"""

from __future__ import annotations

import io
import re

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
    StreamObject,
    create_string_object,
    read_object,
)

DELIMS = rb"\s()<>\[\]{}/%"  # bytes that end a name, a number or an operator


class LazyReader(PdfReader):
    """A PdfReader that, asked for an object kept in an object stream, parses
    that object alone instead of every object in the stream, and builds plain
    dictionaries and arrays (`_simple_object`) without pypdf's byte-by-byte reading.

    A tagged PDF keeps thousands of structure elements in object streams beside
    the catalog and the fonts; the audit needs a few dozen objects, and parsing
    the rest cost more than the audit itself. Anything unusual (a broken stream
    index, an object missing from its stream, a stream that holds itself) is
    left to pypdf's own reading, with its warnings and repairs.
    """

    def __init__(self, stream: io.BytesIO) -> None:
        self._object_streams: dict[int, tuple[bytes, int, dict[int, int]] | None] = {}
        self._opening: set[int] = set()
        self._file = b""  # the file's bytes, once the trailer says it is not encrypted
        super().__init__(stream)
        if "/Encrypt" not in self.trailer:
            self._file = stream.getvalue()

    def get_object(self, indirect_reference):
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

    def _one_in_file(self, idnum: int, generation: int):
        """A plain dictionary, array or stream (with a direct /Length) written as
        ``n g obj ... endobj`` where the xref says; None for anything else."""
        start = self.xref.get(generation, {}).get(idnum) if self._file else None
        if start is None or self.xref_free_entry.get(generation, {}).get(idnum, False):
            return None
        header = _OBJECT_HEADER.match(self._file, start)
        if header is None or int(header[1]) != idnum or int(header[2]) != generation:
            return None
        found = _simple_object(self._file, header.end(), self)
        if found is None:
            return None
        value, end = found
        if _OBJECT_END.match(self._file, end) is not None:
            return value
        opening = _STREAM_START.match(self._file, end)
        length = value.get("/Length") if opening is not None and isinstance(value, DictionaryObject) else None
        if type(length) is not NumberObject or not 0 <= length <= len(self._file) - opening.end():
            return None  # an indirect or missing length, or anything else: pypdf reads it
        if _STREAM_END.match(self._file, opening.end() + length) is None:
            return None
        data = dict(value)
        data["__streamdata__"] = self._file[opening.end() : opening.end() + length]
        return StreamObject.initialize_from_dictionary(data)

    def _one_from_stream(self, idnum: int):
        stream_number = self.xref_objStm[idnum][0]
        if stream_number in self._opening:
            return None
        if stream_number not in self._object_streams:
            self._opening.add(stream_number)
            try:
                self._object_streams[stream_number] = self._index(stream_number)
            except Exception:
                self._object_streams[stream_number] = None
            finally:
                self._opening.discard(stream_number)
        index = self._object_streams[stream_number]
        offset = index[2].get(idnum) if index is not None else None
        if offset is None:
            return None
        data, first, _ = index
        found = _simple_object(data, first + offset, self)
        if found is not None:
            return found[0]
        buffer = io.BytesIO(data)
        buffer.seek(first + offset)
        try:
            return read_object(buffer, self)
        except Exception:
            return None

    def _index(self, stream_number: int):
        """(decoded data, /First, object number -> offset) of one object stream."""
        stream = IndirectObject(stream_number, 0, self).get_object()
        if not isinstance(stream, StreamObject) or stream.get("/Type") != "/ObjStm":
            return None
        data = stream.get_data()
        first, count = int(stream["/First"]), int(stream["/N"])
        if not 0 <= first <= len(data):
            return None
        header = data[:first].split()
        if len(header) < 2 * count or not all(x.isdigit() for x in header[: 2 * count]):
            return None
        offsets: dict[int, int] = {}
        for i in range(0, 2 * count, 2):
            offsets.setdefault(int(header[i]), int(header[i + 1]))
        return data, first, offsets


# Dictionaries and arrays of plain names, numbers, references, booleans, null
# and strings without escapes (fonts and their width arrays, the catalog,
# page-tree nodes) are built straight from one regular expression's tokens, as
# pypdf would build them; anything else (escaped strings, names with #
# escapes, comments, a repeated key) is read by pypdf.
_OBJECT_TOKEN = re.compile(
    rb"\s*+(?:(<<)|(>>)|(\[)|(\])|/([A-Za-z0-9_.+\-:*']*+)(?![^" + DELIMS + rb"])"
    rb"|(\d++)\s++(\d++)\s++R(?![^" + DELIMS + rb"])"
    rb"|([+-]?+(?:\d++\.?+\d*+|\.\d++))(?![^" + DELIMS + rb"])"
    rb"|(true|false|null)(?![^" + DELIMS + rb"])"
    rb"|\(([^()\\]*+)\))"  # a literal string without escapes or parentheses
)
_MARK_DICT, _MARK_ARRAY = object(), object()
_NUMBER_ARRAY = re.compile(
    rb"((?:\s*+[+-]?+(?:\d++\.?+\d*+|\.\d++)(?![^" + DELIMS + rb"]))*+)\s*+\]"
)  # after "[": numbers only, no reference
_OBJECT_HEADER = re.compile(rb"\s*+(\d++)\s++(\d++)\s++obj(?![^" + DELIMS + rb"])")
_OBJECT_END = re.compile(rb"\s*+endobj(?![^" + DELIMS + rb"])")
_STREAM_START = re.compile(rb"\s*+stream *+(?:\r\n?|\n)")
_STREAM_END = re.compile(rb"\s*+endstream\s*+endobj(?![^" + DELIMS + rb"])")


def _simple_object(data: bytes, pos: int, reader):
    """(the dictionary or array at ``pos``, where it ends), or None where pypdf must read it."""
    match_at = _OBJECT_TOKEN.match
    stack: list = []
    while True:
        found = match_at(data, pos)
        if found is None:
            return None
        pos = found.end()
        kind = found.lastindex
        if kind == 1:
            stack.append(_MARK_DICT)
            continue
        if kind == 3:
            numbers = _NUMBER_ARRAY.match(data, pos)
            if numbers is not None and stack:  # a width array: all its numbers at once
                pos = numbers.end()
                stack.append(ArrayObject(FloatObject(n) if b"." in n else NumberObject(n) for n in numbers[1].split()))
                continue
            stack.append(_MARK_ARRAY)
            continue
        if kind in (2, 4):
            mark = _MARK_DICT if kind == 2 else _MARK_ARRAY
            items = []
            while stack and stack[-1] is not _MARK_DICT and stack[-1] is not _MARK_ARRAY:
                items.append(stack.pop())
            if not stack or stack.pop() is not mark:
                return None
            items.reverse()
            if kind == 4:
                value = ArrayObject(items)
            else:
                keys = items[::2]
                if len(items) % 2 or not all(isinstance(k, NameObject) for k in keys) or len(set(keys)) != len(keys):
                    return None
                value = DictionaryObject(zip(keys, items[1::2], strict=True))
            if not stack:
                return value, pos
            stack.append(value)
            continue
        if not stack:
            return None  # a lone number, name or reference: pypdf reads it
        if kind == 5:
            stack.append(NameObject("/" + found[5].decode("ascii")))
        elif kind == 7:  # a reference: groups 6 and 7, the last one set is 7
            stack.append(IndirectObject(int(found[6]), int(found[7]), reader))
        elif kind == 8:
            number = found[8]
            stack.append(FloatObject(number) if b"." in number else NumberObject(number))
        elif kind == 9:
            word = found[9]
            stack.append(NullObject() if word == b"null" else BooleanObject(word == b"true"))
        elif kind == 10:
            stack.append(create_string_object(found[10]))  # as pypdf decodes a string's bytes
        else:
            return None
