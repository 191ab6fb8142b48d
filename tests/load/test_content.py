"""The content contract: every kind of bad input gives its exact one-line message."""

from __future__ import annotations

import pytest
from support import SEED_DAY
from support.project import GOOD_HANDOUT

SECTION_TABLE = "    table:"


def _variant(old: str, new: str) -> str:
    assert old in GOOD_HANDOUT, old
    return GOOD_HANDOUT.replace(old, new, 1)


CASES = {
    "unknown-key": (
        _variant("title: Sleep", "titel: Sleep"),
        [
            "handouts/en/unknown-key.yaml:1: title: required field is missing",
            "handouts/en/unknown-key.yaml:1: titel: unknown key 'titel'; did you mean 'title'?",
        ],
    ),
    "nested-unknown-key": (
        _variant("  - heading: Why", "  - haeding: Why"),
        [
            "handouts/en/nested-unknown-key.yaml:12: sections[0].heading: required field is missing",
            "handouts/en/nested-unknown-key.yaml:12: sections[0].haeding: unknown key 'haeding'; did you mean 'heading'?",
        ],
    ),
    "bad-month": (
        _variant("next_review: 2026-02", "next_review: 2026-13"),
        ["handouts/en/bad-month.yaml:6: review.next_review: expected YYYY-MM or YYYY-MM-DD, got '2026-13'"],
    ),
    "bad-day": (
        _variant("reviewed: 2025-02", "reviewed: 2025-02-30"),
        ["handouts/en/bad-day.yaml:5: review.reviewed: expected YYYY-MM or YYYY-MM-DD, got '2025-02-30'"],
    ),
    "review-order": (
        _variant("next_review: 2026-02", "next_review: 2024-12"),
        ["handouts/en/review-order.yaml:6: review.next_review: must be after review.reviewed (2025-02), got 2024-12"],
    ),
    "missing-review": (
        _variant("review:", "reviewx:"),
        [
            "handouts/en/missing-review.yaml:1: review: required field is missing",
            "handouts/en/missing-review.yaml:4: reviewx: unknown key 'reviewx'; did you mean 'review'?",
        ],
    ),
    "bad-kind": (
        _variant("topics:", "kind: leaflet\ntopics:"),
        ["handouts/en/bad-kind.yaml:3: kind: expected one of handout or faq, got 'leaflet'"],
    ),
    "wrong-type": (
        _variant("topics: [Sleep, Mood]", "topics: Sleep"),
        ["handouts/en/wrong-type.yaml:3: topics: expected a list, got 'Sleep'"],
    ),
    "no-sections": (
        GOOD_HANDOUT.split("sections:")[0],
        ["handouts/en/no-sections.yaml:1: sections: required for kind: handout (at least one section)"],
    ),
    "too-deep": (
        _variant(
            SECTION_TABLE,
            "    sections:\n      - heading: A\n        body: b\n        sections:\n          - heading: C\n            body: d\n" + SECTION_TABLE,
        ),
        ["handouts/en/too-deep.yaml:18: sections[0].sections[0].sections: sections nest one level at most; move this list up a level"],
    ),
    "short-row": (
        _variant('["10 pm", Lights out]', '["10 pm"]'),
        ["handouts/en/short-row.yaml:20: sections[0].table.rows[1]: has 1 cell, expected 2 (one per column)"],
    ),
    "image-url": (
        _variant(SECTION_TABLE, "    image: {src: 'file:///etc/passwd', alt: x}\n" + SECTION_TABLE),
        ["handouts/en/image-url.yaml:15: sections[0].image.src: must be a file inside assets/, not a URL ('file:///etc/passwd')"],
    ),
    "image-escape": (
        _variant(SECTION_TABLE, "    image: {src: assets/../../etc/passwd.svg, alt: x}\n" + SECTION_TABLE),
        ["handouts/en/image-escape.yaml:15: sections[0].image.src: must be a file inside assets/, got 'assets/../../etc/passwd.svg'"],
    ),
    "image-no-alt": (
        _variant(SECTION_TABLE, "    image: {src: assets/medication-list.svg}\n" + SECTION_TABLE),
        ["handouts/en/image-no-alt.yaml:15: sections[0].image.alt: required field is missing"],
    ),
    "image-missing": (
        _variant(SECTION_TABLE, "    image: {src: assets/nope.svg, alt: A picture}\n" + SECTION_TABLE),
        ["handouts/en/image-missing.yaml:15: sections[0].image.src: image not found: assets/nope.svg"],
    ),
    "duplicate-key": (
        _variant("topics:", "title: Again\ntopics:"),
        ["handouts/en/duplicate-key.yaml:3: title: duplicate key 'title' (first given on line 1)"],
    ),
    "alias": (
        _variant("topics: [Sleep, Mood]", "topics: &t [Sleep, Mood]\nrelated: *t"),
        ["handouts/en/alias.yaml:3: YAML anchors are not allowed (&t)"],
    ),
    "bare-alias": (
        _variant("topics: [Sleep, Mood]", "topics: *t"),
        ["handouts/en/bare-alias.yaml:3: YAML aliases are not allowed (*t)"],
    ),
    "python-tag": (
        _variant("subtitle: Simple", "subtitle: !!python/object:os.system Simple"),
        ["handouts/en/python-tag.yaml:2: YAML tags are not allowed (tag:yaml.org,2002:python/object:os.system)"],
    ),
    "javascript-link": (
        _variant("You can take small steps tonight.", "[Click here](javascript:alert(1)) now."),
        ["handouts/en/javascript-link.yaml:13: sections[0].body: javascript: links are not allowed; link to an https:// address"],
    ),
    "http-reference": (
        GOOD_HANDOUT + "references:\n  - {title: X, url: 'http://example.org/x'}\n",
        ["handouts/en/http-reference.yaml:25: references[0].url: expected an https:// web address, got 'http://example.org/x'"],
    ),
    "broken-yaml": (
        _variant("topics: [Sleep, Mood]", "topics: [Sleep, Mood"),
        ["handouts/en/broken-yaml.yaml:4: invalid YAML: expected ',' or ']', but got ':'"],
    ),
    "unknown-related": (
        GOOD_HANDOUT + "related: [sleep-and-yuor-mood]\n",
        ["handouts/en/unknown-related.yaml:24: related[0]: no handout 'sleep-and-yuor-mood' in handouts/en/; did you mean 'sleep-and-your-mood'?"],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_content_gives_exact_message(mini, capsys, name):
    """Each broken file gives exactly its documented one-line errors and exit 1."""
    text, expected = CASES[name]
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT)
    mini.write(f"handouts/en/{name}.yaml", text)
    status = mini.run("check", "--today", SEED_DAY, str(mini.root / "handouts"))
    err = capsys.readouterr().err
    assert status == 1
    lines = [ln for ln in err.splitlines() if ln.startswith("handouts/")]
    assert lines == expected
    assert "Traceback" not in err


def test_empty_and_non_utf8_files_are_rejected(mini, capsys):
    """An empty file and a Latin-1 file each get one clear line."""
    mini.write("handouts/en/empty.yaml", "# only a comment\n")
    mini.write("handouts/en/latin.yaml", "title: Caf\xe9\n".encode("latin-1"))
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = capsys.readouterr().err.splitlines()
    assert "handouts/en/empty.yaml: file is empty" in err
    assert "handouts/en/latin.yaml:1: file is not UTF-8 text (byte 0xe9 at offset 10)" in err


def test_all_errors_of_a_run_are_reported_together(mini, capsys):
    """One run reports every problem of every file, not just the first."""
    for name in ("bad-month", "bad-kind", "duplicate-key"):
        mini.write(f"handouts/en/{name}.yaml", CASES[name][0])
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = capsys.readouterr().err
    for name in ("bad-month", "bad-kind", "duplicate-key"):
        assert CASES[name][1][0] in err


def test_file_names_must_be_ids_in_a_language_folder(mini, capsys):
    """A handout's id comes from its file name and its language from its folder."""
    mini.write("handouts/English/Sleep Tips.yaml", GOOD_HANDOUT)
    assert mini.run("check", "--today", SEED_DAY) == 1
    err = capsys.readouterr().err.splitlines()
    assert "handouts/English/Sleep Tips.yaml: file name must be a handout id of lower-case letters, digits and hyphens, got 'Sleep Tips'" in err
    assert "handouts/English/Sleep Tips.yaml: must sit in a language folder such as handouts/en/, not in 'English'/" in err


def test_good_handout_passes(mini, capsys):
    """A well-formed handout checks clean: no error, no warning, only the note that it is too short for SMOG."""
    mini.write("handouts/en/sleep-and-your-mood.yaml", GOOD_HANDOUT + "codes: {icd10cm: [G47.0]}\n")
    assert mini.run("check", "--today", SEED_DAY) == 0
    captured = capsys.readouterr()
    assert [ln.split(": too short for SMOG")[0] for ln in captured.err.splitlines()] == ["note: handouts/en/sleep-and-your-mood.yaml:1"]
    assert captured.out.rstrip().splitlines()[-1] == "checked 1 handouts: 0 errors, 0 warnings, 1 notes"
