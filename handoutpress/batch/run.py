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

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.errors import HandoutPressError, Problem
from handoutpress.publish import MANIFEST, atomic_write, read_manifest, remove_leftover_temp_files, sha256, write_manifest
from handoutpress.version import __version__

if TYPE_CHECKING:
    from handoutpress.load.brand import Brand
    from handoutpress.load.content import HandoutFile
    from handoutpress.render.html import Project

LOCK_FILE = ".handoutpress.lock"
DEFAULT_TIME_LIMIT = 120.0  # seconds of typesetting per document
DEFAULT_PAGE_LIMIT = 40  # longer than this is a content mistake (large print of a long handout runs ~20)

# The folders of a project whose files shape outputs (besides the brand folder).
INPUT_FOLDERS = ("handouts", "templates", "styles", "assets", "labels", "glossary")
# Folders whose files every output may read; a change empties long-lived processes' caches.
SHARED_FOLDERS = ("templates", "styles", "labels", "glossary")


@dataclass(frozen=True)
class BuildOptions:
    root: Path
    out: Path
    brand_dir: Path
    paths: tuple[Path, ...] = ()
    jobs: int = 0  # 0: every core
    force: bool = False
    today: date = field(default_factory=date.today)
    strict: bool = False
    time_limit: float = DEFAULT_TIME_LIMIT
    page_limit: int = DEFAULT_PAGE_LIMIT
    wait: bool = True  # another build holds out/: wait for it (True) or fail at once
    remember: bool = False  # keep loaded handouts between builds in this process (watch)

    @property
    def project(self) -> Project:
        from handoutpress.render.html import Project

        return Project(self.root)


@dataclass(frozen=True)
class Job:
    """One output to make: a handout in one variant, and where it goes."""

    item: HandoutFile
    variant: str
    rel_path: str
    related_titles: tuple[str, ...]
    inputs_sha256: str


@dataclass
class JobResult:
    job: Job
    pdf: bytes | None = None
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    worker: int = 0  # process id that made it
    peak_rss_mb: float = 0.0  # that process's peak resident memory so far
    thumbnail: bytes | None = None  # page 1 as PNG for the catalogue, made while the worker is warm


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # outputs kept from an earlier build because theirs failed
    overdue: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    translations: list[Problem] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    checks: str = ""  # one line: the content checks' counts (checks.CheckReport.summary_line)
    workers: dict[int, float] = field(default_factory=dict)  # pid -> peak RSS in MB
    nothing_to_do: bool = False  # answered from the fingerprint without loading content

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "built": self.built,
            "unchanged": self.unchanged,
            "failed": [
                {"file": p.file, "line": p.line, "field": p.field, "message": p.message, "text": str(p)} for p in self.failed
            ],
            "stale": self.stale,
            "overdue": self.overdue,
            "removed": self.removed,
            "translations": [str(p) for p in self.translations],
            "checks": getattr(self, "checks", ""),
            "worker_peak_rss_mb": {str(pid): round(mb, 1) for pid, mb in sorted(self.workers.items())},
        }


# A progress callback gets (done, total, output path, "built" | "failed").
Progress = Callable[[int, int, str, str], None]


# ---------------------------------------------------------------------------
# Locking: one build per out/ at a time


class BuildLocked(HandoutPressError):
    """Another build holds the lock on this out/ folder."""

    category = "usage"


