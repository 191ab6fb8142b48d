"""Running the checks on content that are not about its shape: what `generate.py check`
reports, and the line a build prints.

The build and `generate.py check` share these, so a handout is judged the same
way wherever it is looked at. For each handout, in this order:

* review dates against today (`review`);
* text that must never be a link target, such as ``javascript:`` (`links`);
* the glossary terms it uses (the "Words to know" box, `load.glossary`);
* reading grades per handout and per section (`reading`, on prose only, see
  `prose`), compared with the project's target grade (`load.config`);
* plain-language rules and jargon (`plainlanguage`, with the glossary);
* an automatic PEMAT-P subset (`pemat`).

What they find is one `report.CheckReport`. A build keeps each handout's results
in a cache file (`cache`), so it re-checks only handouts whose check inputs
changed; review status is worked out afresh every time, since it depends on the
day. A build's checks are one `CheckRun`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import cast

from handoutpress.checks.cache import CheckCache
from handoutpress.checks.links import link_findings
from handoutpress.checks.pemat import pemat_subset
from handoutpress.checks.plainlanguage import plain_language_findings
from handoutpress.checks.prose import handout_text
from handoutpress.checks.readability import SyllableMemo, rules_for
from handoutpress.checks.reading import reading_report
from handoutpress.checks.report import CheckReport, HandoutReport
from handoutpress.checks.review import review_findings, review_status
from handoutpress.errors import ContentError, Problem
from handoutpress.load.config import ProjectConfig, load_project_config
from handoutpress.load.content import HandoutFile
from handoutpress.load.glossary import Glossary, handout_strings, load_glossary


def check_handouts(
    handouts: list[HandoutFile],
    load_problems: list[Problem],
    root: Path,
    today: date,
    config: ProjectConfig,
    cache_file: Path | None = None,
    jobs: int = 1,
) -> CheckReport:
    """Check handouts already loaded (the build calls this with its own library).

    ``cache_file``: a checks cache file (JSON, see `cache`) of earlier results; a
    handout whose check inputs are unchanged is taken from it instead of checked
    again, and the file is updated. ``jobs``: processes for the handouts checked
    afresh (0: every core); the report is the same with or without the cache,
    and whatever the number of processes, in the same order.
    """
    report = CheckReport(today, config.target_grade, problems=list(load_problems))
    cache = CheckCache.open(cache_file, root, config) if cache_file is not None else None
    glossaries = _Glossaries(root, cache)
    contents: list[HandoutReport | None] = [cache.lookup(item) if cache else None for item in handouts]
    afresh = [i for i, content in enumerate(contents) if content is None]
    checked = checked_afresh([handouts[i] for i in afresh], config, glossaries, jobs)
    for i, content in zip(afresh, checked, strict=True):
        contents[i] = content
        report.rechecked += 1
        if cache:
            cache.store(handouts[i], content)
    for item, found in zip(handouts, contents, strict=True):
        report.problems.extend(glossaries.first_problems(item.language))
        result = with_review(cast(HandoutReport, found), item, today)  # from the cache, or checked afresh
        report.handouts.append(result)
        report.problems.extend(result.findings)
    if cache:
        cache.save(handouts)
    return report


# Fewer handouts than this to check afresh are checked in this process: a
# process pool costs more to start than they take.
PARALLEL_FROM = 16


def checked_afresh(items: list[HandoutFile], config: ProjectConfig, glossaries: _Glossaries, jobs: int) -> list[HandoutReport]:
    """`content_checks` of each item, in order: in this process, or shared out among ``jobs``
    processes (0: every core) in contiguous chunks, each process loading a glossary once."""
    workers = min(jobs or os.cpu_count() or 1, max(1, len(items) // (PARALLEL_FROM // 2)))
    if workers <= 1 or len(items) < PARALLEL_FROM:
        memo = SyllableMemo()
        return [content_checks(item, config, glossaries.get(item.language), memo) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Each process gets the items once, when it starts: on Linux by inheritance, forked
    # (nothing is pickled), elsewhere pickled once per process; the chunks are only ranges.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    # A few chunks per process, so a process that drew long handouts does not finish last alone.
    size = -(-len(items) // (workers * 4))
    starts = list(range(0, len(items), size))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_checker, initargs=(glossaries.root, config, items)
    ) as pool:
        done = pool.map(_check_range, starts, [min(start + size, len(items)) for start in starts])
        return [content for chunk in done for content in chunk]


class _Checker:
    """A checking process of `checked_afresh`: the items it shares out, the config, its own
    glossaries (loaded as `_Glossaries.get` does) and its syllable counts."""

    def __init__(self, root: Path, config: ProjectConfig, items: list[HandoutFile]):
        self.config = config
        self.items = items
        self.glossaries = _Glossaries(root, None)
        self.memo = SyllableMemo()

    def check(self, start: int, stop: int) -> list[HandoutReport]:
        return [content_checks(item, self.config, self.glossaries.get(item.language), self.memo) for item in self.items[start:stop]]


_CHECKER: _Checker | None = None  # this process's, in a pool of `checked_afresh`; read only by `_check_range`


def _start_checker(root: Path, config: ProjectConfig, items: list[HandoutFile]) -> None:
    global _CHECKER
    _CHECKER = _Checker(root, config, items)


def _check_range(start: int, stop: int) -> list[HandoutReport]:
    """`content_checks` of this process's items ``start`` to ``stop``."""
    assert _CHECKER is not None, "a checking process starts with _start_checker"
    return _CHECKER.check(start, stop)


