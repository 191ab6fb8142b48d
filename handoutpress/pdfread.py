"""Reading PDFs with pypdf, one object at a time.

pypdf (since 6.x) parses every object of an object stream as soon as one of
them is asked for. WeasyPrint writes a tagged PDF's whole structure tree,
thousands of small dictionaries, into object streams, so opening a handout to
stamp or audit it (a few dozen objects: the catalog, the page tree, pages,
resources, fonts) parsed them all: about 100 ms a document, more than the
stamp itself. `LazyReader` reads an object stream's index once and then
parses only the objects asked for.

Anything unexpected in an object stream (a bad index, an offset out of
range) is left to pypdf's own reader, which knows how to repair or report it.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from pypdf.generic import NullObject, read_object

_INDEX = re.compile(rb"\s*(\d+)\s+(\d+)")


class LazyReader(PdfReader):
    """A `pypdf.PdfReader` that parses objects in object streams only when asked for."""

    def _get_object_from_stream(self, indirect_reference):
        number = indirect_reference.idnum
        try:
            found = self._object_stream_entry(number)
        except Exception:  # an odd stream: pypdf's reader repairs or reports it
            found = None
        if found is None:
            return super()._get_object_from_stream(indirect_reference)
        data, start = found
        while start < len(data) and data[start] in b" \t\r\n\f\x00":
            start += 1
        buffer = io.BytesIO(data)
        buffer.seek(start)
        obj = read_object(buffer, self)
        self.cache_indirect_object(0, number, obj)
        return obj

    def _object_stream_entry(self, number: int) -> tuple[bytes, int] | None:
        """The decoded object stream holding ``number`` and where the object starts in it."""
        indexes = self.__dict__.setdefault("_lazy_indexes", {})
        stream_number, _ = self.xref_objStm[number]
        if stream_number not in indexes:
            indexes[stream_number] = None
            stream = self.get_object(stream_number)
            if stream is None or isinstance(stream, NullObject) or stream.get("/Type") != "/ObjStm":
                return None
            data = stream.get_data()
            first, count = int(stream["/First"]), int(stream["/N"])
            if not 0 <= first <= len(data) or count < 0:
                return None
            offsets: dict[int, int] = {}
            position = 0
            header = data[:first]
            for _ in range(count):
                match = _INDEX.match(header, position)
                if match is None:
                    return None
                offsets.setdefault(int(match[1]), first + int(match[2]))
                position = match.end()
            if any(offset >= len(data) for offset in offsets.values()):
                return None
            indexes[stream_number] = (data, offsets)
        entry = indexes[stream_number]
        if entry is None or number not in entry[1]:
            return None
        return entry[0], entry[1][number]


def open_pdf(data: bytes) -> PdfReader:
    return LazyReader(io.BytesIO(data))
