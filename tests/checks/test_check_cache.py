"""The checks cache: a rebuild re-checks only handouts whose check inputs changed, with results
byte for byte the same as checking afresh."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from support import ROOT, TODAY_DATE

from handoutpress.checks import cache as checkcache
from handoutpress.checks.report import format_text
from handoutpress.checks.run import CheckRun, check_handouts
from handoutpress.cli import main
from handoutpress.load.config import load_project_config
from handoutpress.load.content import load_library

FIXTURES = Path(__file__).parent / "fixtures"

CLEAR = (FIXTURES / "checks" / "clear-sleep.yaml").read_text(encoding="utf-8")
FRENCH = """title: Dormir et votre humeur
kind: handout
review:
  reviewed: 2026-06
  next_review: 2027-06
sections:
  - heading: Pourquoi dormir
    body: Le sommeil repose le cerveau. Couchez-vous chaque soir à la même heure.
"""


def make_library(root: Path) -> Path:
    """Findings of every severity: errors (an unsafe link, an overdue review, a handout that does
    not load, a broken glossary), warnings (hard words, a review due soon, a language with no
    formulas) and notes (short SMOG, passive voice), in English, Spanish and French."""
    for language, folder in (("en", "checks"), ("es", "checks_es")):
        (root / "handouts" / language).mkdir(parents=True)
        for f in (FIXTURES / folder).glob("*.yaml"):
            shutil.copy(f, root / "handouts" / language / f.name)
    en = root / "handouts" / "en"
    (en / "unsafe-link.yaml").write_text(
        CLEAR.replace("Keep your room dark and cool.", "Keep your room dark and cool. Do not open javascript:alert(1) links."),
        encoding="utf-8",
    )
    (en / "overdue.yaml").write_text(
        CLEAR.replace("reviewed: 2026-06", "reviewed: 2024-06").replace("2027-06", "2025-06"), encoding="utf-8"
    )
    (en / "due-soon.yaml").write_text(CLEAR.replace("next_review: 2027-06", "next_review: 2026-12"), encoding="utf-8")
    (en / "broken.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    (root / "handouts" / "fr").mkdir()
    (root / "handouts" / "fr" / "dormir.yaml").write_text(FRENCH, encoding="utf-8")
    shutil.copytree(ROOT / "glossary", root / "glossary")
    (root / "glossary" / "fr.yaml").write_text("terms:\n  - term: sommeil\n", encoding="utf-8")
    return root


def run(root: Path, cache: Path | None, today: date = TODAY_DATE, paths=None):
    """What `check --format json` prints, the check table, the build's checks line, the manifest's
    reading grades, and how many handouts were checked afresh."""
    handouts, problems = load_library(paths or [root / "handouts"], root)
    report = check_handouts(handouts, problems, root, today, load_project_config(root), cache_file=cache)
    build = CheckRun(root, today)
    line = build.summary_line(handouts, problems)
    grades = {h.path: build.reading_fields(h) for h in handouts}
    outcome = {
        "json": json.dumps(report.as_json(), indent=2, ensure_ascii=False),
        "text": format_text(report),
        "line": line,
        "grades": grades,
    }
    return outcome, report.rechecked


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "project")


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "out" / checkcache.CACHE_FILE


def test_cached_results_are_byte_for_byte_the_fresh_ones(library, cache, capsys):
    """Cold and warm runs with the cache give the same check JSON, table, checks line and reading
    grades as a run without it, on a library with errors, warnings and notes."""
    fresh, n = run(library, None)
    assert n == 8
    cold, cold_n = run(library, cache)
    warm, warm_n = run(library, cache)
    assert (cold_n, warm_n) == (8, 0)
    assert cold == fresh and warm == fresh
    report = json.loads(fresh["json"])
    assert report["errors"] >= 4 and report["warnings"] > 0 and report["notes"] > 0
    messages = [f["message"] for f in report["findings"]]
    assert any(m.startswith("javascript: address in the text") for m in messages)
    assert any(m.startswith("review is overdue") for m in messages)
    assert any(m.startswith("review is due soon") for m in messages)
    assert any(m.startswith("no reading-grade formulas for language 'fr'") for m in messages)
    assert any(f["file"] == "glossary/fr.yaml" for f in report["findings"])
    assert fresh["line"] == (
        f"checks: 8 handouts, {report['errors']} errors, {report['warnings']} warnings, {report['notes']} notes"
        " (details: python generate.py check)"
    )
    # The command people run prints exactly this JSON.
    main(["--root", str(library), "check", "--today", TODAY_DATE.isoformat(), "--format", "json"])
    assert capsys.readouterr().out == fresh["json"] + "\n"


def test_a_build_check_run_uses_and_fills_the_cache(library, cache):
    """A build's CheckRun writes the cache on the first build and reads it on the next, with the same line."""
    handouts, problems = load_library([library / "handouts"], library)
    first = CheckRun(library, TODAY_DATE, cache_file=cache).summary_line(handouts, problems)
    stored = json.loads(cache.read_text(encoding="utf-8"))
    assert sorted(stored["handouts"]) == sorted(h.path for h in handouts)
    assert sorted(stored["glossaries"]) == ["en", "es", "fr"]
    assert CheckRun(library, TODAY_DATE, cache_file=cache).summary_line(handouts, problems) == first
    assert first == CheckRun(library, TODAY_DATE).summary_line(handouts, problems)
    assert not list(cache.parent.glob(".*.tmp"))