class _Glossaries:
    """The glossaries of one run: each loaded at most once, and only when a handout is checked
    afresh; the problems of loading one are reported once, at its language's first handout
    (from the cache when it knows them)."""

    def __init__(self, root: Path, cache: CheckCache | None):
        self.root = root
        self.cache = cache
        self.loaded: dict[str, Glossary] = {}
        self.reported: set[str] = set()

    def first_problems(self, language: str) -> list[Problem]:
        """The problems of loading the glossary of ``language`` the first time it is asked; then none."""
        if language in self.reported:
            return []
        self.reported.add(language)
        known = self.cache.glossary_problems(language) if self.cache else None
        if known is None:
            known = self._load(language)
            if self.cache:
                self.cache.remember_glossary(language, known)
        return known

    def get(self, language: str) -> Glossary:
        """The glossary of ``language``; an empty one when its file has problems."""
        if language not in self.loaded:
            self._load(language)
        return self.loaded[language]

    def _load(self, language: str) -> list[Problem]:
        try:
            self.loaded[language] = load_glossary(self.root, language)
        except ContentError as exc:
            self.loaded[language] = Glossary.empty(language)
            return list(exc.problems)
        return []


def with_review(content: HandoutReport, item: HandoutFile, today: date) -> HandoutReport:
    """``content`` (from `content_checks`) with the review status and findings for ``today`` first."""
    return replace(
        content,
        review_status=review_status(item, today),
        findings=review_findings(item, today) + code_findings(item) + content.findings,
    )


def code_findings(item: HandoutFile) -> list[Problem]:
    """A note for a handout with no clinical codes (its own, or its source's): no EHR can select it.

    Here and not in `content_checks`: a translation's codes are its source's, so
    the checks cache, keyed by the translation's own file, must not keep it.
    """
    if item.codes:
        return []
    where = "its source has no codes:" if item.content.translation else "no codes:"
    return [
        Problem(
            item.path,
            f"{where} an EHR cannot select this handout by diagnosis, medication or lab code (see README, 'Adding a code')",
            line=item.line_of("title") or 1,
            field="codes",
            severity="note",
        )
    ]


