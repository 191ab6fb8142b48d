"""Writing an incremental update to a PDF, by hand.

The original bytes stay as they are; after them come the new and changed
objects, a cross-reference section (a stream if the original ends with one,
else a table) and a trailer that keeps ``/Root``, ``/Info`` and ``/ID`` and
points back with ``/Prev``. Nothing is cloned: objects are read lazily from
the original (`LazyReader`), changed in place, and only those named by
`IncrementalUpdate.changed` or `IncrementalUpdate.add` are written, so a
stamped handout keeps everything WeasyPrint wrote (structure tree, outline,
links, metadata, object streams) untouched and costs a few kilobytes.

What it relies on, in pypdf: objects serialise themselves (``write_to_stream``)
and `StreamObject`'s own ``get_data``/``set_data`` hold a stream's bytes as
stored. `EncodedStreamObject` overrides both to decode and re-compress; the
base class's are called by name where bytes already compressed must be copied
or written as they are (`stored_data`, `stored_stream`), so the output is the
same byte for byte.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import cast

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from handoutpress.pdf.reader import LazyReader, ReaderPrefix


def serialized(obj: PdfObject) -> bytes:
    """``obj`` as it is written into a PDF."""
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def stored_data(stream: StreamObject) -> bytes:
    """The stream's bytes as they are stored (still compressed if it has a /Filter)."""
    return StreamObject.get_data(stream)


def stored_stream(data: bytes, entries: dict[str, PdfObject] | None = None) -> EncodedStreamObject:
    """A stream holding ``data`` already compressed with Flate, with ``entries`` in its dictionary."""
    stream = EncodedStreamObject()
    StreamObject.set_data(stream, data)  # as given: EncodedStreamObject's own set_data would compress it again
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    for key, value in (entries or {}).items():
        stream[NameObject(key)] = value
    return stream


def flate_stream(data: bytes, level: int = -1) -> EncodedStreamObject:
    """A stream holding ``data``, compressed with Flate at ``level``."""
    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream.flate_encode(level=level)


class IncrementalUpdate:
    """An incremental update to ``document``: read it with `reader`, change
    objects in place and name them with `changed`, add new ones with `add`
    (or `copy` them from another PDF), then `write`."""

    def __init__(self, document: bytes):
        reader = LazyReader(io.BytesIO(document))
        if reader.is_encrypted:
            raise ValueError("the PDF is encrypted")
        prev, xref_stream = last_xref(document)
        if prev is None:  # a broken startxref: rewrite the file once, then update that
            out = io.BytesIO()
            PdfWriter(clone_from=reader).write(out)
            document = out.getvalue()
            reader = LazyReader(io.BytesIO(document))
            prev, xref_stream = last_xref(document)
            if prev is None:
                raise ValueError("its cross-reference section cannot be found")
        self.reader = reader
        self.document = document
        self.prev: int = prev
        self.xref_stream = xref_stream
        self.size = int(reader.trailer["/Size"])  # type: ignore[call-overload]  # a number in any PDF pypdf opened
        self.objects: dict[int, tuple[int, PdfObject]] = {}  # number -> (generation, object)
        self.copied: dict[tuple[int, int, int], IndirectObject] = {}

    @property
    def catalog(self) -> DictionaryObject:
        """The document's catalog; change it in place and call `changed` with `catalog_reference`."""
        catalog = self.reader.trailer["/Root"].get_object()
        assert isinstance(catalog, DictionaryObject)
        return catalog

    @property
    def catalog_reference(self) -> IndirectObject:
        """Where the catalog lives, to name it in `changed`."""
        reference = self.reader.trailer.raw_get("/Root")
        assert isinstance(reference, IndirectObject)
        return reference

    @property
    def metadata(self):
        """The document information dictionary, as pypdf reads it."""
        return self.reader.metadata

    def reader_prefix(self) -> ReaderPrefix | None:
        """What this update's reader parsed of the original, so that a reader of the written file
        parses only the update (`LazyReader`'s ``prefix``); None where the original ends with a table."""
        return ReaderPrefix.of(self.reader, self.document, self.prev) if self.xref_stream else None

    def add(self, obj: PdfObject) -> IndirectObject:
        """``obj`` as a new object of the document; its reference."""
        ref = IndirectObject(self.size, 0, self.reader)
        self.size += 1
        self.objects[ref.idnum] = (0, obj)
        return ref

    def changed(self, ref: IndirectObject | None, obj: PdfObject | None = None) -> None:
        """The object at ``ref`` is to be written again; ``obj`` is it if it is not pypdf's cached copy (a page)."""
        if ref is not None:
            self.objects[ref.idnum] = (ref.generation, obj if obj is not None else cast(PdfObject, ref.get_object()))

    def copy(self, obj):
        """``obj`` from another PDF (the stamp), with every object it reaches added here once."""
        if isinstance(obj, IndirectObject):
            key = (id(obj.pdf), obj.idnum, obj.generation)
            if key not in self.copied:
                ref = self.copied[key] = self.add(NullObject())
                self.objects[ref.idnum] = (0, self.copy(obj.get_object()))
            return self.copied[key]
        if isinstance(obj, StreamObject):
            stream: StreamObject = EncodedStreamObject() if "/Filter" in obj else DecodedStreamObject()
            StreamObject.set_data(stream, stored_data(obj))  # the bytes as stored, compressed or not
            for key, value in obj.items():
                if key != "/Length":
                    stream[NameObject(key)] = self.copy(value)
            return stream
        if isinstance(obj, DictionaryObject):
            return DictionaryObject({NameObject(k): self.copy(v) for k, v in obj.items()})
        if isinstance(obj, ArrayObject):
            return ArrayObject(self.copy(v) for v in obj)
        return obj

    def write(self) -> bytes:
        """The document followed by the update. After a cross-reference stream, the
        update's dictionaries (pages, fonts, resources: a few hundred bytes each,
        alike) go into one compressed object stream; the streams stand alone."""
        out = io.BytesIO()
        out.write(self.document)
        if not self.document.endswith((b"\n", b"\r")):
            out.write(b"\n")
        entries: dict[int, tuple[int, int, int]] = {}  # number -> cross-reference entry (type, field 2, field 3)
        packed = {
            number: obj
            for number, (generation, obj) in self.objects.items()
            if self.xref_stream and generation == 0 and not isinstance(obj, StreamObject)
        }
        for number in sorted(self.objects):
            if number in packed:
                continue
            generation, obj = self.objects[number]
            entries[number] = (1, out.tell(), generation)
            out.write(f"{number} {generation} obj\n".encode())
            obj.write_to_stream(out)
            out.write(b"\nendobj\n")
        if packed:
            self._write_object_stream(out, packed, entries)
        self._write_cross_reference(out, entries)
        return out.getvalue()

    def _write_object_stream(
        self, out: io.BytesIO, packed: dict[int, PdfObject], entries: dict[int, tuple[int, int, int]]
    ) -> None:
        """The ``packed`` objects, in number order, as one object stream of the update."""
        container = self.size
        self.size += 1
        header, body = [], bytearray()
        for index, number in enumerate(sorted(packed)):
            header.append(f"{number} {len(body)}")
            body += serialized(packed[number]) + b"\n"
            entries[number] = (2, container, index)
        head = (" ".join(header) + "\n").encode()
        stream = DecodedStreamObject()
        stream.set_data(head + bytes(body))
        stream.update(
            {
                NameObject("/Type"): NameObject("/ObjStm"),
                NameObject("/N"): NumberObject(len(packed)),
                NameObject("/First"): NumberObject(len(head)),
            }
        )
        entries[container] = (1, out.tell(), 0)
        out.write(f"{container} 0 obj\n".encode())
        stream.flate_encode(level=9).write_to_stream(out)
        out.write(b"\nendobj\n")

    def _write_cross_reference(self, out: io.BytesIO, entries: dict[int, tuple[int, int, int]]) -> None:
        """The cross-reference section (a stream or a table, as the original's last one) and the end of the file."""
        trailer = DictionaryObject({NameObject("/Prev"): NumberObject(self.prev)})
        for key in ("/Root", "/Info", "/ID"):
            if key in self.reader.trailer:
                trailer[NameObject(key)] = self.reader.trailer.raw_get(key)
        start = out.tell()
        if self.xref_stream:
            number = self.size
            entries[number] = (1, start, 0)
            trailer[NameObject("/Size")] = NumberObject(number + 1)
            out.write(f"{number} 0 obj\n".encode())
            _xref_stream(entries, trailer).write_to_stream(out)
            out.write(b"\nendobj\n")
        else:
            trailer[NameObject("/Size")] = NumberObject(self.size)
            out.write(b"xref\n")
            for first, run in _runs(sorted(entries)):
                out.write(f"{first} {len(run)}\n".encode())
                for n in run:
                    out.write(f"{entries[n][1]:010d} {entries[n][2]:05d} n\r\n".encode())
            out.write(b"trailer\n")
            trailer.write_to_stream(out)
            out.write(b"\n")
        out.write(f"startxref\n{start}\n%%EOF\n".encode())


