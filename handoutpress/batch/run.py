"""The batch: load everything, decide what to make, make it, publish it.

Reads top to bottom like the pipeline it drives::

    lock out/ (a second build waits, or stops at once with --no-wait)
    fast path: nothing changed since the last clean build -> done, no WeasyPrint
    load brand and content (all of it, every error collected)
    plan one job per output (handout x variant), keyed by a hash of its inputs
    skip jobs whose output in out/ already has that key
    typeset and stamp the rest through a concurrent.futures Executor, each job
        isolated (time limit, page limit, errors returned, never raised)
    write each PDF atomically, with its manifest entry
    forget outputs whose source is gone, then write the manifest, last

A failed job never touches its previous PDF; the manifest keeps that PDF and
marks it stale. Everything heavy (pydantic, Jinja, WeasyPrint, pypdf) is
imported inside the steps that need it, so a build with nothing to do starts
and ends in a few dozen milliseconds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.errors import Problem
from handoutpress.publish import MANIFEST, atomic_write, read_manifest, remove_leftover_temp_files, sha256, write_manifest
from handoutpress.version import __version__

if TYPE_CHECKING:
    from handoutpress.load.content import HandoutFile

from handoutpress.batch.inputs import _tree_digest, font_files, input_files_digest, library_fingerprint, shared_inputs_digest
from handoutpress.batch.jobs import BuildOptions, BuildReport, Job, Progress
from handoutpress.batch.lock import build_lock
from handoutpress.batch.pipeline import _WORKER, WorkerContext, forget_cached_inputs
from handoutpress.batch.plan import plan_jobs
from handoutpress.batch.workers import default_executor, execute, stop_workers

# ---------------------------------------------------------------------------
# The batch


def build(options: BuildOptions, progress: Progress | None = None, executor: Executor | None = None) -> BuildReport:
    """Build every handout under ``options.paths`` (default: all) into ``options.out``.

    ``executor``: a warm `concurrent.futures.Executor` to use (the `watch`
    command keeps one); by default, unless ``--jobs 1`` or the build has
    nothing to do, a process pool starts warming up before the library is
    loaded, and is shut down at the end.
    """
    with build_lock(options.out, wait=options.wait, notify=lambda m: print(m, file=sys.stderr)):
        remove_leftover_temp_files(options.out)
        return _build_locked(options, progress, executor)


def _build_locked(options: BuildOptions, progress: Progress | None, executor: Executor | None) -> BuildReport:
    out = options.out
    previous_manifest = read_manifest(out)
    previous = {o["path"]: o for o in previous_manifest["outputs"]}

    # 0. Nothing changed since the last clean full build: answer from the manifest.
    files = None
    if not options.paths:
        files = input_files_digest(options)
        fingerprint = library_fingerprint(options, previous_manifest.get("fonts", []), files)
        if not options.force and previous_manifest.get("library_sha256") == fingerprint and _all_intact(out, previous):
            report = BuildReport(unchanged=sorted(previous), outputs=list(previous.values()), nothing_to_do=True)
            report.checks = previous_manifest.get("checks", "")
            report.overdue = _overdue(report.outputs)
            return report

    # Something is to be done: start the workers warming up while this process
    # loads and plans. What this process needs anyway is imported first, so
    # the workers (forked) start with it.
    from handoutpress.checks import run as checks  # noqa: F401  (imported before the workers fork)
    from handoutpress.load import brand, content  # noqa: F401
    from handoutpress.render import html as render  # noqa: F401

    own_executor = default_executor(options.jobs, options.project.root) if executor is None else None
    report = None
    try:
        report = _load_plan_make(options, progress, executor or own_executor, previous, files)
        return report
    finally:
        if own_executor is not None:
            if report is None or not report.workers:
                # Interrupted, or nothing was made after all: stop the workers instead of waiting for them.
                stop_workers(own_executor)
            own_executor.shutdown(wait=True, cancel_futures=True)


def _load_plan_make(
    options: BuildOptions, progress: Progress | None, executor: Executor | None, previous: dict[str, dict], files
) -> BuildReport:
    from handoutpress.errors import BrandError, ContentError
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import display_path
    from handoutpress.render.html import load_labels

    out = options.out
    project = options.project
    report = BuildReport()
    shared_inputs = shared_inputs_digest(project.root)
    if _WORKER.get("shared_inputs", (None, shared_inputs))[1] != shared_inputs:
        forget_cached_inputs()  # this process ran an earlier build (watch) and those files changed
    _WORKER["shared_inputs"] = (str(project.root), shared_inputs)

    # 1. Load: the brand, then every handout; collect every problem before writing anything.
    try:
        brand = load_brand(options.brand_dir, project.root)
    except BrandError as exc:
        report.failed.extend(exc.problems)
        return report
    handouts, problems = load_handouts(options.paths or (project.handouts,), project.root, remember=options.remember)
    for language in sorted({h.language for h in handouts}):
        try:
            load_labels(project.labels, language)
            brand.wording(language)
        except (ContentError, BrandError) as exc:
            problems.extend(exc.problems)
            handouts = [h for h in handouts if h.language != language]
    # 2. Plan: one job per output, keyed by its inputs.
    jobs, plan_problems = plan_jobs(handouts, brand, project)
    problems.extend(plan_problems)
    report.failed.extend(problems)
    from handoutpress.checks.translations import SOURCE, check_translations  # stale or orphan translations are built, but flagged

    translations = check_translations(handouts, project.root)
    report.translations.extend(translations.problems)
    failed_sources = {p.file for p in problems}

    # 3. Skip what is already in out/ with the same key.
    todo: list[Job] = []
    unchanged: list[tuple[Job, dict]] = []
    for job in jobs:
        old = previous.get(job.rel_path)
        if not options.force and old and old.get("inputs_sha256") == job.inputs_sha256 and _intact(out / job.rel_path, old):
            unchanged.append((job, old))
            report.unchanged.append(job.rel_path)
        else:
            todo.append(job)

    # 4. Make the rest, 5. publishing each PDF as soon as it is made.
    context = WorkerContext(
        root=str(project.root),
        brand_dir=str(options.brand_dir),
        brand_sha256=brand.sha256,
        shared_inputs=shared_inputs,
        time_limit=options.time_limit,
        page_limit=options.page_limit,
    )
    results = execute(todo, context, executor)
    # The checks' summary line is made while the workers typeset.
    from handoutpress.checks.run import build_checks_line

    report.checks = build_checks_line(handouts, problems, project.root, options.today, cache_file=out / ".cache" / "checks.json")
    # The manifest entries of unchanged outputs, with the reading grades the checks just gave.
    entries: dict[str, dict] = {}
    for job, old in unchanged:
        entries[job.rel_path] = _entry(job, old["pages"], old["bytes"], old["sha256"], options.today)
    for done, result in enumerate(results, 1):
        job = result.job
        if result.worker:
            report.workers[result.worker] = max(report.workers.get(result.worker, 0.0), result.peak_rss_mb)
        if result.problems:
            report.failed.extend(result.problems)
            failed_sources.add(job.item.path)
            if progress:
                progress(done, len(todo), job.rel_path, "failed")
            continue
        atomic_write(out / job.rel_path, result.pdf)
        digest = sha256(result.pdf)
        if result.thumbnail:
            from handoutpress.frontdesk.catalogue import thumbnail_path

            atomic_write(out / thumbnail_path(digest), result.thumbnail)
        entries[job.rel_path] = _entry(job, result.pages, len(result.pdf), digest, options.today)
        report.built.append(job.rel_path)
        if progress:
            progress(done, len(todo), job.rel_path, "built")

    # 6. Outputs this run did not make: keep the previous PDF of a handout that
    # failed (stale), keep outputs of handouts outside this run's paths, delete
    # outputs whose handout is gone or no longer makes them. Only files the
    # manifest lists are ever deleted.
    planned_sources = {job.item.path for job in jobs}
    for path, old in previous.items():
        if path in entries:
            continue
        source = old.get("source") or ""
        if source in failed_sources and (out / path).is_file():
            entries[path] = {**old, "stale": True}
            report.stale.append(path)
        elif source and source not in planned_sources and (project.root / source).is_file():
            entries[path] = old
        else:
            if (out / path).is_file() and _owned(out, path):
                (out / path).unlink()
            report.removed.append(path)

    # 7. The manifest, last. The fingerprint is recorded only for a clean full
    # build, so a failure is reported again by the next build.
    for entry in entries.values():
        entry["translation_status"] = translations.status.get(entry.get("source"), entry.get("translation_status", SOURCE))
    report.outputs = list(entries.values())
    report.overdue = _overdue(report.outputs)
    fonts = list(font_files(brand.config.font))
    extra: dict[str, Any] = {
        "generator": f"Handout Press {__version__}",
        "brand": display_path(options.brand_dir, project.root),
        "fonts": fonts,
        "checks": report.checks,
    }
    if files is not None and not report.failed and not report.translations:
        extra["library_sha256"] = library_fingerprint(options, fonts, files)
    write_manifest(out, report.outputs, extra)
    from handoutpress.frontdesk.catalogue import write_catalogue  # the front desk's index.html and thumbnails, from the manifest

    write_catalogue(out, project, brand, options.today)
    return report


# Handouts loaded by earlier builds of this process (watch), by file and by the
# bytes of everything loading reads: the YAML, the assets and the glossary.
_LOADED: dict[str, tuple[str, Any]] = {}


def load_handouts(paths: Iterable[Path], root: Path, *, remember: bool) -> tuple[list[HandoutFile], list[Problem]]:
    """`content.load_library`, reusing unchanged files' results when ``remember`` (watch)."""
    from handoutpress.errors import ContentError
    from handoutpress.load.content import check_related, display_path, find_handout_files, load_handout, load_library

    if not remember:
        return load_library(paths, root)
    context = "".join(_tree_digest(root / d) if (root / d).is_dir() else "-" for d in ("assets", "glossary", "labels"))
    handouts: list[HandoutFile] = []
    problems: list[Problem] = []
    seen = set()
    for path in find_handout_files(paths, root):
        shown = display_path(path, root)
        seen.add(shown)
        try:
            key = sha256(path.read_bytes()) + context
        except OSError:
            problems.append(Problem(shown, "no such file or folder"))
            continue
        if _LOADED.get(shown, ("",))[0] != key:
            try:
                _LOADED[shown] = (key, load_handout(path, root))
            except ContentError as exc:
                _LOADED[shown] = (key, exc.problems)
        loaded = _LOADED[shown][1]
        if isinstance(loaded, list):
            problems.extend(loaded)
        else:
            handouts.append(loaded)
    for gone in set(_LOADED) - seen:
        del _LOADED[gone]
    problems.extend(check_related(handouts))
    return handouts, problems


