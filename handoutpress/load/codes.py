"""Clinical codes on handouts: the four code systems, their offline checks, and matching.

A handout may carry ``codes:`` by system (``icd10cm``, ``snomed``, ``rxnorm``,
``loinc``). Each code is checked here without the network:

- ICD-10-CM against the official code set that ships with `simple_icd_10_cm`
  (categories such as ``F33`` and every subcategory; chapters and blocks are not
  codes). Written with or without the dot, any case; kept in the dotted,
  upper-case form (``f32a`` becomes ``F32.A``).
- RxNorm: an RXCUI, 1 to 7 digits.
- SNOMED CT: a concept id, 6 to 18 digits, a valid Verhoeff check digit and a
  concept partition (``00`` or ``10``) in the second- and third-last digits.
- LOINC: ``NNNNN-C``, the check digit by LOINC's mod-10 rule.

`match_rank` and `find_handouts` are the one matching rule shared by
``generate.py find`` and the front desk's Infobutton answer (`frontdesk.infobutton`,
over the manifest's entries): an exact code ranks 0, a handout coded with a
parent ICD-10-CM category ranks by how many levels up.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

SYSTEMS = ("icd10cm", "snomed", "rxnorm", "loinc")
SYSTEM_NAMES = {"icd10cm": "ICD-10-CM", "snomed": "SNOMED CT", "rxnorm": "RxNorm", "loinc": "LOINC"}
# The HL7 object identifiers an EHR names the systems by (Infobutton ``mainSearchCriteria.v.cs``).
SYSTEM_OIDS = {
    "icd10cm": "2.16.840.1.113883.6.90",
    "snomed": "2.16.840.1.113883.6.96",
    "rxnorm": "2.16.840.1.113883.6.88",
    "loinc": "2.16.840.1.113883.6.1",
}

_ICD_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")
_RXNORM_RE = re.compile(r"^[0-9]{1,7}$")
_SNOMED_RE = re.compile(r"^[1-9][0-9]{5,17}$")
_LOINC_RE = re.compile(r"^([0-9]{1,7})-([0-9])$")
_SNOMED_CONCEPT_PARTITIONS = ("00", "10")


def code_text(value: Any) -> Any:
    """A code as written: YAML reads an unquoted RXCUI as a number; a code is text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


# ---------------------------------------------------------------------------
# Checks, one per system: each returns the code in its kept form or raises ValueError.


def _icd10cm_set() -> Any:
    # Imported on first use: it reads the code set (about a second), with a legacy
    # importlib.resources call that warns on Python 3.11 and 3.12.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="importlib.resources")
        warnings.filterwarnings("ignore", message="read_text is deprecated", category=DeprecationWarning)
        import simple_icd_10_cm  # type: ignore[import-untyped]  # ships no type hints

    return simple_icd_10_cm


def icd10cm_dotted(code: str) -> str:
    """``f32a`` -> ``F32.A``: upper case, the dot after the third character."""
    code = code.strip().upper()
    if len(code) > 3 and "." not in code:
        code = code[:3] + "." + code[3:]
    return code


def check_icd10cm(code: str) -> str:
    dotted = icd10cm_dotted(code)
    icd = _icd10cm_set()
    if not _ICD_RE.match(dotted) or not icd.is_valid_item(dotted) or not icd.is_category_or_subcategory(dotted):
        raise ValueError(f"{code!r} is not an ICD-10-CM code")
    return dotted


def check_rxnorm(code: str) -> str:
    if not _RXNORM_RE.match(code):
        raise ValueError(f"{code!r} is not an RxNorm code (an RXCUI is 1 to 7 digits)")
    return code


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_valid(digits: str) -> bool:
    """Whether the last digit of ``digits`` is its Verhoeff check digit (SNOMED CT's)."""
    check = 0
    for i, ch in enumerate(reversed(digits)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][int(ch)]]
    return check == 0


def is_snomed_concept(code: str) -> bool:
    return bool(_SNOMED_RE.match(code)) and code[-3:-1] in _SNOMED_CONCEPT_PARTITIONS and verhoeff_valid(code)


def check_snomed(code: str) -> str:
    if not _SNOMED_RE.match(code):
        raise ValueError(f"{code!r} is not a SNOMED CT concept id (6 to 18 digits)")
    if code[-3:-1] not in _SNOMED_CONCEPT_PARTITIONS:
        raise ValueError(f"{code!r} is not a SNOMED CT concept id (partition {code[-3:-1]!r}, not a concept's 00 or 10)")
    if not verhoeff_valid(code):
        raise ValueError(f"{code!r} is not a SNOMED CT concept id (wrong check digit)")
    return code


