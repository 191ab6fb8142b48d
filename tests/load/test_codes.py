"""Clinical codes on handouts are checked offline, by system, and reported as one line per bad code.

Real codes and near misses: ICD-10-CM against the code set shipped by simple-icd-10-cm,
SNOMED CT by its Verhoeff check digit and partition, LOINC by its mod-10 check digit,
RxNorm by its RXCUI shape.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ROOT

from handoutpress.load.codes import CodeSet, check_code, find_handouts, guess_system, match_rank
from handoutpress.load.content import load_library

HANDOUT = """\
title: Sleep and Your Mood
review:
  reviewed: 2025-02
  next_review: 2026-02
sections:
  - heading: Why sleep matters
    body: Good sleep helps your mood.
codes:
  icd10cm: [F33, F99.999]
  rxnorm: [6130, "12a"]
  loinc: [2345-8]
  snomed: ["35489008"]
"""


@pytest.mark.parametrize(
    ("system", "code", "kept"),
    [
        ("icd10cm", "F33", "F33"),
        ("icd10cm", "F32.A", "F32.A"),
        ("icd10cm", "f32a", "F32.A"),
        ("icd10cm", "F33.1", "F33.1"),
        ("snomed", "35489007", "35489007"),  # depressive disorder
        ("snomed", "370143000", "370143000"),  # major depressive disorder
        ("loinc", "2345-7", "2345-7"),  # glucose
        ("loinc", "718-7", "718-7"),  # hemoglobin
        ("rxnorm", "6130", "6130"),
    ],
)
def test_real_codes_are_kept_in_one_form(system: str, code: str, kept: str) -> None:
    """Real codes pass their system's check and come back in the form the library keeps."""
    assert check_code(system, code) == kept


@pytest.mark.parametrize(
    ("system", "code", "why"),
    [
        ("icd10cm", "F99.999", "is not an ICD-10-CM code"),
        ("icd10cm", "F20-F29", "is not an ICD-10-CM code"),  # a block, not a code
        ("icd10cm", "5", "is not an ICD-10-CM code"),  # a chapter
        ("snomed", "35489008", "wrong check digit"),
        ("snomed", "1234011", "partition '01'"),  # check digit right, but a description id
        ("snomed", "12345", "6 to 18 digits"),
        ("loinc", "2345-8", "wrong check digit"),
        ("loinc", "2345", "expected NNNNN-C"),
        ("rxnorm", "12345678", "1 to 7 digits"),
    ],
)
def test_near_misses_are_refused_with_the_reason(system: str, code: str, why: str) -> None:
    """A near miss of a real code is refused, and the message says why."""
    with pytest.raises(ValueError, match=why.replace("(", r"\(")):
        check_code(system, code)


def test_bad_codes_are_one_line_each_with_file_line_and_field(tmp_path: Path) -> None:
    """Each bad code in a handout file is one `file:line: codes.system[i]: message` line."""
    (tmp_path / "handouts" / "en").mkdir(parents=True)
    (tmp_path / "handouts" / "en" / "sleep.yaml").write_text(HANDOUT, encoding="utf-8")
    handouts, problems = load_library([tmp_path / "handouts"], tmp_path)
    assert handouts == []
    assert [str(p) for p in sorted(problems, key=lambda p: p.line or 0)] == [
        "handouts/en/sleep.yaml:9: codes.icd10cm[1]: 'F99.999' is not an ICD-10-CM code",
        "handouts/en/sleep.yaml:10: codes.rxnorm[1]: '12a' is not an RxNorm code (an RXCUI is 1 to 7 digits)",
        "handouts/en/sleep.yaml:11: codes.loinc[0]: '2345-8' is not a LOINC code (wrong check digit)",
        "handouts/en/sleep.yaml:12: codes.snomed[0]: '35489008' is not a SNOMED CT concept id (wrong check digit)",
    ]


def test_translations_inherit_their_sources_codes_and_editions_ignore_codes() -> None:
    """The seed translations carry no codes yet have their English source's; codes do not change an edition."""
    handouts, problems = load_library([ROOT / "handouts"], ROOT)
    assert not [p for p in problems if p.field and p.field.startswith("codes")]
    by_key = {(h.language, h.id): h for h in handouts}
    for (language, handout_id), h in by_key.items():
        assert h.codes, handout_id
        if language == "es":
            assert h.content.codes is None
            assert h.codes == by_key[("en", handout_id)].codes
    en = by_key[("en", "ketamine-and-antidepressants")]
    bare = type(en)(**{**en.__dict__, "content": en.content.model_copy(update={"codes": None})})
    assert bare.edition == en.edition


def test_a_category_matches_its_subcodes_most_specific_first() -> None:
    """F33.1 selects a handout coded F33.1 before one coded only with its category F33; F32.A selects neither."""
    assert match_rank("icd10cm", "F33.1", CodeSet.of({"icd10cm": ["F33.1"]})) == 0
    assert match_rank("icd10cm", "F33.1", CodeSet.of({"icd10cm": ["F33"]})) == 1
    assert match_rank("icd10cm", "F32.A", CodeSet.of({"icd10cm": ["F33"]})) is None
    assert match_rank("icd10cm", "F33", CodeSet.of({"icd10cm": ["F33.1"]})) is None  # a child does not match its parent

    class H:
        def __init__(self, id: str, codes: CodeSet):
            self.id, self.language, self.codes = id, "en", codes

    found = find_handouts(
        [H("a", CodeSet.of({"icd10cm": ["F33"]})), H("b", CodeSet.of({"icd10cm": ["F33.1"]}))], "icd10cm", "F33.1"
    )
    assert [(rank, h.id) for rank, h in found] == [(0, "b"), (1, "a")]


@pytest.mark.parametrize(
    ("code", "system"),
    [
        ("F33.1", "icd10cm"),
        ("f32a", "icd10cm"),
        ("2345-7", "loinc"),
        ("6130", "rxnorm"),
        ("123456", "rxnorm"),
        ("73211009", "snomed"),
    ],
)
def test_the_system_is_guessed_from_the_shape(code: str, system: str) -> None:
    """Letters first is ICD-10-CM, a hyphen LOINC, 8+ digits SNOMED CT, a failed SNOMED check digit RxNorm."""
    assert guess_system(code) == system


def test_digits_that_fit_both_rxnorm_and_snomed_are_ambiguous() -> None:
    """Seven digits with a valid SNOMED CT check digit could be either: the guess refuses."""
    with pytest.raises(ValueError, match="could be RxNorm or SNOMED CT"):
        guess_system("8517006")


def test_a_long_lived_process_gives_translations_their_sources_codes_too() -> None:
    """`watch`'s kept handouts give each translation its source's codes, on the first load and from what they kept."""
    from handoutpress.batch.loading import KeptHandouts

    fresh = {(h.language, h.id): h.codes for h in load_library([ROOT / "handouts"], ROOT)[0]}
    kept = KeptHandouts()
    for _ in range(2):
        handouts, _ = kept.load([ROOT / "handouts"], ROOT)
        assert {(h.language, h.id): h.codes for h in handouts} == fresh
    assert all(codes.get("rxnorm") == ("6130",) for (language, _), codes in fresh.items() if language == "es")
