"""What the front desk records: one `records.HandOut` per document it hands out.

An event says which document (id, language, variant, edition from the
manifest entry), how (open, print, personalised), what selected it (a code
from the link's ``via``, or the catalogue), by which desk and on which UTC
day: never anything about the patient. Recording never stops a document
from being handed out: a database problem comes back as a one-line notice
for the desk (the events wait in the records' spool).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from handoutpress.errors import Problem, UsageError
from handoutpress.records import DEFAULT_DESK, HandOut, utc_today
from handoutpress.records.events import check_desk as check_desk_name

if TYPE_CHECKING:
    from handoutpress.frontdesk.forms import Selection
    from handoutpress.records import Records

NOTICE_HEADER = "x-desk-notice"  # the catalogue's script shows it in its status line


def check_desk(name: str) -> str:
    """The desk's name as given to ``--desk``, or a one-line usage error (exit 2)."""
    try:
        return check_desk_name(name)
    except ValueError as exc:
        raise UsageError(Problem("--desk", str(exc))) from None


class DeskRecords:
    """The desk's side of the hand-out record (``records`` None: nothing is recorded)."""

    def __init__(self, records: Records | None, desk: str = DEFAULT_DESK) -> None:
        self.records = records
        self.desk = desk

    def hand_out(self, entries: Sequence[dict], channel: str, via: Selection | None = None) -> str | None:
        """Record one event per entry; the notice for the desk, or None when all is written."""
        if self.records is None or not entries:
            return None
        try:
            return self.records.record([self.event(entry, channel, via) for entry in entries])
        except Exception as exc:  # the contract says it never raises; a print must not fail if it does
            return f"hand-outs not recorded: {type(exc).__name__}"

    def event(self, entry: dict, channel: str, via: Selection | None) -> HandOut:
        """The event of handing out the document of manifest ``entry`` (ValueError if the entry is not one)."""
        return HandOut(
            day=utc_today(),
            desk=self.desk,
            handout_id=str(entry.get("id", "")),
            language=str(entry.get("language", "")),
            variant=str(entry.get("variant", "")),
            edition=str(entry.get("edition", "")),
            channel=channel,
            selected_system=via.system if via is not None else None,
            selected_code=via.code if via is not None else None,
        )

    def pending(self) -> int:
        """Events waiting in the spool for the database (0 when nothing is recorded)."""
        if self.records is None:
            return 0
        try:
            return self.records.pending()
        except Exception:
            return 0
