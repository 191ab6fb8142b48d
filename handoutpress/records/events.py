"""One hand-out event, and the table that keeps them.

An event says that a desk handed one document to someone on one day: which
handout, in which language, variant and edition, how (opened, printed, or a
personalised copy) and what selected it (a clinical code, or the catalogue).
Nothing about the person is part of it, and nothing in it can hold free text:
every field is an id, a code or a word from a short list, checked when the
event is made, and the table's columns are as narrow as those checks.

The table is append-only for the product: no code path updates or deletes a
row, and the database itself refuses both (triggers made by `schema`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from handoutpress.errors import HandoutPressError, Problem
from handoutpress.load.codes import SYSTEMS

CHANNELS = ("open", "print", "personalised")
DEFAULT_DESK = "front-desk"

# What each field may hold: ids and codes only, so no typed text can slip in.
DESK_RE = re.compile(r"^[A-Za-z0-9 _.-]{1,40}$")
HANDOUT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,2}$")
VARIANT_RE = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
EDITION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,19}$")


class RecordsError(HandoutPressError):
    """The hand-out record cannot be opened or read (one line, exit status 1)."""

    category = "records"


def records_error(message: str, where: str = "--records") -> RecordsError:
    """``--records: message`` as the one line people see."""
    return RecordsError(Problem(where, message))


def utc_today() -> date:
    """Today's day in UTC: events keep the day, never the time of day."""
    return datetime.now(UTC).date()


def check_desk(name: str) -> str:
    """``name`` if it is a desk name (letters, digits, spaces, ``-_.``, 1 to 40 characters), else ValueError."""
    if not DESK_RE.match(name) or not name.strip():
        raise ValueError(f"a desk name is 1 to 40 letters, digits, spaces or -_. characters, got {name!r}")
    return name


@dataclass(frozen=True)
class HandOut:
    """One event: a desk handed a document out. Nothing about a patient, ever."""

    day: date  # the UTC day, no time of day
    desk: str  # serve --desk NAME
    handout_id: str
    language: str
    variant: str  # standard | large-print | faq-sheet | web
    edition: str  # the manifest entry's "edition"
    channel: str  # one of CHANNELS ("print" also for each document of a print list)
    selected_system: str | None  # icd10cm|snomed|rxnorm|loinc when a code selected it, else None (the catalogue)
    selected_code: str | None
    count: int = 1

    def __post_init__(self) -> None:
        if type(self.day) is not date:  # a datetime would carry the time of day
            raise ValueError(f"day must be a date without a time, got {self.day!r}")
        check_desk(self.desk)
        for name, pattern in (
            ("handout_id", HANDOUT_ID_RE),
            ("language", LANGUAGE_RE),
            ("variant", VARIANT_RE),
            ("edition", EDITION_RE),
        ):
            value = getattr(self, name)
            if not isinstance(value, str) or not pattern.match(value):
                raise ValueError(f"{name} must match {pattern.pattern}, got {value!r}")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, got {self.channel!r}")
        if (self.selected_system is None) != (self.selected_code is None):
            raise ValueError("selected_system and selected_code are both given or both None")
        if self.selected_system is not None and self.selected_system not in SYSTEMS:
            raise ValueError(f"selected_system must be one of {', '.join(SYSTEMS)}, got {self.selected_system!r}")
        if self.selected_code is not None and not CODE_RE.match(self.selected_code):
            raise ValueError(f"selected_code must match {CODE_RE.pattern}, got {self.selected_code!r}")
        if type(self.count) is not int or self.count < 1:
            raise ValueError(f"count must be a whole number above 0, got {self.count!r}")

    def as_row(self, event_uid: str) -> dict[str, Any]:
        """The event as a row of the table, under its unique id."""
        return {"event_uid": event_uid, **asdict(self)}

    def as_json(self) -> dict[str, Any]:
        """The event as JSON-ready values (the spool's form)."""
        return {**asdict(self), "day": self.day.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HandOut:
        """The event `as_json` wrote (ValueError or KeyError when it is not one)."""
        fields = dict(data)
        fields["day"] = date.fromisoformat(fields["day"])
        return cls(**fields)


def new_event_uid() -> str:
    """A fresh unique id for an event, made when it is first recorded (so replaying the spool never doubles it)."""
    return str(uuid.uuid4())


metadata = MetaData()

# The schema's version history: one row per migration applied (see `schema.MIGRATIONS`).
schema_version = Table(
    "handoutpress_schema",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_on", Date, nullable=False),
)

handed_out = Table(
    "handed_out",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_uid", String(36), nullable=False, unique=True),
    Column("day", Date, nullable=False),
    Column("desk", String(40), nullable=False),
    Column("handout_id", String(100), nullable=False),
    Column("language", String(20), nullable=False),
    Column("variant", String(30), nullable=False),
    Column("edition", String(64), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("selected_system", String(10), nullable=True),
    Column("selected_code", String(20), nullable=True),
    Column("count", Integer, nullable=False),
    CheckConstraint("count > 0", name="handed_out_count_positive"),
    CheckConstraint("channel IN ({})".format(", ".join(f"'{c}'" for c in CHANNELS)), name="handed_out_channel"),
    CheckConstraint(
        "selected_system IS NULL OR selected_system IN ({})".format(", ".join(f"'{s}'" for s in SYSTEMS)),
        name="handed_out_system",
    ),
    CheckConstraint("(selected_system IS NULL) = (selected_code IS NULL)", name="handed_out_selection"),
    Index("handed_out_day", "day"),
    Index("handed_out_edition", "handout_id", "language", "variant", "edition"),
)
