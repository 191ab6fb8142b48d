"""``generate.py report``: counts of what was handed out, by each field, between
two days, as a table, CSV or JSON, small counts suppressed in exports, and the
superseded editions against a real manifest."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from handoutpress.cli import main

E1, E2 = "2025.02-aaaaaa", "2026.01-bbbbbb"
SEEDED = [  # day, desk, handout, language, variant, edition, channel, count, selected by
    ("2026-01-05", "east", "a-handout", "en", "standard", E1, "print", 12, None),
    ("2026-01-20", "east", "a-handout", "es", "large-print", E1, "open", 3, None),
    ("2026-02-02", "west", "b-handout", "en", "web", E2, "open", 1, ("icd10cm", "F33")),
    ("2026-02-10", "west", "a-handout", "en", "standard", E1, "print", 20, None),
    ("2026-03-01", "east", "b-handout", "en", "standard", E2, "personalised", 11, None),
]


def _seed(backend) -> None:
    for day, desk, handout, language, variant, edition, channel, count, via in SEEDED:
        records = backend.open(desk)
        event = backend.event(
            day=date.fromisoformat(day), desk=desk, handout_id=handout, language=language, variant=variant,
            edition=edition, channel=channel, count=count,
            selected_system=via[0] if via else None, selected_code=via[1] if via else None,
        )  # fmt: skip
        assert records.record([event]) is None


def _report(backend, capsys, *argv: str) -> tuple[int, str, str]:
    records = ("--records", backend.url) if backend.url else ()
    status = main(["--root", str(backend.root), "report", *records, *argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _json(backend, capsys, *argv: str) -> list[dict]:
    status, out, err = _report(backend, capsys, "--format", "json", "--no-suppress", *argv)
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("handout", [{"id": "a-handout", "count": 35}, {"id": "b-handout", "count": 12}]),
        ("edition", [{"id": "a-handout", "edition": E1, "count": 35}, {"id": "b-handout", "edition": E2, "count": 12}]),
        ("language", [{"language": "en", "count": 44}, {"language": "es", "count": 3}]),
        (
            "variant",
            [{"variant": "large-print", "count": 3}, {"variant": "standard", "count": 43}, {"variant": "web", "count": 1}],
        ),
        (
            "channel",
            [{"channel": "open", "count": 4}, {"channel": "personalised", "count": 11}, {"channel": "print", "count": 32}],
        ),
        ("desk", [{"desk": "east", "count": 26}, {"desk": "west", "count": 21}]),
        ("month", [{"month": "2026-01", "count": 15}, {"month": "2026-02", "count": 21}, {"month": "2026-03", "count": 11}]),
        ("day", [{"day": d, "count": c} for d, *_, c, _ in SEEDED]),
    ],
)
def test_report_counts_by_each_field(by: str, expected: list[dict], backend, capsys) -> None:
    """--by FIELD sums the counts per value of that field, in its order, in SQLite and PostgreSQL alike."""
    _seed(backend)
    assert _json(backend, capsys, "--by", by) == expected


def test_the_default_rows_are_the_full_breakdown(backend, capsys) -> None:
    """Without --by a JSON row is one edition, language, variant and channel of a handout: id, edition, language, variant, channel, count."""
    _seed(backend)
    rows = _json(backend, capsys)
    assert rows[0] == {"id": "a-handout", "edition": E1, "language": "en", "variant": "standard", "channel": "print", "count": 32}
    assert len(rows) == 4 and sum(r["count"] for r in rows) == 47


def test_several_fields_and_the_days_between(backend, capsys) -> None:
    """--by can be repeated, and --since/--until count only the days between, both included."""
    _seed(backend)
    assert _json(backend, capsys, "--by", "desk", "--by", "month", "--since", "2026-01-20", "--until", "2026-02-10") == [
        {"desk": "east", "month": "2026-01", "count": 3},
        {"desk": "west", "month": "2026-02", "count": 21},
    ]
    assert _json(backend, capsys, "--since", "2026-04-01") == []


def test_exports_suppress_counts_from_1_to_10(backend, capsys) -> None:
    """CSV and JSON show 1 to 10 as <11 unless --no-suppress; 11 and more are shown."""
    _seed(backend)
    status, out, _ = _report(backend, capsys, "--format", "json", "--by", "channel")
    assert status == 0
    assert json.loads(out) == [
        {"channel": "open", "count": "<11"},
        {"channel": "personalised", "count": 11},
        {"channel": "print", "count": 32},
    ]
    status, out, _ = _report(backend, capsys, "--format", "csv", "--by", "desk", "--by", "language")
    assert status == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["desk", "language", "count"], ["east", "en", "23"], ["east", "es", "<11"], ["west", "en", "21"],
    ]  # fmt: skip
    status, out, _ = _report(backend, capsys, "--format", "csv", "--by", "language", "--no-suppress")
    assert out == "language,count\nen,44\nes,3\n"


def test_the_text_table_shows_every_count_and_says_what_exports_do(backend, capsys) -> None:
    """On a terminal every count is shown, in aligned columns, with a footer on totals and suppression."""
    _seed(backend)
    status, out, _ = _report(backend, capsys, "--by", "language")
    assert status == 0
    assert out.splitlines() == [
        "language  count",
        "en           44",
        "es            3",
        "",
        f"2 row(s), 47 handed out on any day ({_location(backend)})",
        "Exports (--format csv, json) show counts from 1 to 10 as <11; --no-suppress shows them.",
    ]


def _location(backend) -> str:
    if backend.url is None:
        return str(backend.root / "records" / "handed-out.sqlite3")
    return backend.url


def test_superseded_editions_against_a_real_manifest(built_library, backend, capsys) -> None:
    """--superseded lists the editions handed out that the manifest no longer has as current, or whose handout is gone."""
    current = next(o for o in built_library.manifest["outputs"] if o["variant"] == "standard" and o["language"] == "en")
    records = backend.open()
    handed = [
        backend.event(handout_id=current["id"], edition=current["edition"], count=5),  # current: not listed
        backend.event(handout_id=current["id"], edition="2024.01-000000", count=2),
        backend.event(handout_id=current["id"], edition="2024.01-000000", count=1, channel="open"),
        backend.event(handout_id="a-withdrawn-handout", edition="2024.01-111111", count=12),
    ]
    assert records.record(handed) is None
    status, out, err = _report(backend, capsys, "--superseded", "--out", str(built_library.out), "--format", "json")
    assert status == 0, err
    assert json.loads(out) == [
        {"id": "a-withdrawn-handout", "language": "en", "variant": "standard", "edition": "2024.01-111111",
         "current_edition": None, "status": "withdrawn", "count": 12},
        {"id": current["id"], "language": "en", "variant": "standard", "edition": "2024.01-000000",
         "current_edition": current["edition"], "status": "replaced", "count": "<11"},
    ]  # fmt: skip
    status, out, _ = _report(backend, capsys, "--superseded", "--out", str(built_library.out))
    assert "2 superseded edition(s), 15 handed out on any day" in out


def test_superseded_needs_a_built_manifest(backend, tmp_path: Path, capsys) -> None:
    """--superseded against a folder with no manifest.json says so in one line, exit 1."""
    _seed(backend)
    status, _, err = _report(backend, capsys, "--superseded", "--out", str(tmp_path / "nothing"))
    assert status == 1
    assert err == f"report: no manifest.json in {tmp_path / 'nothing'}: build first, or name the built folder with --out\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "2026-02-01", "--until", "2026-01-01"], "generate.py: --since 2026-02-01 is after --until 2026-01-01"),
        (["--since", "2026-02-30"], "generate.py: argument --since: expected YYYY-MM-DD, got '2026-02-30'"),
        (["--until", "yesterday"], "generate.py: argument --until: expected YYYY-MM-DD, got 'yesterday'"),
        (["--by", "patient"], "generate.py: argument --by: invalid choice: 'patient' (choose from 'handout', 'edition', 'language', 'variant', 'channel', 'desk', 'day', 'month')"),
        (["--format", "xml"], "generate.py: argument --format: invalid choice: 'xml' (choose from 'text', 'json', 'csv')"),
        (["--superseded", "--by", "desk"], "generate.py: --superseded lists editions: it takes no --by"),
    ],
)  # fmt: skip
def test_a_wrong_command_line_is_one_line_exit_2(argv: list[str], message: str, tmp_path: Path, capsys) -> None:
    """Bad dates, days in the wrong order and unknown fields are usage errors, as for every command."""
    assert main(["--root", str(tmp_path), "report", *argv]) == 2
    assert capsys.readouterr().err == message + "\n"


def test_no_record_yet_is_one_line_and_makes_nothing(tmp_path: Path, capsys) -> None:
    """A report where nothing was ever recorded says where it looked, exits 1, and creates no file."""
    assert main(["--root", str(tmp_path), "report"]) == 1
    assert (
        capsys.readouterr().err == f"report: no events have been recorded yet at {tmp_path / 'records' / 'handed-out.sqlite3'}\n"
    )
    assert not (tmp_path / "records").exists()


def test_an_empty_postgresql_database_has_no_record_yet(postgres_server, tmp_path: Path, capsys) -> None:
    """A PostgreSQL database no desk has used yet reads as 'no events recorded yet', exit 1."""
    url = postgres_server.new_database()
    try:
        assert main(["--root", str(tmp_path), "report", "--records", url]) == 1
        assert capsys.readouterr().err == f"report: no events have been recorded yet at {url}\n"
    finally:
        postgres_server.drop_database(url)


def test_an_unreachable_record_is_one_line_exit_1(tmp_path: Path, capsys) -> None:
    """A --records server that does not answer is one line naming it (password masked), exit 1."""
    assert main(["--root", str(tmp_path), "report", "--records", "postgresql://desk:s3cret@127.0.0.1:1/records"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("--records: cannot use postgresql://desk:***@127.0.0.1:1/records: connection to server at")
    assert err.count("\n") == 1 and "s3cret" not in err