def loinc_check_digit(number: str) -> int:
    """LOINC's mod-10 check digit of the part before the hyphen."""
    odd = "".join(str(int(d) * 2) for d in reversed(number[::-1][0::2]))  # 1st, 3rd, ... from the right, doubled
    even = number[::-1][1::2]
    total = sum(int(d) for d in even + odd)
    return (10 - total % 10) % 10


def check_loinc(code: str) -> str:
    m = _LOINC_RE.match(code)
    if not m:
        raise ValueError(f"{code!r} is not a LOINC code (expected NNNNN-C)")
    if loinc_check_digit(m[1]) != int(m[2]):
        raise ValueError(f"{code!r} is not a LOINC code (wrong check digit)")
    return code


CHECKS = {"icd10cm": check_icd10cm, "snomed": check_snomed, "rxnorm": check_rxnorm, "loinc": check_loinc}


def check_code(system: str, code: str) -> str:
    """``code`` in its kept form, or ValueError naming what is wrong."""
    return CHECKS[system](code)


# ---------------------------------------------------------------------------
# Guessing a system from a code's shape (for ``find CODE`` without --system)


class AmbiguousCode(ValueError):
    """A code whose shape fits more than one system."""

    def __init__(self, code: str, systems: Sequence[str]):
        self.systems = tuple(systems)
        names = " or ".join(SYSTEM_NAMES[s] for s in systems)
        super().__init__(f"{code!r} could be {names}; name one with --system {'|'.join(systems)}")


def guess_system(code: str) -> str:
    """The one system ``code``'s shape fits; `AmbiguousCode` or ValueError otherwise."""
    text = code.strip()
    if _LOINC_RE.match(text):
        return "loinc"
    if _ICD_RE.match(icd10cm_dotted(text)):
        return "icd10cm"
    if text.isdigit() and text.isascii():
        fits = [s for s, ok in (("rxnorm", bool(_RXNORM_RE.match(text))), ("snomed", is_snomed_concept(text))) if ok]
        if len(fits) == 1:
            return fits[0]
        if fits:
            raise AmbiguousCode(text, fits)
    raise ValueError(f"{code!r} is not a code of any known system ({', '.join(SYSTEMS)})")


# ---------------------------------------------------------------------------
# A handout's codes, and matching


@dataclass(frozen=True)
class CodeSet:
    """The codes of one handout, by system, in their kept forms."""

    by_system: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, codes: Mapping[str, Iterable[str]] | None) -> CodeSet:
        return cls({s: tuple(codes[s]) for s in SYSTEMS if codes and codes.get(s)})

    def __bool__(self) -> bool:
        return any(self.by_system.values())

    def get(self, system: str) -> tuple[str, ...]:
        return self.by_system.get(system, ())

    def as_json(self) -> dict[str, list[str]]:
        return {s: list(c) for s, c in self.by_system.items() if c}


def icd10cm_lineage(code: str) -> list[str]:
    """``code`` and its parent categories and subcategories, nearest first (no blocks or chapters)."""
    icd = _icd10cm_set()
    return [code] + [a for a in icd.get_ancestors(code) if icd.is_category_or_subcategory(a)]


def match_rank(system: str, code: str, codes: CodeSet) -> int | None:
    """How specifically ``codes`` match ``code`` (0 exact, n: a parent n levels up), or None.

    ``code`` must be in its kept form (see `check_code`).
    """
    coded = codes.get(system)
    if not coded:
        return None
    if system != "icd10cm":
        return 0 if code in coded else None
    for rank, ancestor in enumerate(icd10cm_lineage(code)):
        if ancestor in coded:
            return rank
    return None


class Coded(Protocol):
    """What matching needs of a handout (a loaded `HandoutFile`)."""

    @property
    def id(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def codes(self) -> CodeSet: ...


T = TypeVar("T", bound=Coded)


def find_handouts(handouts: Iterable[T], system: str, code: str, language: str | None = None) -> list[tuple[int, T]]:
    """The handouts ``code`` selects, most specific first, then by id and language."""
    found = []
    for h in handouts:
        if language is not None and h.language != language:
            continue
        rank = match_rank(system, code, h.codes)
        if rank is not None:
            found.append((rank, h))
    return sorted(found, key=lambda pair: (pair[0], pair[1].id, pair[1].language))