def content_checks(
    item: HandoutFile, config: ProjectConfig, glossary: Glossary, memo: SyllableMemo | None = None
) -> HandoutReport:
    """The checks that do not depend on the day: links, glossary, reading, plain language, PEMAT.

    What it returns depends only on the handout's file, its glossary, the
    project config and the code and word lists, which is what lets the checks
    cache keep it; ``review_status`` is left empty for `with_review`. ``memo``:
    the syllable counts of the caller's run, shared by the handouts it checks.
    """
    result = HandoutReport(item.path, item.id, item.language, item.content.kind, "")
    result.findings.extend(link_findings(item))
    result.glossary_terms = [t.term for t in glossary.used_by(handout_strings(item.content))]
    rules = rules_for(item.language)
    if rules is None:
        result.findings.append(
            Problem(
                item.path,
                f"no reading-grade formulas for language {item.language!r} yet (add them to readability.LANGUAGES)",
                severity="warning",
            )
        )
        return result
    if memo is not None:
        rules = memo.rules(rules)
    text = handout_text(item, rules)
    result.reading, reading_findings = reading_report(item, text, rules, config.target_grade)
    result.findings.extend(reading_findings)
    findings, stats = plain_language_findings(
        item.path, text, rules, glossary, bool(item.content.key_takeaways), item.line_of("title")
    )
    result.findings.extend(findings)
    result.plain_language = stats.as_json()
    result.pemat = pemat_subset(item.content, text, stats, result.reading.get("target_grade_value"), config.target_grade)
    return result


# ---------------------------------------------------------------------------
# One build's checks


class CheckRun:
    """One build's checks: its project root, its day, its settings and its cache file.

    A build makes one, asks it for its summary line while the workers typeset,
    then asks it for what each manifest entry records of the checks. What the
    summary checked is kept here, for this build only: nothing is guessed from
    a file's place on disk, and no day but the build's is used.
    """

    def __init__(self, root: Path, today: date, cache_file: Path | None = None) -> None:
        self.root = root
        self.today = today
        self.cache_file = cache_file
        self._settings: tuple[ProjectConfig, Problem | None] | None = None
        self._reading: dict[tuple[str, str], dict] = {}  # (shown path, source sha256) -> reading fields
        self._syllables = SyllableMemo()

    def settings(self) -> tuple[ProjectConfig, Problem | None]:
        """The project's settings, read once, and the first problem of an invalid
        ``handoutpress.yaml`` (then the settings are the defaults)."""
        if self._settings is None:
            try:
                self._settings = (load_project_config(self.root), None)
            except ContentError as exc:
                self._settings = (ProjectConfig(), exc.problems[0])
        return self._settings

    def summary_line(self, handouts: list[HandoutFile], load_problems: list[Problem]) -> str:
        """Check the library (through the cache) and return the build's 'checks: ...' line:
        the same numbers as `generate.py check`, or why the settings are invalid."""
        config, problem = self.settings()
        if problem is not None:
            return f"checks: {self.root.name}/handoutpress.yaml is invalid: {problem}"
        report = check_handouts(handouts, load_problems, self.root, self.today, config, self.cache_file)
        for item, checked in zip(handouts, report.handouts, strict=True):
            self._reading[(item.path, item.source_sha256)] = checked.reading_fields(config.target_grade)
        return report.summary_line()

    def reading_fields(self, item: HandoutFile) -> dict:
        """The manifest's reading fields for an output of ``item``; an item not seen by
        `summary_line` is checked now, with this run's settings."""
        key = (item.path, item.source_sha256)
        if key not in self._reading:
            config, _ = self.settings()
            # Reading grades depend on neither the glossary nor the day: an empty
            # glossary spares loading one, and no review is worked out.
            checked = content_checks(item, config, Glossary.empty(item.language), self._syllables)
            self._reading[key] = checked.reading_fields(config.target_grade)
        return self._reading[key]

    def review_status(self, item: HandoutFile) -> str:
        """The manifest's review status for an output of ``item``, on this build's day."""
        return review_status(item, self.today)