def test_editing_one_handout_rechecks_only_it(library, cache):
    """A changed sentence in one handout re-checks that handout alone."""
    run(library, cache)
    hard = library / "handouts" / "en" / "hard-words.yaml"
    hard.write_text(hard.read_text(encoding="utf-8").replace("title:", "subtitle: Plain words\ntitle:", 1), encoding="utf-8")
    cached, n = run(library, cache)
    assert n == 1
    assert cached == run(library, None)[0]


def test_editing_a_glossary_rechecks_the_handouts_of_its_language(library, cache):
    """A new Spanish glossary term re-checks the two Spanish handouts, not the English or French ones."""
    run(library, cache)
    before = json.loads(run(library, cache)[0]["json"])
    es = library / "glossary" / "es.yaml"
    es.write_text(
        es.read_text(encoding="utf-8") + "  - term: insomnio\n    definition: No poder dormir bien.\n", encoding="utf-8"
    )
    cached, n = run(library, cache)
    assert n == 2
    assert cached == run(library, None)[0]
    terms = {h["path"]: h["words_to_know"] for h in json.loads(cached["json"])["handouts"]}
    old_terms = {h["path"]: h["words_to_know"] for h in before["handouts"]}
    assert "insomnio" in terms["handouts/es/insomnio-dificil.yaml"]
    assert "insomnio" not in old_terms["handouts/es/insomnio-dificil.yaml"]


def test_fixing_a_broken_glossary_reports_it_gone(library, cache):
    """The broken French glossary's problems come from the cache while it is unchanged, and go once it is fixed."""
    run(library, cache)
    warm, n = run(library, cache)
    assert n == 0 and "glossary/fr.yaml" in warm["json"]
    (library / "glossary" / "fr.yaml").write_text(
        "terms:\n  - term: sommeil\n    definition: Le repos de la nuit.\n", encoding="utf-8"
    )
    cached, n = run(library, cache)
    assert n == 1
    assert "glossary/fr.yaml" not in cached["json"]
    assert cached == run(library, None)[0]


def test_a_new_target_grade_rechecks_everything_and_a_comment_nothing(library, cache):
    """The project config as loaded is in the key: a new target grade re-checks all handouts;
    a comment added to handoutpress.yaml changes no setting and re-checks none."""
    run(library, cache)
    config = library / "handoutpress.yaml"
    config.write_text("checks:\n  target_grade: 8\n", encoding="utf-8")
    assert run(library, cache)[1] == 0
    config.write_text("# the clinic's target\nchecks:\n  target_grade: 6\n", encoding="utf-8")
    cached, n = run(library, cache)
    assert n == 8
    assert cached == run(library, None)[0]
    assert json.loads(cached["json"])["target_grade"] == 6


def test_another_day_rechecks_nothing_and_moves_review_findings(library, cache):
    """Review status is worked out afresh each run: another --today re-checks no handout,
    and its review findings are the fresh ones for that day."""
    run(library, cache)
    later = date(2027, 7, 1)
    cached, n = run(library, cache, today=later)
    assert n == 0
    assert cached == run(library, None, today=later)[0]
    statuses = {h["path"]: h["review_status"] for h in json.loads(cached["json"])["handouts"]}
    assert statuses["handouts/en/clear-sleep.yaml"] == "overdue"
    assert statuses["handouts/en/due-soon.yaml"] == "overdue"


