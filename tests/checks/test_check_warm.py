"""`generate.py check` with its caches (the load cache and the checks cache under out/.cache/) prints
byte for byte what a fresh check prints, whatever changed since the last run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support import ROOT, TODAY

from handoutpress.checks.cache import CACHE_FILE, LOAD_CACHE_FILE
from handoutpress.checks.memo import memo_file
from handoutpress.cli.main import main
from handoutpress.load.content import LoadCache, load_handout, load_library


def make_project(root: Path) -> Path:
    """The real handouts (English and Spanish, with translations) and glossaries, in ``root``."""
    for folder in ("handouts", "glossary"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


def check(root: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `check`; its exit code, stdout and stderr."""
    capsys.readouterr()
    code = main(["--root", str(root), "check", "--jobs", "1", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def fresh(root: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`check` with no cache at all; the caches it leaves are then removed again."""
    shutil.rmtree(root / "out", ignore_errors=True)
    result = check(root, capsys, *argv)
    shutil.rmtree(root / "out", ignore_errors=True)
    return result


def first_handout(root: Path) -> Path:
    return sorted((root / "handouts" / "en").glob("*.yaml"))[0]


def edit_one(root: Path, today: list[str]) -> None:
    path = first_handout(root)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: ", "title: Edited ", 1), encoding="utf-8")


def touch_one(root: Path, today: list[str]) -> None:
    path = first_handout(root)
    path.write_bytes(path.read_bytes())
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))


def change_day(root: Path, today: list[str]) -> None:
    today[0] = "2027-05-20"


def change_glossary(root: Path, today: list[str]) -> None:
    path = root / "glossary" / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# a comment changes its bytes\n", encoding="utf-8")


def break_glossary(root: Path, today: list[str]) -> None:
    (root / "glossary" / "en.yaml").write_text("terms: [unclosed\n", encoding="utf-8")


def add_one(root: Path, today: list[str]) -> None:
    shutil.copy(first_handout(root), root / "handouts" / "en" / "a-copy.yaml")


def change_settings(root: Path, today: list[str]) -> None:
    (root / "handoutpress.yaml").write_text("checks:\n  target_grade: 5\n", encoding="utf-8")


def corrupt_caches(root: Path, today: list[str]) -> None:
    for name in (CACHE_FILE, LOAD_CACHE_FILE, memo_file(Path("."), "json"), memo_file(Path("."), "text")):
        path = root / "out" / name
        if path.is_file():  # the last check's output is kept for its own format only
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def tamper_load_cache(root: Path, today: list[str]) -> None:
    path = root / "out" / LOAD_CACHE_FILE
    path.write_text(path.read_text(encoding="utf-8").replace('"lines":[', '"lines":[[7],', 1), encoding="utf-8")


def delete_one(root: Path, today: list[str]) -> None:
    first_handout(root).unlink()


def break_one(root: Path, today: list[str]) -> None:
    first_handout(root).write_text("title: [unclosed\n", encoding="utf-8")


CHANGES: list[Callable[[Path, list[str]], None]] = [
    edit_one,
    touch_one,
    change_day,
    change_glossary,
    break_glossary,
    add_one,
    change_settings,
    corrupt_caches,
    tamper_load_cache,
    delete_one,
    break_one,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
@pytest.mark.parametrize("form", ["json", "text"])
def test_warm_check_prints_what_a_fresh_check_prints(tmp_path: Path, capsys, change, form: str) -> None:
    """A check with both caches warm, after one change, prints exactly what a fresh check prints."""
    root = make_project(tmp_path)
    today = [TODAY]
    check(root, capsys, "--today", today[0], "--format", form)  # fills both caches
    assert (root / "out" / LOAD_CACHE_FILE).is_file()
    unchanged = check(root, capsys, "--today", today[0], "--format", form)
    change(root, today)
    warm = check(root, capsys, "--today", today[0], "--format", form)
    again = check(root, capsys, "--today", today[0], "--format", form)
    expected = fresh(root, capsys, "--today", today[0], "--format", form)
    assert warm == expected
    assert again == expected
    if change not in (edit_one, change_day, change_glossary, break_glossary, add_one, change_settings, delete_one, break_one):
        assert unchanged == expected


def test_an_unchanged_file_comes_from_the_cache_equal_to_a_fresh_load(tmp_path: Path) -> None:
    """A handout taken from the load cache equals the one loaded afresh, lines and codes included,
    and an unchanged file is not read again (the cache is not written when nothing changed)."""
    root = make_project(tmp_path)
    cache_file = root / "out" / LOAD_CACHE_FILE
    first = LoadCache(cache_file)
    loaded, problems = load_library([root / "handouts"], root, first)
    first.save(loaded)
    written = cache_file.stat().st_mtime_ns
    second = LoadCache(cache_file)
    cached, cached_problems = load_library([root / "handouts"], root, second)
    second.save(cached)
    assert cache_file.stat().st_mtime_ns == written
    assert cached_problems == problems
    for a, b in zip(cached, loaded, strict=True):
        assert a == b and a.lines == b.lines and a.codes == b.codes
        assert b == load_handout(b.source, root)
