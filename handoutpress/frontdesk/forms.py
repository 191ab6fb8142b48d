"""What the front desk's forms and links send, checked: the personalise form, the print list,
and the ``via`` a link carries when a clinical code selected the document.

Every check answers with one message per problem, naming the field and the
rule and never echoing what was typed (it could be a patient's name).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import parse_qs

MAX_NAME = 60
MAX_INITIALS = 4
MAX_FORM_BYTES = 2048
MAX_LIST = 30  # documents in one print list
MAX_LIST_BYTES = 16384
NAME_PUNCTUATION = frozenset(" '’-.,")


@dataclass(frozen=True)
class Personalisation:
    """What the form sends: held in memory for one request, never stored."""

    path: str
    name: str
    given: date
    initials: str

    def __repr__(self) -> str:  # a stray log line or traceback must not show the patient
        return f"Personalisation(path={self.path!r}, name=<{len(self.name)} characters>, ...)"


@dataclass(frozen=True)
class Selection:
    """What selected a document: a clinical code in its kept form, with its system."""

    system: str
    code: str


def read_fields(body: bytes, most: int) -> dict[str, list[str]] | None:
    """A url-encoded form's fields, or None when it cannot be read."""
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=most)
    except (UnicodeDecodeError, ValueError):
        return None


def parse_form(body: bytes, outputs: set[str], today: date) -> tuple[Personalisation | None, list[str]]:
    """Validate the personalise form; return the values or one message per bad field.

    Messages name the field and the rule, never what was typed.
    """
    problems: list[str] = []
    fields = read_fields(body, 10)
    if fields is None:
        return None, ["form: could not read the form"]

    def one(key: str) -> str:
        values = fields.get(key, [])
        if len(values) > 1:
            problems.append(f"{key}: sent more than once")
        return values[0] if values else ""

    path, raw_name, raw_given, raw_initials = one("path"), one("name"), one("given"), one("initials")
    if path not in outputs:
        problems.append("path: not a handout in this catalogue")
    name = " ".join(unicodedata.normalize("NFC", raw_name).split())
    problems.extend(_name_problems(name))
    given = _given_date(raw_given, today, problems)
    initials = re.sub(r"[\s.]", "", unicodedata.normalize("NFC", raw_initials))
    if not initials:
        problems.append("initials: type your initials")
    elif len(initials) > MAX_INITIALS or not initials.isalpha():
        problems.append(f"initials: 1 to {MAX_INITIALS} letters")

    if problems or given is None:  # a missing date is always among the problems
        return None, problems
    return Personalisation(path, name, given, initials.upper()), []


def _name_problems(name: str) -> list[str]:
    if not name:
        return ["name: type the patient's preferred name"]
    if len(name) > MAX_NAME:
        return [f"name: at most {MAX_NAME} characters"]
    if not all(c in NAME_PUNCTUATION or unicodedata.category(c)[0] in "LM" for c in name):
        return ["name: use letters, spaces, hyphens, apostrophes and full stops only"]
    if not any(unicodedata.category(c)[0] == "L" for c in name):
        return ["name: type the patient's preferred name"]
    return []


def _given_date(raw: str, today: date, problems: list[str]) -> date | None:
    text = raw.strip()
    try:
        given = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        given = None
    if given is None:
        problems.append("given: expected a date as YYYY-MM-DD")
    elif given > today + timedelta(days=1):
        problems.append("given: the date given cannot be in the future")
    elif given < today - timedelta(days=366):
        problems.append("given: the date given must be within the last year")
    return given


def given_to_context(who: Personalisation, language: str, labels: dict[str, str]) -> dict:
    """The ``given_to`` template value: the box's words (from the language's
    labels, never a fallback to English) and the three values."""
    from babel.dates import format_date

    words = {"heading": labels["given_to"], "date_label": labels["date_given"], "by_label": labels["given_by"]}
    try:
        shown_date = format_date(who.given, format="long", locale=language.replace("-", "_"))
    except Exception:  # an unusual language code: the date in ISO form is still clear
        shown_date = who.given.isoformat()
    return {**words, "name": who.name, "date": shown_date, "initials": who.initials}


def parse_print_list(body: bytes, pdfs: set[str]) -> tuple[list[str], list[str]]:
    """The print list's PDFs in the order sent (duplicates kept), or one message per problem."""
    fields = read_fields(body, MAX_LIST + 10)
    if fields is None:
        return [], ["form: could not read the print list"]
    paths = fields.get("path", [])
    problems = [f"{key}: not a field of the print list" for key in sorted(fields) if key != "path"]
    if not paths:
        problems.append("path: add at least one PDF to the print list")
    elif len(paths) > MAX_LIST:
        problems.append(f"path: at most {MAX_LIST} documents in one print list, got {len(paths)}")
    for i, path in enumerate(paths[:MAX_LIST], start=1):
        if path not in pdfs:
            problems.append(f"path[{i}]: not a PDF in this catalogue")
    return ([], problems) if problems else (paths, [])


def parse_via(values: list[str]) -> Selection | None:
    """What a link's ``?via=<system>:<code>`` names, if it is one valid code; else None ("catalogue")."""
    from handoutpress.load.codes import SYSTEMS, check_code

    if len(values) != 1 or ":" not in values[0] or len(values[0]) > 40:
        return None
    system, _, code = values[0].partition(":")
    if system not in SYSTEMS:
        return None
    try:
        return Selection(system, check_code(system, code.strip()))
    except ValueError:
        return None