@contextlib.contextmanager
def build_lock(out: Path, *, wait: bool, notify: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``out/`` for the length of a build.

    The lock is an ``flock`` on ``out/.handoutpress.lock``; the kernel drops it
    when the holder exits, even by SIGKILL, so a dead build never blocks the
    next one. With ``wait`` a second build waits (saying so once); without, it
    stops with a `BuildLocked` error naming the holder.
    """
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            message = f"another build is running on {out} (process {holder})"
            if not wait:
                raise BuildLocked(Problem(str(out), f"{message}; try again when it ends")) from None
            if notify:
                notify(f"{message}; waiting for it to finish")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


# ---------------------------------------------------------------------------
# What shapes an output: files, fonts, code, options


def _tree_digest(folder: Path, names: Iterable[str] | None = None) -> str:
    digest = hashlib.sha256()
    files = sorted(folder.rglob("*")) if names is None else [folder / n for n in sorted(names)]
    for p in files:
        if p.is_file() and not p.name.startswith("."):
            digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def _distribution_version(name: str) -> str:
    """The installed distribution's folder name (name and version), found without importlib.metadata (slow)."""
    for entry in sys.path:
        if os.path.isdir(entry):
            found = sorted(Path(entry).glob(f"{name}-*.dist-info"))
            if found:
                return found[0].name
    return "absent"


_CODE_DIGEST: str | None = None


def code_digest() -> str:
    """Our version and source, and the versions of the libraries that write PDFs."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        package = Path(__file__).resolve().parents[1]
        digest = hashlib.sha256(f"{__version__}\0".encode())
        for name in ("weasyprint", "pydyf", "pypdf", "fonttools"):
            digest.update(f"{name}={_distribution_version(name)}\0".encode())
        digest.update(_tree_digest(package, [p.relative_to(package).as_posix() for p in package.rglob("*.py")]).encode())
        _CODE_DIGEST = digest.hexdigest()
    return _CODE_DIGEST


_FONT_FILES: dict[str, tuple[str, ...]] = {}
FONT_STYLES = ("regular", "bold", "italic", "bold:italic", "semibold")


def font_files(family: str) -> tuple[str, ...]:
    """The font files fontconfig picks for ``family`` (and the fallback) in each style.

    Asked of ``fc-match`` once per family per process; all styles at once.
    """
    if family not in _FONT_FILES:
        patterns = [f"{name}:{style}" for name in (family, "DejaVu Sans") for style in FONT_STYLES]
        try:
            runs = [
                subprocess.Popen(["fc-match", "-f", "%{file}", p], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                for p in patterns
            ]
            found = {run.communicate()[0].decode(errors="replace") for run in runs}
        except OSError:  # no fontconfig tools: fall back to hashing nothing but the name
            found = set()
        _FONT_FILES[family] = tuple(sorted(f for f in found if f))
    return _FONT_FILES[family]


def fonts_digest(files: Iterable[str]) -> str:
    """Names, sizes and modification times of the font files: cheap, and changes when a font does."""
    digest = hashlib.sha256()
    for name in files:
        try:
            st = os.stat(name)
            digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(f"{name}\0missing\0".encode())
    return digest.hexdigest()


def output_options() -> str:
    """Options and environment that change the bytes of a PDF."""
    return f"SOURCE_DATE_EPOCH={os.environ.get('SOURCE_DATE_EPOCH', '')}"


def library_fingerprint(options: BuildOptions, fonts: Iterable[str], files: str | None = None) -> str:
    """Everything a whole build reads, hashed without parsing any of it.

    Equal fingerprints mean the last clean build already made exactly this
    library; ``today`` is part of it because review statuses depend on it.
    ``files``: `input_files_digest` taken earlier (at the start of a build).
    """
    files = files or input_files_digest(options)
    return hashlib.sha256(f"{files}\0{fonts_digest(fonts)}".encode()).hexdigest()


def input_files_digest(options: BuildOptions) -> str:
    root = options.root
    digest = hashlib.sha256()
    for name in INPUT_FOLDERS:
        digest.update(f"{name}\0{_tree_digest(root / name) if (root / name).is_dir() else '-'}\0".encode())
    digest.update(_tree_digest(root, [p.name for p in root.glob("*.yaml")]).encode())  # project settings
    digest.update(f"brand\0{options.brand_dir.resolve()}\0{_tree_digest(options.brand_dir)}\0".encode())
    digest.update(f"{code_digest()}\0{output_options()}\0".encode())
    digest.update(f"{options.today.isoformat()}\0{options.page_limit}\0{options.out.resolve()}\0".encode())
    return digest.hexdigest()


def _image_sources(item: HandoutFile) -> list[str]:
    out = []
    for s in item.content.sections:
        for part in (s, *s.sections):
            if part.image:
                out.append(part.image.src)
    return out


def plan_jobs(handouts: list[HandoutFile], brand: Brand, project: Project) -> tuple[list[Job], list[Problem]]:
    """One job per output, each keyed by a hash of everything that shapes it.

    The key: the handout's YAML, the titles of related handouts it prints, the
    brand, the templates, the variant's stylesheets, the labels of its language,
    the images it shows, the fonts the brand resolves to, our code and the
    library versions, and the output options. Change one and exactly the
    outputs that read it are rebuilt.
    """
    from handoutpress.publish import patient_file_name
    from handoutpress.render.html import load_labels
    from handoutpress.render.variants import VARIANTS

    # The catalogue's own template shapes out/index.html, not any PDF.
    templates = _tree_digest(project.templates, [p.name for p in project.templates.glob("*.html") if p.name != "catalogue.html"])
    shared = "\0".join((code_digest(), fonts_digest(font_files(brand.config.font)), output_options(), brand.sha256, templates))
    titles = {(h.language, h.id): h.content.title for h in handouts}
    jobs: list[Job] = []
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    for item in handouts:
        labels = _tree_digest(project.labels, {f"{item.language}.yaml", "en.yaml"})
        labels += _tree_digest(project.root / "glossary", {f"{item.language}.yaml"})  # the "Words to know" box
        assets = hashlib.sha256(b"".join((project.root / src).read_bytes() for src in _image_sources(item))).hexdigest()
        related = tuple(titles[(item.language, r)] for r in item.content.related if (item.language, r) in titles)
        for variant in VARIANTS.values():
            if not variant.applies(item.content):
                continue
            # The suffix a patient sees is in their language (labels: file_large_print, file_faq_sheet).
            suffix = load_labels(project.labels, item.language)[f"file_{variant.name.replace('-', '_')}"] if variant.file_suffix else ""
            rel = f"{item.language}/{patient_file_name(item.content.title, suffix)}"
            if rel in taken:
                problems.append(
                    Problem(
                        item.path,
                        f"output {rel} would overwrite the one made from {taken[rel]}; give one of them another title",
                        field="title",
                        line=item.line_of("title"),
                    )
                )
                continue
            taken[rel] = item.path
            styles = _tree_digest(project.styles, {*variant.stylesheets, "stamp.css"})
            key = "\0".join((shared, item.source_sha256, variant.name, styles, labels, assets, *related))
            jobs.append(Job(item, variant.name, rel, related, hashlib.sha256(key.encode()).hexdigest()))
    return jobs, problems


# ---------------------------------------------------------------------------
# Making one output (runs in a worker process, or in this one)


@dataclass(frozen=True)
class WorkerContext:
    """What a worker needs besides the job: small, picklable, the same for a whole batch."""

    root: str
    brand_dir: str
    brand_sha256: str
    shared_inputs: str  # digest of templates, styles and labels: a change empties the worker's caches
    time_limit: float
    page_limit: int


class TimeLimitExceeded(BaseException):
    """A document ran past its time limit (a BaseException, so no `except Exception` inside a stage swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimitExceeded` in this thread after ``seconds`` (main thread only)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Per-process warm state: the brand (per brand hash) and which shared inputs
# the caches of render (Jinja, labels) and stamp (stamp PDFs) were filled from.
_WORKER: dict[str, Any] = {}


def shared_inputs_digest(root: Path) -> str:
    return hashlib.sha256(
        "\0".join(_tree_digest(root / d) if (root / d).is_dir() else "-" for d in SHARED_FOLDERS).encode()
    ).hexdigest()


def forget_cached_inputs() -> None:
    """Empty every cache our stages keep of files (labels, glossary, templates, stamp PDFs).

    A long-lived process (a warm worker, `watch`) calls this when those files change.
    """
    for name, module in list(sys.modules.items()):
        if name.startswith("handoutpress."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
    stamp = sys.modules.get("handoutpress.stamp.apply")
    if stamp is not None:
        stamp._CACHE.clear()


def _warm(context: WorkerContext) -> tuple[Brand, Project]:
    from handoutpress.load.brand import load_brand
    from handoutpress.render import html as render
    from handoutpress.stamp import apply as stamp

    if _WORKER.get("shared_inputs") != (context.root, context.shared_inputs):
        if "shared_inputs" in _WORKER:
            forget_cached_inputs()
        _WORKER["shared_inputs"] = (context.root, context.shared_inputs)
    key = (context.root, context.brand_dir, context.brand_sha256)
    if _WORKER.get("brand_key") != key:
        _WORKER["brand"] = load_brand(Path(context.brand_dir), Path(context.root))
        _WORKER["brand_key"] = key
        stamp._CACHE.clear()
    return _WORKER["brand"], render.Project(Path(context.root))


def creation_date(item: HandoutFile) -> str:
    """The PDF's date: SOURCE_DATE_EPOCH if set, else the content's review date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return item.content.review.reviewed.first_day.isoformat() + "T00:00:00Z"


def make_output(
    job: Job,
    brand: Brand,
    project: Project,
    *,
    seconds: float = DEFAULT_TIME_LIMIT,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    extra: dict | None = None,
) -> JobResult:
    """Render, typeset and stamp one output; errors are returned, never raised.

    ``extra``: template values for a one-off copy (serve's "Given to" box); never cached.
    """
    from handoutpress.render.html import render_html
    from handoutpress.render.variants import VARIANTS
    from handoutpress.stamp.apply import StampSpec, apply_stamp, stamp_kit
    from handoutpress.typeset.engine import typeset
    from handoutpress.verify.audit import audit_pdf

    variant = VARIANTS[job.variant]
    what = f"{job.item.path} ({job.variant})"
    started = time.perf_counter()
    try:
        with time_limit(seconds):
            html = render_html(job.item, variant, brand, project, job.related_titles, extra)
            facts: dict[str, Any] = {}
            pdf = typeset(
                html,
                base_url=project.root,
                allowed_roots=[project.assets, project.styles, brand.folder],
                what=what,
                created=creation_date(job.item),
                facts=facts,
            )
            pages = facts["pages"]
            if pages > page_limit:
                return JobResult(job, problems=[Problem(what, f"{pages} pages is over the limit of {page_limit}; shorten it")])
            review = job.item.content.review
            spec = StampSpec(brand.sha256, job.item.language, job.variant, review.reviewed, review.next_review)
            kit = stamp_kit(spec, brand=brand, variant=variant, project=project)
            stamped = apply_stamp(pdf, kit, what=what, edition=job.item.edition)
            # Verify before publishing: an output failing the audit never reaches out/.
            audit = audit_pdf(stamped, what, brand, project.labels)
            if not audit.ok:
                return JobResult(job, problems=audit.problems)
        return JobResult(job, stamped, pages, seconds=time.perf_counter() - started)
    except TimeLimitExceeded:
        return JobResult(job, problems=[Problem(what, f"typesetting took longer than the limit of {seconds:g} s")])
    except HandoutPressError as exc:
        return JobResult(job, problems=exc.problems)
    except Exception as exc:  # one bad document must not stop the batch
        return JobResult(job, problems=[Problem(what, f"failed: {type(exc).__name__}: {exc}")])


def run_job(job: Job, context: WorkerContext) -> JobResult:
    """The unit of work handed to an Executor: self-contained, so any executor can run it."""
    brand, project = _warm(context)
    result = make_output(job, brand, project, seconds=context.time_limit, page_limit=context.page_limit)
    if result.pdf is not None:
        # The catalogue's thumbnail is drawn here, in parallel, rather than one
        # by one in the main process after the batch.
        from handoutpress.frontdesk.catalogue import thumbnail_png

        try:
            result.thumbnail = thumbnail_png(result.pdf)
        except Exception:  # the catalogue draws it again, or says why it cannot
            result.thumbnail = None
    result.worker = os.getpid()
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def prewarm_worker(root: str, linger: float = 0.0) -> int:
    """Load WeasyPrint, the fonts and the templates in this worker before the first job.

    A first document typeset in a process costs ten times the next (Pango and
    HarfBuzz load the fonts); a two-word page pays that here.
    ``linger`` keeps this worker busy a moment so that one warm-up task lands on each worker.
    """
    import pypdfium2  # noqa: F401  (the thumbnails)

    from handoutpress.frontdesk import catalogue  # noqa: F401  (imports are the warm-up)
    from handoutpress.render import html as render
    from handoutpress.stamp import apply as stamp  # noqa: F401
    from handoutpress.typeset import engine as typeset
    from handoutpress.verify import audit  # noqa: F401

    project = render.Project(Path(root))
    typeset._font_config()
    render.environment(project.templates)
    try:
        typeset.typeset(
            '<html lang="en"><head><title>warm</title></head><body><p>Warm <b>up</b></p></body></html>',
            base_url=project.root,
            allowed_roots=[project.styles],
            what="warm-up",
        )
    except Exception:  # a warm-up that fails costs the first job a little time, nothing else
        pass
    time.sleep(linger)
    return os.getpid()


def worker_initializer() -> None:
    """A worker leaves Ctrl-C to the command that started it.

    A terminal sends Ctrl-C to every process of the command: the workers
    would each print a traceback. The command stops them itself (and `watch`
    makes SIGTERM a Ctrl-C only for itself); a worker stopped by SIGTERM just ends.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def stop_workers(executor: Executor) -> None:
    """End a process pool's workers now, in the middle of a document if need be (they write nothing)."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()


def default_executor(jobs: int, root: Path) -> Executor | None:
    """Worker processes for a batch, warming up at once; None means run in this process.

    The pool is started before the library is loaded, so the workers import
    WeasyPrint and load the fonts while this process reads and plans.
    """
    from concurrent.futures import ProcessPoolExecutor

    workers = jobs or os.cpu_count() or 1
    if workers <= 1:
        return None
    pool = ProcessPoolExecutor(max_workers=workers, initializer=worker_initializer)
    for _ in range(workers):
        pool.submit(prewarm_worker, str(root), 0.0)
    return pool


def execute(todo: list[Job], context: WorkerContext, executor: Executor | None) -> Iterator[JobResult]:
    """Hand every job to ``executor`` now; results come as they finish.

    Longest jobs go first so every core stays busy to the end. Without an
    executor the jobs run here, one by one, as the results are read.
    """
    ordered = sorted(todo, key=lambda j: -j.item.source.stat().st_size * (2 if j.variant == "large-print" else 1))
    if executor is None:
        return (run_job(job, context) for job in ordered)
    futures: dict[Future, Job] = {executor.submit(run_job, job, context): job for job in ordered}
    return _finished(futures)


def _finished(futures: dict[Future, Job]) -> Iterator[JobResult]:
    from concurrent.futures.process import BrokenProcessPool

    for future in as_completed(futures):
        job = futures[future]
        try:
            yield future.result()
        except BrokenProcessPool:
            what = f"{job.item.path} ({job.variant})"
            yield JobResult(job, problems=[Problem(what, "the worker process making it stopped unexpectedly")])


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
    from handoutpress.load.content import _check_related, display_path, find_handout_files, load_handout, load_library

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
    problems.extend(_check_related(handouts))
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


def summary_line(report: BuildReport, seconds: float, names: int = 5) -> str:
    """One line for people: counts, and the names behind every count but 'unchanged'."""

    def named(label: str, items: list[str]) -> str:
        if not items:
            return f"0 {label}"
        shown = ", ".join(items[:names]) + (f", +{len(items) - names} more" if len(items) > names else "")
        return f"{len(items)} {label} ({shown})"

    failed = sorted({p.file.split(" (")[0] for p in report.failed})
    return "; ".join(
        (
            named("built", report.built),
            f"{len(report.unchanged)} unchanged",
            named("failed", failed),
            named("stale", report.stale),
            named("overdue", report.overdue),
            named("removed", report.removed),
        )
    ) + f" in {seconds:.2f} s"


def report_json(report: BuildReport, seconds: float) -> str:
    return json.dumps({**report.as_json(), "seconds": round(seconds, 3)}, indent=2, ensure_ascii=False)
