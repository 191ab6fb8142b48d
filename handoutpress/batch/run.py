"""The batch: load everything, decide what to make, make it, publish it.

`build()` reads top to bottom like the pipeline it drives::

    lock out/ (a second build waits, or stops at once with --no-wait)
    fast path: nothing changed since the last clean build -> done, no WeasyPrint
    load brand and content (all of it, every error collected)
    plan one job per output (handout x variant), keyed by a hash of its inputs
    skip jobs whose output in out/ already has that key
    typeset and stamp the rest through a concurrent.futures Executor, each job
        isolated (time limit, page limit, errors returned, never raised),
        standard PDFs first; the content checks run beside them
    write each PDF atomically and report it the moment it arrives
    forget outputs whose source is gone
    hand the build to its publishers (the web edition, the front desk's catalogue)
    write the manifest, last

A failed job never touches its previous PDF; the manifest keeps that PDF and
marks it stale. Everything heavy (pydantic, Jinja, WeasyPrint, pypdf), and
everything only a real build needs (loading, planning, the pool), is imported
inside the steps that need it, so a build with nothing to do starts and ends
in a few dozen milliseconds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoutpress.batch.inputs import (
    DIGESTS_FILE,
    FileDigests,
    font_files,
    input_files_digest,
    library_fingerprint,
    library_sources,
    shared_inputs_digest,
)
from handoutpress.batch.jobs import BuildOptions, BuildReport, Job, JobResult, Progress, Publication, Publisher
from handoutpress.batch.lock import build_lock
from handoutpress.errors import Problem
from handoutpress.files import atomic_write, remove_leftover_temp_files, sha256
from handoutpress.publish import (
    WEB_VARIANT,
    inherit_source_codes,
    is_intact,
    is_owned,
    manifest_entry,
    read_manifest,
    thumbnail_path,
    write_manifest,
)
from handoutpress.version import __version__

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future
    from pathlib import Path

    from handoutpress.batch.loading import KeptHandouts
    from handoutpress.checks.run import CheckRun
    from handoutpress.load.brand import Brand
    from handoutpress.load.content import HandoutFile


def build(
    options: BuildOptions,
    progress: Progress | None = None,
    executor: Executor | None = None,
    *,
    kept: KeptHandouts | None = None,
    publishers: Iterable[Publisher] = (),
) -> BuildReport:
    """Build every handout under ``options.paths`` (default: all) into ``options.out``.

    ``executor``: a warm `concurrent.futures.Executor` to use (the `watch`
    command keeps one); by default, unless ``--jobs 1`` or the build has
    nothing to do, a process pool starts warming up before the library is
    loaded, and is shut down at the end. ``kept``: the handouts a long-lived
    process loaded before (watch). ``publishers`` are called, in order, once
    the PDFs are written and before the manifest is (see `jobs.Publisher`).
    """
    with build_lock(options.out, wait=options.wait, notify=lambda m: print(m, file=sys.stderr)):
        remove_leftover_temp_files(options.out)
        manifest = read_manifest(options.out)
        digests = FileDigests.open(options.out / DIGESTS_FILE)
        files = input_files_digest(options, digests)
        before = _Before({o["path"]: o for o in manifest["outputs"]}, None if options.paths else files)
        if not options.force:
            unchanged = _nothing_changed(options, manifest, before.entries, files, digests)
            if unchanged is not None:
                digests.save()
                return _report_from_manifest(manifest, before.entries, unchanged)
        if executor is None and not options.cluster:
            _import_before_the_workers_fork()  # a cluster's workers are not forked from here: it starts at once
        from handoutpress.batch.workers import start_workers

        if executor is not None:
            done = _batch(options, before, executor, progress, kept, publishers)
            _remember_outputs(options, done, digests)
            return done
        pool = start_workers(options.jobs, options.root, options.cluster)
        report = None
        try:
            report = _batch(options, before, pool.executor if pool else None, progress, kept, publishers)
            _remember_outputs(options, report, digests)
            return report
        finally:
            if pool is not None:
                # Interrupted, or nothing was made after all: stop the workers instead of waiting for them.
                pool.close(stop=report is None or not report.workers)


@dataclass(frozen=True)
class _Before:
    """What out/ held when this build started (the manifest's entries by path), and,
    for a full build, the digest of every input file taken then."""

    entries: dict[str, dict]
    files: str | None


# ---------------------------------------------------------------------------
# 0. The fast path: nothing changed since the last clean full build, with or
# without PATHs. It reads file metadata, hashes only files whose metadata moved
# (`inputs.FileDigests`), parses no YAML and starts no worker.


def _nothing_changed(
    options: BuildOptions, manifest: dict[str, Any], entries: dict[str, dict], files: str, digests: FileDigests
) -> list[str] | None:
    """The outputs this build would find unchanged, when it has nothing to do; else None.

    Nothing to do: the whole library's fingerprint is the last clean full
    build's, every output it listed is intact, and every PATH (if any) names
    handout files of that library. A PATH build then lists as unchanged the
    outputs of its own files, as it would have after loading them.
    """
    if manifest.get("library_sha256") != library_fingerprint(options, manifest.get("fonts", []), files):
        return None
    sources = library_sources(options.paths, options.root) if options.paths else None
    if options.paths and not sources:
        return None
    if not entries or not all(_intact(options.out / path, entry, digests) for path, entry in entries.items()):
        return None
    # What a real build lists as unchanged: the PDFs it planned (its publishers' pages are not jobs).
    pdfs = {path: entry for path, entry in entries.items() if entry.get("variant") != WEB_VARIANT}
    if sources is None:
        return sorted(pdfs)
    wanted = set(sources)
    return sorted(path for path, entry in pdfs.items() if entry.get("source") in wanted)


def _intact(path: Any, entry: dict, digests: FileDigests) -> bool:
    """An output is as its manifest entry says (not stale, its sha256), seen through the remembered digests."""
    return not entry.get("stale") and digests.digest(path) == entry.get("sha256")


def _report_from_manifest(manifest: dict[str, Any], entries: dict[str, dict], unchanged: list[str]) -> BuildReport:
    """Nothing to do: the report is the last build's, read from its manifest."""
    report = BuildReport(unchanged=unchanged, outputs=list(entries.values()), nothing_to_do=True)
    report.checks = manifest.get("checks", "")
    report.overdue = _overdue(report.outputs)
    return report


def _remember_outputs(options: BuildOptions, report: BuildReport, digests: FileDigests) -> None:
    """After a build: the digest of every output its manifest lists, so the next no-op reads none of them.

    The PDFs this build wrote are vouched for (their digest is the manifest's,
    taken from the bytes written); the others are read only if their metadata moved.
    """
    built = set(report.built)
    for entry in report.outputs:
        path = options.out / entry["path"]
        if entry["path"] in built and isinstance(entry.get("sha256"), str):
            digests.vouch(path, entry["sha256"])
        else:
            digests.digest(path)
    digests.save()


def _import_before_the_workers_fork() -> None:
    """Something is to be done: what this process needs anyway is imported first, so forked workers start with it."""
    from handoutpress.checks import run as checks  # noqa: F401
    from handoutpress.load import brand, content  # noqa: F401
    from handoutpress.render import html as render  # noqa: F401


# ---------------------------------------------------------------------------
# 1-7. The batch


def _batch(
    options: BuildOptions,
    before: _Before,
    executor: Executor | None,
    progress: Progress | None,
    kept: KeptHandouts | None,
    publishers: Iterable[Publisher],
) -> BuildReport:
    """Load, plan, make, publish: the build once something is to be done (steps 1 to 7 below)."""
    from handoutpress.batch.pipeline import WorkerContext, worker_session
    from handoutpress.batch.workers import execute
    from handoutpress.checks.cache import CACHE_FILE
    from handoutpress.checks.run import CheckRun

    project = options.project
    report = BuildReport()
    shared_inputs = shared_inputs_digest(project.root)
    # This process may have built from other files before (watch, tests): its caches are made right first.
    worker_session().use_shared_inputs(str(project.root), shared_inputs)
    loaded = _load(options, kept, report)
    if loaded is None:
        return report
    brand, handouts, problems = loaded
    jobs, translation_status = _plan(handouts, brand, options, problems, report)
    todo, unchanged = _split_unchanged(jobs, before.entries, options, report)
    failed_sources = {p.file for p in problems}
    checks = CheckRun(project.root, options.today, cache_file=options.out / CACHE_FILE)
    with _kit_shelf(executor, options.out) as kit_shelf:
        context = WorkerContext(
            root=str(project.root),
            brand_dir=str(options.brand_dir),
            brand_sha256=brand.sha256,
            shared_inputs=shared_inputs,
            time_limit=options.time_limit,
            page_limit=options.page_limit,
            kit_shelf=kit_shelf,
            out=str(options.out),
        )
        ordered = edit_loop_order(todo)
        # The checks run beside the workers, in a thread of this process, started just
        # before the jobs are handed out (so they also fill the wait for a cluster that
        # is still starting), while each PDF is published the moment it arrives.
        summary = _beside(lambda: checks.summary_line(handouts, problems))
        results = _standard_first(execute(ordered, context, executor), ordered)
        made = _publish_results(results, len(todo), options, failed_sources, report, progress)
    report.checks = summary.result()
    # The manifest entries, with the reading grades the checks just gave.
    entries = {job.rel_path: _entry(job, old["pages"], old["bytes"], old["sha256"], checks) for job, old in unchanged}
    entries.update({m.job.rel_path: _entry(m.job, m.pages, m.size, m.digest, checks) for m in made})
    _carry_over(before.entries, entries, failed_sources, {job.item.path for job in jobs}, options, report)
    inherit_source_codes(entries, handouts)  # a kept translation's codes follow its source
    _publish(publishers, Publication(options.out, project, brand, options.today, tuple(handouts), entries), entries, report)
    _write_manifest(entries, translation_status, brand, before.files, options, report)
    return report


def _publish(publishers: Iterable[Publisher], publication: Publication, entries: dict[str, dict], report: BuildReport) -> None:
    """Hand the build to each publisher in turn; what one adds joins the manifest and the next one's view.

    A publisher that fails (its `HandoutPressError`) fails the build with its
    problems; the others still run and the manifest is still written.
    """
    from handoutpress.errors import HandoutPressError

    for publish in publishers:
        try:
            added = publish(dataclasses.replace(publication, entries=dict(entries)))
        except HandoutPressError as exc:
            report.failed.extend(exc.problems)
            continue
        for entry in added or ():
            entries[entry["path"]] = entry


# 1. Load: the brand, then every handout; collect every problem before writing anything.


def _load(
    options: BuildOptions, kept: KeptHandouts | None, report: BuildReport
) -> tuple[Brand, list[HandoutFile], list[Problem]] | None:
    from handoutpress.batch.loading import load_handouts
    from handoutpress.errors import BrandError, ContentError
    from handoutpress.load.brand import load_brand
    from handoutpress.render.html import Labels

    project = options.project
    try:
        brand = load_brand(options.brand_dir, project.root)
    except BrandError as exc:
        report.failed.extend(exc.problems)
        return None
    handouts, problems = load_handouts(options.paths or (project.handouts,), project.root, kept)
    words = Labels(project.labels)
    for language in sorted({h.language for h in handouts}):
        try:
            words.of(language)
            brand.wording(language)
        except (ContentError, BrandError) as exc:
            problems.extend(exc.problems)
            handouts = [h for h in handouts if h.language != language]
    return brand, handouts, problems


# 2. Plan: one job per output, keyed by its inputs; stale or orphan translations are built, but flagged.


def _plan(
    handouts: list[HandoutFile], brand: Brand, options: BuildOptions, problems: list[Problem], report: BuildReport
) -> tuple[list[Job], dict[str, str]]:
    from handoutpress.batch.plan import plan_jobs
    from handoutpress.checks.translations import check_translations

    jobs, plan_problems = plan_jobs(handouts, brand, options.project)
    problems.extend(plan_problems)
    report.failed.extend(problems)
    translations = check_translations(handouts, options.root)
    report.translations.extend(translations.problems)
    return jobs, translations.status


# 3. Skip what is already in out/ with the same key.


def _split_unchanged(
    jobs: list[Job], previous: dict[str, dict], options: BuildOptions, report: BuildReport
) -> tuple[list[Job], list[tuple[Job, dict]]]:
    todo: list[Job] = []
    unchanged: list[tuple[Job, dict]] = []
    for job in jobs:
        old = previous.get(job.rel_path)
        if not options.force and old and old.get("inputs_sha256") == job.inputs_sha256 and is_intact(options.out / job.rel_path, old):
            unchanged.append((job, old))
            report.unchanged.append(job.rel_path)
        else:
            todo.append(job)
    return todo, unchanged


# 4-5. Make the rest, publishing each PDF (and its thumbnail) as soon as it is made.


def edit_loop_order(todo: list[Job]) -> list[Job]:
    """The order jobs are handed out in: every standard PDF first, then the other outputs.

    An editor who saved a handout looks at its standard PDF: it is made, written
    and reported before its large-print and FAQ outputs (watch, or a build of one
    file). Within each group the longest jobs go first, so every core stays busy
    to the end of the batch.
    """

    def cost(job: Job) -> tuple[bool, int]:
        size = job.item.source.stat().st_size * (2 if job.variant == "large-print" else 1)
        return job.variant != "standard", -size

    return sorted(todo, key=cost)


@contextlib.contextmanager
def _kit_shelf(executor: Executor | None, out: Path) -> Iterator[str]:
    """A folder the workers of this batch share their stamp kits through (`stamp.kit.KitShelf`),
    under ``out/.cache/``, removed when the batch's results are all in; "" when the jobs run in
    this process. One a killed build left behind is removed first (this build holds the lock)."""
    if executor is None:
        yield ""
        return
    import shutil
    import tempfile

    cache = out / ".cache"
    for leftover in cache.glob("kits-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="kits-", dir=cache)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _beside(call: Callable[[], str]) -> Future[str]:
    """Start ``call`` now in a thread of this process; its future gives its result or raises its error.

    A daemon thread: a build interrupted while it runs ends at once (a large
    library's checks can take a while), and only this call ever uses the thread.
    """
    from concurrent.futures import Future

    future: Future[str] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to whoever waits for the result
                future.set_exception(exc)

    threading.Thread(target=run, name="build-checks", daemon=True).start()
    return future


def _standard_first(results: Iterator[JobResult], ordered: list[Job]) -> Iterator[JobResult]:
    """The results as they finish, except that a handout's other outputs wait for its standard PDF.

    With more workers than handouts, a short FAQ sheet may finish before its
    handout's standard PDF; it is held (a moment, never a worker) so that the
    standard one is still written and reported first.
    """
    pending = {job.item.path for job in ordered if job.variant == "standard"}
    held: dict[str, list[JobResult]] = {}
    for result in results:
        source = result.job.item.path
        if result.job.variant != "standard" and source in pending:
            held.setdefault(source, []).append(result)
            continue
        yield result
        if result.job.variant == "standard":
            pending.discard(source)
            yield from held.pop(source, [])
    for waiting in held.values():  # only if a standard job never came back
        yield from waiting


@dataclass(frozen=True)
class _Made:
    """An output this build wrote: what its manifest entry records of the file."""

    job: Job
    pages: int
    size: int
    digest: str


def _publish_results(
    results: Iterator[JobResult],
    total: int,
    options: BuildOptions,
    failed_sources: set[str],
    report: BuildReport,
    progress: Progress | None,
) -> list[_Made]:
    """Write each PDF atomically the moment its result arrives, and report it then."""
    made: list[_Made] = []
    for done, result in enumerate(results, 1):
        job = result.job
        if result.worker:
            report.workers[result.worker] = max(report.workers.get(result.worker, 0.0), result.peak_rss_mb)
        if result.problems or result.pdf is None:
            report.failed.extend(result.problems)
            failed_sources.add(job.item.path)
            if progress:
                progress(done, total, job.rel_path, "failed")
            continue
        atomic_write(options.out / job.rel_path, result.pdf)
        digest = sha256(result.pdf)
        if result.thumbnail and not (options.out / thumbnail_path(digest)).is_file():
            atomic_write(options.out / thumbnail_path(digest), result.thumbnail)
        made.append(_Made(job, result.pages, len(result.pdf), digest))
        report.built.append(job.rel_path)
        if progress:
            progress(done, total, job.rel_path, "built")
    return made


def _entry(job: Job, pages: int, size: int, digest: str, checks: CheckRun) -> dict:
    """The manifest entry of one output, with the review status and reading grades the checks give it."""
    return manifest_entry(
        job.item,
        path=job.rel_path,
        variant=job.variant,
        inputs_sha256=job.inputs_sha256,
        pages=pages,
        size=size,
        digest=digest,
        review_status=checks.review_status(job.item),
        reading=checks.reading_fields(job.item),
    )


# 6. Outputs this run did not make: keep the previous PDF of a handout that
# failed (stale), keep outputs of handouts outside this run's paths, delete
# outputs whose handout is gone or no longer makes them. Only files the
# manifest lists are ever deleted.


def _carry_over(
    previous: dict[str, dict],
    entries: dict[str, dict],
    failed_sources: set[str],
    planned_sources: set[str],
    options: BuildOptions,
    report: BuildReport,
) -> None:
    out = options.out
    for path, old in previous.items():
        if path in entries:
            continue
        source = old.get("source") or ""
        if source in failed_sources and (out / path).is_file():
            entries[path] = {**old, "stale": True}
            report.stale.append(path)
        elif old.get("variant") == WEB_VARIANT and source in planned_sources:
            continue  # the web edition's publisher writes this page again, or it leaves the manifest
        elif source and source not in planned_sources and (options.root / source).is_file():
            entries[path] = old
        else:
            if (out / path).is_file() and is_owned(out, path):
                (out / path).unlink()
            report.removed.append(path)


# 7. The manifest, last. The fingerprint is recorded only for a clean full
# build, so a failure is reported again by the next build.


def _write_manifest(
    entries: dict[str, dict],
    translation_status: dict[str, str],
    brand: Brand,
    files: str | None,
    options: BuildOptions,
    report: BuildReport,
) -> None:
    from handoutpress.checks.translations import SOURCE
    from handoutpress.load.content import display_path

    for entry in entries.values():
        entry["translation_status"] = translation_status.get(entry.get("source", ""), entry.get("translation_status", SOURCE))
    report.outputs = list(entries.values())
    report.overdue = _overdue(report.outputs)
    fonts = list(font_files(brand.config.font))
    extra: dict[str, Any] = {
        "generator": f"Handout Press {__version__}",
        "brand": display_path(options.brand_dir, options.root),
        "fonts": fonts,
        "checks": report.checks,
        # Where the web edition is published and whose it is: what the front desk's Infobutton answer links under.
        "clinic": brand.config.name,
        "base_url": brand.config.base_url,
    }
    if files is not None and not report.failed and not report.translations:
        extra["library_sha256"] = library_fingerprint(options, fonts, files)
    write_manifest(options.out, report.outputs, extra)


def _overdue(outputs: list[dict]) -> list[str]:
    # "overdue" is the manifest's word (checks.OVERDUE); not imported, so the no-op path stays light.
    return sorted({e["source"] for e in outputs if e.get("review_status") == "overdue" and e.get("source")})
