"""The hand-written incremental update (`handoutpress.pdf.update`) the stamp is
written with: it must say exactly what the slow path (pypdf rewriting the file) said."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject, TextStringObject

from handoutpress.pdf.update import IncrementalUpdate, stored_data
from handoutpress.stamp.apply import apply_stamp


@pytest.fixture(scope="module")
def weasy_document() -> bytes:
    from support.pdf import tagged_document

    return tagged_document(3)


def _stamped(document: bytes, **options) -> bytes:
    from support.pdf import stamp_for

    return apply_stamp(document, stamp_for(document), what="test", **options)


def test_update_appends_to_the_original_bytes(weasy_document):
    """The stamped file is the original, byte for byte, plus one update that readers accept strictly."""
    stamped = _stamped(weasy_document)
    assert stamped.startswith(weasy_document)
    assert stamped == _stamped(weasy_document)  # deterministic
    tail = stamped[len(weasy_document) :]
    assert tail.count(b"startxref") == 1 and b"/Type /XRef" in tail and b"/Prev " in tail
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    original = PdfReader(io.BytesIO(weasy_document))
    assert reader.trailer.get("/ID") == original.trailer.get("/ID")
    assert reader.trailer.raw_get("/Root").idnum == original.trailer.raw_get("/Root").idnum
    assert reader.metadata == original.metadata
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    for number, page in enumerate(reader.pages, start=1):
        assert "/HPStamp" in page["/Resources"]["/XObject"]  # the band, one form for every page
        own = page["/Contents"][-1].get_object().get_data()  # the page's number, in its own content
        shown = re.search(rb"T[jJ]\b", own)
        assert own.count(b"/Artifact") == 1 and own.index(b"/HPStamp Do") < shown.start() < own.index(b"EMC")
        assert f"Page {number} of 3" in page.extract_text()


def _rewritten(document: bytes, *, broken_startxref: bool = False) -> bytes:
    """The document rewritten by pypdf with a classic cross-reference table (optionally pointing nowhere)."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(document)))
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert b"\nxref\n" in data
    if broken_startxref:
        at = data.rindex(b"startxref")
        data = data[:at] + b"startxref\n12\n%%EOF\n"
    return data


def test_classic_xref_table_gets_a_table_update(weasy_document):
    """An original with an xref table is updated with a table whose trailer carries /Prev, /Size and /Root."""
    classic = _rewritten(weasy_document)
    stamped = _stamped(classic)
    assert stamped.startswith(classic)
    tail = stamped[len(classic) :]
    assert b"\nxref\n" in tail and b"trailer" in tail and b"/Type /XRef" not in tail
    prev = int(classic[classic.rindex(b"startxref") + 9 :].split()[0])
    assert f"/Prev {prev}".encode() in tail
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    assert int(reader.trailer["/Size"]) > int(PdfReader(io.BytesIO(classic)).trailer["/Size"])
    assert [f"Page {n} of 3" in p.extract_text() for n, p in enumerate(reader.pages, 1)] == [True] * 3


def test_broken_startxref_is_repaired_before_the_update(weasy_document):
    """A startxref that points nowhere: the file is rewritten once, then stamped; the result reads strictly."""
    stamped = _stamped(_rewritten(weasy_document, broken_startxref=True))
    reader = PdfReader(io.BytesIO(stamped), strict=True)
    assert len(reader.pages) == 3 and "Page 3 of 3" in reader.pages[2].extract_text()


def test_finish_changes_to_the_catalog_are_written(weasy_document):
    """A catalog change made by ``finish`` lands in the update; without a change the catalog is not rewritten."""

    def finish(update):
        update.catalog[NameObject("/Lang")] = TextStringObject("es")

    root = PdfReader(io.BytesIO(weasy_document)).trailer.raw_get("/Root").idnum
    changed = _stamped(weasy_document, finish=finish)
    assert str(PdfReader(io.BytesIO(changed)).trailer["/Root"]["/Lang"]) == "es"
    assert root in _updated(changed, weasy_document)
    unchanged = _stamped(weasy_document, finish=lambda update: None)
    assert root not in _updated(unchanged, weasy_document)


def _updated(stamped: bytes, original: bytes) -> set[int]:
    """The objects the update's cross-reference stream lists (written anew, in its object stream or not)."""
    index = re.search(rb"/Type\s*/XRef\s*/Index\s*\[([\d\s]*)\]", stamped[len(original) :])
    numbers = [int(n) for n in index[1].split()]
    return {first + k for first, count in zip(numbers[::2], numbers[1::2], strict=True) for k in range(count)}


def test_an_update_on_its_own_adds_copies_and_changes(weasy_document):
    """Without the stamp: an added object, a stream copied from another PDF with its compressed
    bytes as they were, and a changed catalog all read back strictly; nothing else is written."""
    from pypdf.generic import DictionaryObject

    other = PdfReader(io.BytesIO(weasy_document))
    contents = other.pages[0].raw_get("/Contents")
    update = IncrementalUpdate(weasy_document)
    added = update.add(DictionaryObject({NameObject("/Note"): TextStringObject("added")}))
    copied = update.copy(contents)
    update.catalog[NameObject("/HPNote")] = added
    update.catalog[NameObject("/HPCopy")] = copied
    update.changed(update.catalog_reference)
    written = update.write()
    assert written.startswith(weasy_document)
    reader = PdfReader(io.BytesIO(written), strict=True)
    catalog = reader.trailer["/Root"]
    assert catalog["/HPNote"]["/Note"] == "added"
    assert stored_data(catalog["/HPCopy"].get_object()) == stored_data(contents.get_object())
    assert catalog["/HPCopy"].get_data() == contents.get_object().get_data()
    containers = _containers(written, weasy_document)
    assert len(containers) == 2  # the object stream and the cross-reference stream
    assert _updated(written, weasy_document) == {added.idnum, copied.idnum, update.catalog_reference.idnum, *containers}


def _containers(stamped: bytes, original: bytes) -> set[int]:
    """The update's own objects: its object stream and its cross-reference stream."""
    tail = stamped[len(original) :]
    return {int(m[1]) for m in re.finditer(rb"(\d+) 0 obj\n<<(?:(?!\nstream\n).)*?/Type /(?:ObjStm|XRef)", tail, re.S)}
