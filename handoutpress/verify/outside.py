"""Verifying a PDF the clinic did not make, once `generate.py stamp` has stamped it.

Outside PDFs are not tagged, so `audit_outside` (``verify --outside``) drops
the rules the clinic cannot make true of someone else's file (tagged, title,
and "neither artifact nor tagged" when the file has no structure tree); the
stamp, review, language and fonts rules apply as to our own handouts
(`handoutpress.verify.audit.audit_pdf`). It lives here, in the verify stage,
so the stamp stage that makes these files imports nothing from later stages.
"""

from __future__ import annotations

from datetime import date

from handoutpress.load.brand import Brand
from handoutpress.render.html import Labels
from handoutpress.verify.audit import AuditResult, audit_pdf


class OutsideAuditResult(AuditResult):
    """An audit of an outside PDF: its passing line says so."""

    def line(self) -> str:
        if self.ok:
            return f"{self.file}: ok ({self.pages} pages stamped, fonts embedded; outside PDF)"
        return super().line()


OUTSIDE_SKIPPED = {"tagged", "title"}


def audit_outside(data: bytes, shown: str, brand: Brand, labels: Labels, today: date | None = None) -> AuditResult:
    """`audit_pdf` for a PDF the clinic did not make.

    The stamp (read from the pagination artifact only), review, language and
    fonts rules apply in full. Tagged and title are the maker's to fix, not
    ours, so they are skipped; "neither artifact nor tagged" applies only when
    the file claims to be tagged (has a structure tree), since in an untagged
    file every piece of the maker's content is untagged by design.
    """
    full = audit_pdf(data, shown, brand, labels, today=today)
    tagged = not any(p.field == "tagged" and "StructTreeRoot" in p.message for p in full.problems)
    skipped = OUTSIDE_SKIPPED if tagged else OUTSIDE_SKIPPED | {"artifact"}
    result = OutsideAuditResult(full.file, full.pages)
    result.problems = [p for p in full.problems if p.field not in skipped]
    return result
