"""The one-object reader says what pypdf says: every object of a stamped PDF,
in an object stream or in the file, reads the same through `LazyReader` as
through pypdf, and the one-expression reader builds what pypdf builds or
leaves the object to pypdf."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject, read_object
from support.pdf import tagged_document

from handoutpress.pdf.reader import LazyReader, simple_object


@pytest.fixture(scope="module")
def stamped() -> bytes:
    from support.pdf import stamped_document

    return stamped_document(3)


def _canon(value):
    """An object as nested (type, value) pairs, references by number, so two readers' objects compare."""
    if isinstance(value, IndirectObject):
        return ("R", value.idnum, value.generation)
    if isinstance(value, dict):
        return (type(value).__name__, sorted((str(k), type(k).__name__, _canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (type(value).__name__, [_canon(v) for v in value])
    return (type(value).__name__, repr(value))


def test_one_object_reader_reads_what_pypdf_reads(stamped):
    """Every object, in an object stream or in the file, reads the same through our reader as through pypdf."""
    ours, theirs = LazyReader(io.BytesIO(stamped)), PdfReader(io.BytesIO(stamped))
    numbers = sorted(theirs.xref_objStm)
    assert len(numbers) > 20
    in_file = sorted(n for generation in theirs.xref.values() for n in generation)
    assert len(in_file) > 10
    for number in numbers + in_file:
        mine, pypdfs = ours.get_object(number), theirs.get_object(number)
        assert _canon(mine) == _canon(pypdfs), number
        if isinstance(pypdfs, StreamObject):
            assert mine.get_data() == pypdfs.get_data()
    streams = {theirs.xref_objStm[number][0] for number in numbers}
    assert all(ours.object_stream(s) is not None for s in streams)
    built = 0
    for number in numbers:  # most are built by the one-expression reader, not pypdf
        stream = ours.object_stream(theirs.xref_objStm[number][0])
        simple = simple_object(stream.data, stream.first + stream.offsets[number], ours)
        if simple is not None:
            built += 1
            assert _canon(simple[0]) == _canon(theirs.get_object(number)), number
    assert built > len(numbers) // 2


SIMPLE = {
    b"<</Type /Font /W [1 [500 250.5 -.5 +3] 10 20 600] /FontDescriptor 12 0 R /X true /Y false /Z null>>": True,
    b"[1 0 R 2 0 R [] <<>>]": True,
    b"<</W [1 -2 +3.5 .25\n4] /K [1 2 0 R] /E [ ]>>": True,
    b"<</A [1.2.3]>>": False,
    b"<</A [1-2]>>": False,
    b"<</A 1>>trailing": True,
    b"<</Lang (en) /Registry (Adobe) /Empty () /Latin (caf\xe9)>>": True,
    b"<</Lang (e\\(n)>>": False,  # an escaped string
    b"<</Lang (a (nested) b)>>": False,
    b"<</Name /Art#69fact>>": False,  # a name with an escape
    b"<</A 1 /A 2>>": False,  # a repeated key: pypdf decides which one wins
    b"<</A 1 /B>>": False,
    b"<</A <0041>>>": False,  # a hex string
    b"[1 0 Rx]": False,
    b"[1 % comment\n 2]": False,
    b"[1.2.3]": False,
    b"12 0 R": False,  # not a dictionary or an array
    b"<</A [1 2>>": False,
    b"[1 2": False,
}


@pytest.mark.parametrize("raw", list(SIMPLE))
def test_one_expression_object_reader_on_hand_made_objects(raw, stamped):
    """Plain dictionaries and arrays are built exactly as pypdf builds them; anything else is left to pypdf."""
    reader = LazyReader(io.BytesIO(stamped))
    built = simple_object(raw, 0, reader)
    if not SIMPLE[raw]:
        assert built is None
        return
    stream = io.BytesIO(raw)
    assert _canon(built[0]) == _canon(read_object(stream, reader))
    assert built[1] == stream.tell()  # it ends where pypdf stops reading


def test_object_missing_from_its_stream_index_is_left_to_pypdf(stamped):
    """An object the stream's header does not list is read by pypdf's own path, and still found."""
    reader = LazyReader(io.BytesIO(stamped))
    catalog_number = reader.trailer.raw_get("/Root").idnum
    assert catalog_number in reader.xref_objStm
    stream = reader.object_stream(reader.xref_objStm[catalog_number][0])
    del stream.offsets[catalog_number]
    assert reader.get_object(catalog_number)["/Type"] == "/Catalog"


def test_an_encrypted_file_is_read_by_pypdf_alone(stamped):
    """With /Encrypt in the trailer the reader keeps no file bytes, so every object goes through pypdf's decryption."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(stamped)))
    writer.encrypt("", "owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    reader = LazyReader(io.BytesIO(out.getvalue()))
    assert reader.is_encrypted
    reader.decrypt("")
    assert "Page 1 of 3" in reader.pages[0].extract_text()


def serialized(obj) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out)
    return out.getvalue()


def test_the_lazy_reader_reads_every_object_as_pypdf_does():
    """Every object of a tagged WeasyPrint PDF (thousands in object streams) reads the same both ways."""
    data = tagged_document(3)
    ours, theirs = LazyReader(io.BytesIO(data)), PdfReader(io.BytesIO(data))
    assert ours.xref_objStm, "the document should use object streams"
    numbers = sorted(set(ours.xref_objStm) | set(ours.xref.get(0, {})))
    for number in numbers:
        assert serialized(ours.get_object(number)) == serialized(theirs.get_object(number)), number


def test_the_lazy_reader_reads_only_what_is_asked_for():
    """Opening a document's first page parses a handful of objects, not its whole structure tree."""
    ours = LazyReader(io.BytesIO(tagged_document(3)))
    ours.pages[0].get("/Resources")
    assert len(ours.resolved_objects) < len(ours.xref_objStm) / 2


def test_a_broken_object_stream_index_is_left_to_pypdf():
    """An object stream whose index is not numbers: pypdf's own reader answers (here: its error)."""
    from pypdf.errors import PdfReadError

    data = tagged_document(2)
    reader = PdfReader(io.BytesIO(data))
    number = next(iter(reader.xref_objStm))
    stream_number = reader.xref_objStm[number][0]
    stream = reader.get_object(stream_number)
    raw = stream.get_data()
    first = int(stream["/First"])
    broken = LazyReader(io.BytesIO(data))
    broken_stream = broken.get_object(stream_number)
    broken_stream.set_data(b"x" * first + raw[first:])
    assert broken.object_stream(stream_number) is None
    with pytest.raises(PdfReadError, match=f"in object stream {stream_number}"):
        broken.get_object(number)


def _stamped_with_prefix(pages: int = 3):
    from support.pdf import stamp_for

    from handoutpress.stamp.apply import StampRecord, apply_stamp

    document = tagged_document(pages)
    record = StampRecord()
    stamped = apply_stamp(document, stamp_for(document), what="test", record=record)
    assert record.prefix is not None and record.prefix.document == document
    return document, stamped, record.prefix


def _state(reader: PdfReader):
    """What a reader knows once open: its cross-reference maps and its trailer."""
    return reader.xref, reader.xref_objStm, reader.xref_free_entry, _canon(reader.trailer)


def test_a_reader_given_the_stamp_s_prefix_knows_what_pypdf_knows_of_the_stamped_file():
    """Opening a stamped file with what the stamp parsed of its original (only the update's
    cross-reference read) gives the cross-reference and trailer pypdf reads from the whole file,
    and every object reads the same."""
    _, stamped, prefix = _stamped_with_prefix()
    seeded, theirs = LazyReader(io.BytesIO(stamped), prefix), PdfReader(io.BytesIO(stamped))
    assert _state(seeded) == _state(theirs)
    for number in sorted(set(theirs.xref_objStm) | set(theirs.xref.get(0, {}))):
        ref = IndirectObject(number, 0, theirs)
        assert _canon(IndirectObject(number, 0, seeded).get_object()) == _canon(ref.get_object()), number


def test_a_prefix_that_does_not_fit_is_left_to_pypdf():
    """A prefix of another document, a file cut short, and an update that does not point back at the
    prefix's cross-reference are each read by pypdf in full: the reader knows what pypdf knows."""
    from handoutpress.pdf.update import IncrementalUpdate

    document, stamped, prefix = _stamped_with_prefix()
    _, other, other_prefix = _stamped_with_prefix(2)
    assert _state(LazyReader(io.BytesIO(stamped), other_prefix)) == _state(PdfReader(io.BytesIO(stamped)))
    twice = IncrementalUpdate(stamped)  # a second update after the stamp: its /Prev is the stamp's
    twice.changed(twice.catalog_reference)
    again = twice.write()
    assert _state(LazyReader(io.BytesIO(again), prefix)) == _state(PdfReader(io.BytesIO(again)))
    moved = stamped.replace(b"startxref\n", b"startxref\n1", 1)  # the last offset made wrong
    assert _state(LazyReader(io.BytesIO(moved), prefix)) == _state(PdfReader(io.BytesIO(moved)))