def last_xref(document: bytes) -> tuple[int | None, bool]:
    """The original's last cross-reference offset, and whether it is a stream; None if it is broken."""
    found = re.search(rb"startxref\s+(\d+)\s*%%EOF\s*$", document[-1024:])
    if found is None:
        return None, False
    offset = int(found[1])
    head = document[offset : offset + 64]
    if head.startswith(b"xref"):
        return offset, False
    if re.match(rb"\d+\s+\d+\s+obj", head) and b"/XRef" in document[offset : offset + 1024]:
        return offset, True
    return None, False


def _runs(numbers: list[int]) -> Iterator[tuple[int, list[int]]]:
    """[3, 4, 5, 9] -> (3, [3, 4, 5]), (9, [9])."""
    run: list[int] = []
    for n in numbers:
        if run and n != run[-1] + 1:
            yield run[0], run
            run = []
        run.append(n)
    if run:
        yield run[0], run


def _xref_stream(entries: dict[int, tuple[int, int, int]], trailer: DictionaryObject) -> EncodedStreamObject:
    """The cross-reference stream for ``entries``, its fields as narrow as the largest value allows."""
    second = max(1, (max(e[1] for e in entries.values()).bit_length() + 7) // 8)
    third = max(1, (max(e[2] for e in entries.values()).bit_length() + 7) // 8)
    index, rows = ArrayObject(), bytearray()
    for first, run in _runs(sorted(entries)):
        index.extend([NumberObject(first), NumberObject(len(run))])
        for n in run:
            kind, field2, field3 = entries[n]
            rows += bytes([kind]) + field2.to_bytes(second, "big") + field3.to_bytes(third, "big")
    stream = DecodedStreamObject()
    stream.set_data(bytes(rows))
    stream.update(trailer)
    stream.update(
        {
            NameObject("/Type"): NameObject("/XRef"),
            NameObject("/Index"): index,
            NameObject("/W"): ArrayObject([NumberObject(1), NumberObject(second), NumberObject(third)]),
        }
    )
    return stream.flate_encode()
