"""`check` at the size of a real library: it reuses the checks cache the build keeps,
and checks the rest in several processes, with the very same report and output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import ROOT, TODAY, TODAY_DATE

from handoutpress.checks.cache import CACHE_FILE
from handoutpress.checks.run import PARALLEL_FROM, check_handouts
from handoutpress.cli import main
from handoutpress.load.config import load_project_config
from handoutpress.load.content import load_library

FIXTURES = Path(__file__).parent / "fixtures"
CLEAR = (FIXTURES / "checks" / "clear-sleep.yaml").read_text(encoding="utf-8")
EXTRA = [
    "Do not drive after a dose.",
    "Ask your pharmacist about every new medicine before you take it with this one.",
    "The medication was administered by the nurse.",
    "Call your doctor if you feel dizzy.",
]


def make_library(root: Path) -> Path:
    """Enough handouts to be shared out among processes: the English and Spanish check fixtures
    (findings of every severity) and varied copies of a clear handout, one of them broken."""
    for language, folder in (("en", "checks"), ("es", "checks_es")):
        (root / "handouts" / language).mkdir(parents=True)
        for f in (FIXTURES / folder).glob("*.yaml"):
            shutil.copy(f, root / "handouts" / language / f.name)
    for i in range(PARALLEL_FROM + 8):
        extra = " ".join(EXTRA[: i % len(EXTRA) + 1])
        text = CLEAR.replace("Keep your room dark and cool.", f"Keep your room dark and cool. {extra}")
        if i % 7 == 3:
            text = text.replace("next_review: 2027-06", "next_review: 2026-12")  # due soon: a warning
        (root / "handouts" / "en" / f"copy-{i:02d}.yaml").write_text(text, encoding="utf-8")
    (root / "handouts" / "en" / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    return root


@pytest.fixture
def library(tmp_path) -> Path:
    return make_library(tmp_path / "project")


def check(root: Path, capsys, *extra: str) -> tuple[int, str, str]:
    status = main(["--root", str(root), "check", "--today", TODAY, *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_parallel_checks_give_the_serial_report(library):
    """Checking in two processes gives exactly the report of one process: same JSON, same order."""
    handouts, problems = load_library([library / "handouts"], library)
    assert len(handouts) > PARALLEL_FROM
    config = load_project_config(library)
    serial = check_handouts(handouts, problems, library, TODAY_DATE, config, jobs=1)
    parallel = check_handouts(handouts, problems, library, TODAY_DATE, config, jobs=2)
    assert json.dumps(parallel.as_json(), ensure_ascii=False) == json.dumps(serial.as_json(), ensure_ascii=False)
    assert serial.errors and serial.warnings and serial.notes  # every severity is compared


def test_check_reuses_the_build_s_cache_with_output_unchanged(library, capsys):
    """`check` keeps its results in out/.cache/checks.json; a warm run prints byte for byte what a cold one does, text and JSON."""
    cache = library / "out" / CACHE_FILE
    for form in ("text", "json"):
        cache.unlink(missing_ok=True)
        cold = check(library, capsys, "--format", form, "--jobs", "2")
        assert cache.is_file()
        warm = check(library, capsys, "--format", form, "--jobs", "2")
        serial_fresh = check(library, capsys, "--format", form, "--jobs", "1")  # warm too: the cache is shared
        cache.unlink()
        uncached_serial = check(library, capsys, "--format", form, "--jobs", "1")
        assert cold == warm == serial_fresh == uncached_serial
        assert cold[0] == 1  # the broken handout and the unsafe fixtures fail the check


def test_a_warm_check_rechecks_only_what_changed(library):
    """With the cache warm, only the handout edited since is checked again."""
    handouts, problems = load_library([library / "handouts"], library)
    config = load_project_config(library)
    cache = library / "out" / CACHE_FILE
    first = check_handouts(handouts, problems, library, TODAY_DATE, config, cache_file=cache, jobs=2)
    assert first.rechecked == len(handouts)
    edited = library / "handouts" / "en" / "copy-03.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Call your doctor", "Call your nurse"), encoding="utf-8")
    handouts, problems = load_library([library / "handouts"], library)
    again = check_handouts(handouts, problems, library, TODAY_DATE, config, cache_file=cache, jobs=2)
    assert again.rechecked == 1


def test_check_refuses_a_negative_jobs(library, capsys):
    """`check --jobs -1` is a usage error: one line, exit status 2."""
    status, _, err = check(library, capsys, "--jobs", "-1")
    assert status == 2
    assert err.strip() == "generate.py: --jobs must be 0 or more, got -1"