def test_code_and_word_lists_are_in_the_key(library, cache, tmp_path, monkeypatch):
    """An edit to a checks module or to a word list in handoutpress/data/ re-checks every handout."""
    package = tmp_path / "package"
    shutil.copytree(ROOT / "handoutpress", package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(checkcache, "PACKAGE", package)
    run(library, cache)
    assert run(library, cache)[1] == 0
    with (package / "data" / "jargon-en.txt").open("a", encoding="utf-8") as fh:
        fh.write("\nsomnolence\n")
    assert run(library, cache)[1] == 8
    assert run(library, cache)[1] == 0
    with (package / "checks" / "plainlanguage.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# a change\n")
    assert run(library, cache)[1] == 8


def test_a_library_upgrade_rechecks_everything(library, cache, monkeypatch):
    """The installed versions of the libraries that parse and split the text are in the key:
    an upgrade of one of them re-checks every handout, once."""
    versions = checkcache.library_versions()
    assert "absent" not in versions and "pyyaml-" in versions.lower()
    run(library, cache)
    assert run(library, cache)[1] == 0
    installed = checkcache.distribution_version
    monkeypatch.setattr(
        checkcache, "distribution_version", lambda name: "markdown_it_py-99.0.dist-info" if name == "markdown_it_py" else installed(name)
    )
    assert run(library, cache)[1] == 8
    assert run(library, cache)[1] == 0


def test_the_checks_modules_listed_are_every_module_the_checks_import(library):
    """CHECK_MODULES names every handoutpress module that loading, the glossary and the checks run."""
    code = (
        "import sys; from pathlib import Path; from datetime import date\n"
        "from handoutpress.checks.run import check_handouts\n"
        "from handoutpress.load.config import load_project_config\n"
        "from handoutpress.load.content import load_library\n"
        f"root = Path({str(library)!r})\n"
        "h, p = load_library([root / 'handouts'], root)\n"
        "check_handouts(h, p, root, date(2026, 11, 20), load_project_config(root), cache_file=root / 'c.json')\n"
        "print(' '.join(sorted(m.split('.', 1)[1] for m in sys.modules if m.startswith('handoutpress.'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    imported = set(done.stdout.split())
    assert {"checks.plainlanguage", "checks.readability", "checks.pemat", "checks.prose"} <= imported
    assert imported - {"files"} <= set(checkcache.CHECK_MODULES)  # files only writes the cache file


@pytest.mark.parametrize(
    "damage",
    ["not json", "truncated", "wrong shape", "edited finding", "forged entry", "other environment", "directory"],
)
def test_a_damaged_or_edited_cache_never_changes_a_result(library, cache, damage):
    """Whatever is in the cache file, results are the fresh ones: what fails its checks is checked again."""
    run(library, cache)
    text = cache.read_text(encoding="utf-8")
    data = json.loads(text)
    entry = data["handouts"]["handouts/en/hard-words.yaml"]
    expect = 8
    if damage == "not json":
        cache.write_bytes(b"\x80\x03pickle?")
    elif damage == "truncated":
        cache.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "wrong shape":
        cache.write_text(json.dumps({**data, "handouts": [1, 2]}), encoding="utf-8")
    elif damage == "edited finding":
        entry["result"]["findings"][0]["message"] = "all is well"
        cache.write_text(json.dumps(data), encoding="utf-8")
        expect = 1
    elif damage == "forged entry":
        # A hand-made entry with a matching digest but another handout's result is still refused.
        other = data["handouts"]["handouts/en/clear-sleep.yaml"]
        entry["result"] = other["result"]
        entry["digest"] = checkcache._digest({"key": entry["key"], "result": other["result"]})
        cache.write_text(json.dumps(data), encoding="utf-8")
        expect = 1
    elif damage == "other environment":
        cache.write_text(json.dumps({**data, "environment": "0" * 64}), encoding="utf-8")
    else:
        cache.unlink()
        cache.mkdir()
    cached, n = run(library, cache)
    assert n == expect
    assert cached == run(library, None)[0]
    if damage != "directory":
        assert run(library, cache)[1] == 0  # the damaged file was replaced by a good one


def test_entries_of_removed_handouts_are_dropped(library, cache):
    """The file keeps one entry per handout file that exists: a deleted handout's entry goes,
    and checking one file keeps the entries of the others."""
    run(library, cache)
    (library / "handouts" / "es" / "dormir-mejor.yaml").unlink()
    run(library, cache, paths=[library / "handouts" / "en" / "clear-sleep.yaml"])
    stored = json.loads(cache.read_text(encoding="utf-8"))["handouts"]
    assert sorted(stored) == sorted(
        [
            "handouts/en/clear-sleep.yaml",
            "handouts/en/due-soon.yaml",
            "handouts/en/hard-words.yaml",
            "handouts/en/overdue.yaml",
            "handouts/en/unsafe-link.yaml",
            "handouts/es/insomnio-dificil.yaml",
            "handouts/fr/dormir.yaml",
        ]
    )
    assert run(library, cache)[1] == 0


def test_a_handout_saved_while_being_checked_is_not_kept(library, cache):
    """A result is kept only if the file still holds the bytes it was loaded from."""
    handouts, problems = load_library([library / "handouts"], library)
    (library / "handouts" / "en" / "clear-sleep.yaml").write_text(CLEAR.replace("Sleep gives", "\nSleep gives"), encoding="utf-8")
    check_handouts(handouts, problems, library, TODAY_DATE, load_project_config(library), cache_file=cache)
    stored = json.loads(cache.read_text(encoding="utf-8"))["handouts"]
    assert "handouts/en/clear-sleep.yaml" not in stored and len(stored) == 7
