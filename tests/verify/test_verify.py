"""The audit behind `generate.py verify` and the build's check before publishing."""

from __future__ import annotations

from datetime import date

import pytest
from support import ROOT
from support.pdf import brand, stamp_not_artifact, stamped_document, tagged_document, with_standard_font_page, without_lang

from handoutpress.cli.main import main
from handoutpress.render.html import Labels
from handoutpress.verify.audit import audit_pdf


@pytest.fixture(scope="module")
def good() -> bytes:
    return stamped_document(2)


def audit(data: bytes, today: date | None = None):
    return audit_pdf(data, "x.pdf", brand(), Labels(ROOT / "labels"), today=today)


def test_stamped_document_passes(good):
    """A tagged document stamped the build's way passes every rule."""
    result = audit(good, today=date(2026, 1, 10))
    assert result.ok, result.line()
    assert result.line() == "x.pdf: ok (2 pages stamped, tagged, fonts embedded)"


def test_page_without_stamp_fails():
    """A page that carries no stamp is named with the stamp rule."""
    result = audit(tagged_document(2))
    assert [str(p) for p in result.problems] == [
        "x.pdf: stamp: page 1: stamp incomplete (in the pagination artifact): missing disclaimer, 911, 988, review months, page number",
        "x.pdf: stamp: page 2: stamp incomplete (in the pagination artifact): missing disclaimer, 911, 988, review months, page number",
    ]
    assert result.line() == (
        "x.pdf: stamp: pages 1, 2: stamp incomplete (in the pagination artifact): "
        "missing disclaimer, 911, 988, review months, page number"
    )


def test_stamp_not_marked_as_artifact_fails():
    """A stamp outside a pagination artifact breaks both the stamp and the artifact-or-tagged rule."""
    result = audit(stamp_not_artifact(1))
    rules = [(p.field, p.message.split(":")[0]) for p in result.problems]
    assert ("stamp", "page 1") in rules
    assert ("artifact", "page 1") in rules
    artifact = next(p for p in result.problems if p.field == "artifact")
    assert artifact.message.startswith("page 1: text ") and "is neither tagged nor an artifact (and " in artifact.message


def test_missing_language_fails(good):
    """A PDF without /Lang fails the lang rule and only that."""
    result = audit(without_lang(good))
    assert [str(p) for p in result.problems] == ["x.pdf: lang: no document language (/Lang)"]


def test_unembedded_font_fails(good):
    """A page drawing in Helvetica (standard 14, not embedded) fails fonts, stamp and artifact rules."""
    result = audit(with_standard_font_page(good))
    messages = [str(p) for p in result.problems]
    assert "x.pdf: fonts: font Helvetica is not embedded" in messages
    assert "x.pdf: artifact: page 3: text 'Hello' is neither tagged nor an artifact" in messages
    assert any(m.startswith("x.pdf: stamp: page 3: stamp incomplete") for m in messages)


def test_overdue_review_fails_only_with_today(good):
    """The review rule reads the stamp's next review month and compares it with --today."""
    assert audit(good).ok
    result = audit(good, today=date(2026, 3, 1))
    assert [str(p) for p in result.problems] == [
        "x.pdf: review: review is overdue: next review was due by 2026-02-28 (every page; today is 2026-03-01)"
    ]


def test_not_a_pdf_fails():
    """Garbage is reported as unreadable, not a traceback."""
    result = audit(b"%PDF-1.7\nthis is not a pdf")
    assert result.problems[0].field == "file"
    assert result.problems[0].message.startswith("not a readable PDF:")


def test_cli_prints_one_line_per_file_and_exits_1(good, tmp_path, capsys):
    """verify prints one line per file and exits 1 naming the failing file, page and rule."""
    (tmp_path / "good.pdf").write_bytes(good)
    (tmp_path / "bad.pdf").write_bytes(without_lang(good))
    status = main(["--root", str(ROOT), "verify", str(tmp_path), "--today", "2026-01-10"])
    out, err = capsys.readouterr()
    assert status == 1
    assert out.splitlines()[0].endswith("good.pdf: ok (2 pages stamped, tagged, fonts embedded)")
    assert out.splitlines()[-1] == "1 of 2 PDFs passed"
    assert err.splitlines() == [f"{tmp_path / 'bad.pdf'}: lang: no document language (/Lang)"]


def test_cli_passes_good_file(good, tmp_path, capsys):
    """verify exits 0 when every file passes."""
    (tmp_path / "good.pdf").write_bytes(good)
    assert main(["--root", str(ROOT), "verify", str(tmp_path / "good.pdf"), "--today", "2026-01-10"]) == 0


def _update(document: bytes, change) -> tuple[bytes, object]:
    """``document`` with an incremental update in which ``change(update)`` is made, and the prefix the
    update's reader gives (what the stamp hands the audit)."""
    from handoutpress.pdf.update import IncrementalUpdate

    update = IncrementalUpdate(document)
    change(update)
    return update.write(), update.reader_prefix()


def test_the_audit_given_the_stamp_s_prefix_still_reads_what_was_written(good):
    """The audit handed what the stamp parsed of the original (so it reads only the update's
    cross-reference) still judges the written bytes: an update that draws no stamp, one that
    drops the document's language, and a prefix of another document give the findings a
    reading of the whole file gives; a good stamp passes."""
    from pypdf.generic import ArrayObject, NameObject
    from support.pdf import stamp_for, tagged_document

    from handoutpress.pdf.update import flate_stream
    from handoutpress.stamp.apply import StampRecord, apply_stamp

    document = tagged_document(2)
    record = StampRecord()
    stamped = apply_stamp(document, stamp_for(document), what="test", record=record)
    assert audit_pdf(stamped, "x.pdf", brand(), Labels(ROOT / "labels"), prefix=record.prefix).ok

    def no_stamp(update) -> None:  # a stamp that appends an empty artifact to page 1 only
        page = update.reader.pages[0]
        after = update.add(flate_stream(b"/Artifact BMC EMC\n"))
        page[NameObject("/Contents")] = ArrayObject([page.raw_get("/Contents"), after])
        update.changed(page.indirect_reference, page)

    def no_language(update) -> None:
        del update.catalog[NameObject("/Lang")]
        update.changed(update.catalog_reference)

    for change in (no_stamp, no_language):
        broken, prefix = _update(document, change)
        assert prefix is not None
        seeded = audit_pdf(broken, "x.pdf", brand(), Labels(ROOT / "labels"), prefix=prefix)
        assert not seeded.ok and seeded.line() == audit(broken).line()
    stranger = tagged_document(3)
    wrong = audit_pdf(stamped, "x.pdf", brand(), Labels(ROOT / "labels"), prefix=_update(stranger, no_language)[1])
    assert wrong.ok and wrong.line() == audit(stamped).line()