def _overdue(outputs: list[dict]) -> list[str]:
    # "overdue" is the manifest's word (checks.OVERDUE); not imported, so the no-op path stays light.
    return sorted({e["source"] for e in outputs if e.get("review_status") == "overdue" and e.get("source")})


def _owned(out: Path, rel: str) -> bool:
    target = (out / rel).resolve()
    return target.is_relative_to(out.resolve()) and target.suffix == ".pdf" and target.name != MANIFEST


def _intact(path: Path, entry: dict) -> bool:
    try:
        return path.stat().st_size == entry.get("bytes") and sha256(path.read_bytes()) == entry.get("sha256")
    except OSError:
        return False


def _all_intact(out: Path, entries: dict[str, dict]) -> bool:
    return bool(entries) and all(not e.get("stale") and _intact(out / path, e) for path, e in entries.items())


def _entry(job: Job, pages: int, size: int, digest: str, today: date) -> dict:
    from handoutpress.checks.run import reading_fields, review_status

    item = job.item
    review = item.content.review
    return {
        "path": job.rel_path,
        "id": item.id,
        "title": item.content.title,
        "language": item.language,
        "kind": item.content.kind,
        "variant": job.variant,
        "topics": list(item.content.topics),
        "pages": pages,
        "bytes": size,
        "sha256": digest,
        "inputs_sha256": job.inputs_sha256,
        "source": item.path,
        "reviewed": str(review.reviewed),
        "next_review": str(review.next_review),
        "review_status": review_status(item, today),
        "edition": item.edition,
        **reading_fields(item),
    }


