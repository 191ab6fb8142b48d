"""`check` with nothing changed prints the last check's output again (out/.cache/check-<format>.out),
byte for byte what a fresh check prints, and works its output out afresh whenever an input changed."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from support import ROOT, TODAY, TODAY_DATE

from handoutpress.checks.memo import CheckMemo, CheckOutput, memo_file
from handoutpress.checks.report import indented_json, json_text
from handoutpress.checks.run import check_handouts
from handoutpress.cli.main import main
from handoutpress.load.config import load_project_config
from handoutpress.load.content import load_library

FIXTURES = Path(__file__).parent / "fixtures"
DUE_SOON = "2026-01-01"  # the seed handouts' next review (2026-02) is due: warnings, no errors


def run(root: Path, capsys, *argv: str, today: str = TODAY) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--root", str(root), "check", "--today", today, "--jobs", "1", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def library_of(root: Path, copies: int) -> Path:
    """The English and Spanish check fixtures, ``copies`` varied copies of a clear handout, a broken file."""
    clear = (FIXTURES / "checks" / "clear-sleep.yaml").read_text(encoding="utf-8")
    for language, folder in (("en", "checks"), ("es", "checks_es")):
        (root / "handouts" / language).mkdir(parents=True)
        for f in (FIXTURES / folder).glob("*.yaml"):
            shutil.copy(f, root / "handouts" / language / f.name)
    for i in range(copies):
        extra = " ".join(["Do not drive after a dose.", "The medication was administered by the nurse."][: i % 3])
        text = clear.replace("Keep your room dark and cool.", f"Keep your room dark and cool. {extra} Rest {i}.")
        (root / "handouts" / "en" / f"copy-{i:03d}.yaml").write_text(text, encoding="utf-8")
    (root / "handouts" / "en" / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for folder in ("handouts", "glossary", "assets"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


@pytest.mark.parametrize("form", ["json", "text"])
def test_a_check_with_nothing_changed_is_the_last_output_again(project: Path, capsys, form: str) -> None:
    """The second check answers from the memo: the same stdout, stderr and exit status, --strict included."""
    first = run(project, capsys, "--format", form, today=DUE_SOON)
    memo = memo_file(project / "out", form)
    assert memo.is_file()
    written = memo.stat().st_mtime_ns
    again = run(project, capsys, "--format", form, today=DUE_SOON)
    assert again == first and first[0] == 0
    assert memo.stat().st_mtime_ns == written  # answered from it, not written again
    strict = run(project, capsys, "--format", form, "--strict", today=DUE_SOON)
    assert strict[0] == 1 and strict[1:] == first[1:]  # warnings fail --strict, from the memo too
    shutil.rmtree(project / "out")
    assert run(project, capsys, "--format", form, "--strict", today=DUE_SOON) == strict


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: re.sub(rb'"errors": [0-9]+', b'"errors": 0', data, count=1),
        lambda data: data[:-3] + b"XYZ",
        lambda data: b"not json\n" + data,
        lambda data: b"",
    ],
    ids=["truncated", "counts edited", "body edited", "header broken", "empty"],
)
def test_a_damaged_memo_is_ignored_and_replaced(project: Path, capsys, damage) -> None:
    """A memo file that was cut short or edited never changes what `check` prints."""
    expected = run(project, capsys, "--format", "json")
    memo = memo_file(project / "out", "json")
    memo.write_bytes(damage(memo.read_bytes()))
    assert run(project, capsys, "--format", "json") == expected
    assert run(project, capsys, "--format", "json") == expected


def test_every_input_is_in_the_key(project: Path) -> None:
    """A handout, a glossary, an asset, the settings, the day, the format, the PATHs and the
    code each change the key; files in out/ do not."""
    handouts = (project / "handouts",)

    def key(*settings: str, paths: tuple[Path, ...] = ()) -> str | None:
        return CheckMemo(memo_file(project / "out", "json"), project, list(settings), paths).key

    first = key("today 1")
    assert first is not None and key("today 1") == first
    assert key("today 2") != first
    assert key("today 1", paths=handouts) != first
    (project / "out" / ".cache").mkdir(parents=True)
    (project / "out" / ".cache" / "checks.json").write_text("{}")
    assert key("today 1") == first
    changes = [
        lambda: (project / "handouts" / "en" / "new.yaml").write_text("title: x\n"),
        lambda: (project / "glossary" / "en.yaml").write_text("terms: []\n"),
        lambda: (project / "assets" / "picture.png").write_bytes(b"png"),
        lambda: (project / "assets" / "picture.png").write_bytes(b"another picture"),
        lambda: (project / "handoutpress.yaml").write_text("checks:\n  target_grade: 7\n"),
    ]
    seen = {first}
    for change in changes:
        change()
        now = key("today 1")
        assert now not in seen
        seen.add(now)


def test_no_memo_when_the_inputs_cannot_be_pinned_down(project: Path, tmp_path: Path) -> None:
    """A PATH outside handouts/, or a symbolic link among the inputs, is never answered from a memo."""
    outside = tmp_path / "elsewhere" / "en"
    outside.mkdir(parents=True)
    shutil.copy(project / "handouts" / "en" / "ketamine-and-antidepressants.yaml", outside)
    memo = memo_file(project / "out", "json")
    assert CheckMemo(memo, project, [], (outside,)).key is None
    assert CheckMemo(memo, project, [], (project / "handouts" / "en",)).key is not None
    (project / "handouts" / "en" / "linked.yaml").symlink_to(outside / "ketamine-and-antidepressants.yaml")
    assert CheckMemo(memo, project, [], ()).key is None


def test_a_check_whose_inputs_changed_while_it_ran_is_not_kept(project: Path) -> None:
    """An output worked out while a handout was being saved is not kept for the next check."""
    path = memo_file(project / "out", "json")
    memo = CheckMemo(path, project, ["today 1"], ())
    edited = project / "handouts" / "en" / "ketamine-and-antidepressants.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    memo.keep(CheckOutput("out\n", "", 0, 0))
    assert not path.exists()
    again = CheckMemo(path, project, ["today 1"], ())
    again.keep(CheckOutput("out\n", "err\n", 1, 2))
    assert CheckMemo(path, project, ["today 1"], ()).replay() == CheckOutput("out\n", "err\n", 1, 2)


def test_the_json_writer_is_json_dumps_with_indent(project: Path) -> None:
    """`report.json_text` writes exactly what ``json.dumps(indent=2, ensure_ascii=False)`` writes,
    on a real report and on every kind of value."""
    handouts, problems = load_library([project / "handouts"], project)
    report = check_handouts(handouts, problems, project, TODAY_DATE, load_project_config(project))
    assert json_text(report) == json.dumps(report.as_json(), indent=2, ensure_ascii=False)
    odd = [{}, [], {"a": [[], {}]}, 1.5, -0.0, 1e16, float("nan"), float("inf"), -float("inf"), True, False, None]
    odd += ["é “quoted” \u2028 \\ \"\n\t\x00", {1: "int key", 2.5: "float key", None: "none", False: "bool"}, ("a", (1,))]
    for value in odd:
        assert indented_json(value) == json.dumps(value, indent=2, ensure_ascii=False), value


def test_json_output_at_scale_is_byte_for_byte_a_fresh_check_s(tmp_path: Path, capsys) -> None:
    """On a library shared out among processes, `check --format json` prints the same bytes cold,
    from the caches after one edit, from the memo, and with no cache at all."""
    root = library_of(tmp_path / "library", 90)
    argv = ("--format", "json", "--jobs", "2")
    cold = run(root, capsys, *argv)
    edited = root / "handouts" / "en" / "copy-007.yaml"
    long = "Keep your room dark and cool, and keep the lights low and the screens away for an hour or more before the time you plan to go to sleep each night."
    edited.write_text(edited.read_text(encoding="utf-8").replace("Keep your room dark and cool.", long, 1), encoding="utf-8")
    warm = run(root, capsys, *argv)
    memo = run(root, capsys, *argv)
    shutil.rmtree(root / "out")
    fresh = run(root, capsys, *argv)
    assert warm == memo == fresh
    assert warm != cold  # the edit shows
    assert len(json.loads(fresh[1])["handouts"]) > 80
    os.utime(edited)  # touched: worked out again, from the caches, the same
    assert run(root, capsys, *argv) == fresh
