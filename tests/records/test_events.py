"""A hand-out event holds ids, codes and words from short lists only: nothing
typed about a patient can be put in one."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from handoutpress.records import CHANNELS, HandOut

GOOD = {
    "day": date(2026, 11, 20),
    "desk": "Front desk 2",
    "handout_id": "ketamine-and-your-other-medications",
    "language": "es",
    "variant": "large-print",
    "edition": "2025.02-1d6016",
    "channel": "personalised",
    "selected_system": "icd10cm",
    "selected_code": "F33.1",
}


def test_a_valid_event_round_trips_through_the_spool_form() -> None:
    """An event written as the spool's JSON reads back equal, counting 1 unless told otherwise."""
    event = HandOut(**GOOD)
    assert event.count == 1 and CHANNELS == ("open", "print", "personalised")
    assert HandOut.from_json(event.as_json()) == event


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("desk", "Jane Doe, born 1970-01-01"),
        ("desk", " " * 3),
        ("desk", "x" * 41),
        ("handout_id", "Jane Doe"),
        ("handout_id", "sleep/../../etc"),
        ("language", "English please"),
        ("variant", "standard for Mrs Smith"),
        ("edition", "2025.02 note: called back"),
        ("channel", "email"),
        ("selected_system", "free-text"),
        ("selected_code", "F33.1 patient is anxious"),
        ("count", 0),
        ("count", True),
        ("count", 2.0),
        ("day", datetime(2026, 11, 20, 9, 30)),
    ],
)
def test_no_field_holds_free_text(field: str, value: object) -> None:
    """A name, a note or a time of day in any field is refused when the event is made."""
    with pytest.raises(ValueError, match=field):
        HandOut(**{**GOOD, field: value})


def test_a_code_needs_its_system_and_the_catalogue_has_neither() -> None:
    """What selected a document is a code with its system, or nothing (the catalogue)."""
    assert HandOut(**{**GOOD, "selected_system": None, "selected_code": None}).selected_code is None
    with pytest.raises(ValueError, match="both given or both None"):
        HandOut(**{**GOOD, "selected_system": None})
