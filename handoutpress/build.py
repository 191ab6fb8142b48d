"""The batch: load everything, decide what to make, make it, publish it.

Reads top to bottom like the pipeline it drives::

    load brand and content (all of it, every error collected)
    plan one job per output (handout x variant), keyed by a hash of its inputs
    skip jobs whose output in out/ already has that key
    typeset and stamp the rest, in parallel, each job isolated from the others
    write each PDF atomically, then the manifest, last

A failed job never touches its previous PDF; the manifest keeps that PDF and
marks it stale.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from . import __version__
from .brand import Brand, load_brand
from .checks import OVERDUE, build_checks_line, reading_fields, review_status
from .content import HandoutFile, display_path, load_library
from .errors import BrandError, ContentError, HandoutPressError, Problem
from .publish import atomic_write, patient_file_name, read_manifest, sha256, write_manifest
from .render import Project, load_labels, render_html
from .variants import VARIANTS


@dataclass(frozen=True)
class BuildOptions:
    project: Project
    out: Path
    brand_dir: Path
    paths: tuple[Path, ...] = ()
    jobs: int = 0  # 0: every core
    force: bool = False
    today: date = field(default_factory=date.today)
    strict: bool = False


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


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    checks: str = ""  # one line: the content checks' counts (checks.CheckReport.summary_line)

    @property
    def ok(self) -> bool:
        return not self.failed


# ---------------------------------------------------------------------------
# Planning


def _tree_digest(folder: Path, names: Iterable[str] | None = None) -> str:
    digest = hashlib.sha256()
    files = sorted(folder.rglob("*")) if names is None else [folder / n for n in sorted(names)]
    for p in files:
        if p.is_file():
            digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def _image_sources(item: HandoutFile) -> list[str]:
    out = []
    for s in item.content.sections:
        for part in (s, *s.sections):
            if part.image:
                out.append(part.image.src)
    return out


def plan_jobs(handouts: list[HandoutFile], brand: Brand, project: Project) -> tuple[list[Job], list[Problem]]:
    """One job per output, each keyed by a hash of everything that shapes it."""
    templates = _tree_digest(project.templates)
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
            rel = f"{item.language}/{patient_file_name(item.content.title, variant.file_suffix)}"
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
            key = "\0".join(
                (__version__, item.source_sha256, variant.name, brand.sha256, templates, styles, labels, assets, *related)
            )
            jobs.append(Job(item, variant.name, rel, related, hashlib.sha256(key.encode()).hexdigest()))
    return jobs, problems


# ---------------------------------------------------------------------------
# Making one output (runs in a worker process)

_WORKER: dict = {}


def _init_worker(root: str, brand_dir: str) -> None:
    project = Project(Path(root))
    _WORKER["project"] = project
    _WORKER["brand"] = load_brand(Path(brand_dir), project.root)


def creation_date(item: HandoutFile) -> str:
    """The PDF's date: SOURCE_DATE_EPOCH if set, else the content's review date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return item.content.review.reviewed.first_day.isoformat() + "T00:00:00Z"


def make_output(job: Job, brand: Brand, project: Project) -> JobResult:
    """Render, typeset and stamp one output; errors are returned, never raised."""
    from pypdf import PdfReader

    from .stamp import StampSpec, apply_stamp, stamp_pdf
    from .typeset import typeset

    variant = VARIANTS[job.variant]
    what = f"{job.item.path} ({job.variant})"
    try:
        html = render_html(job.item, variant, brand, project, job.related_titles)
        pdf = typeset(
            html,
            base_url=project.root,
            allowed_roots=[project.assets, project.styles, brand.folder],
            what=what,
            created=creation_date(job.item),
        )
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        review = job.item.content.review
        spec = StampSpec(
            brand.sha256, job.item.language, job.variant, pages, review.reviewed, review.next_review, job.item.edition
        )
        stamped = apply_stamp(pdf, stamp_pdf(spec, brand=brand, variant=variant, project=project), what=what)
        return JobResult(job, stamped, pages)
    except HandoutPressError as exc:
        return JobResult(job, problems=exc.problems)
    except Exception as exc:  # one bad document must not stop the batch
        return JobResult(job, problems=[Problem(what, f"failed: {type(exc).__name__}: {exc}")])


def _run_in_worker(job: Job) -> JobResult:
    return make_output(job, _WORKER["brand"], _WORKER["project"])


# ---------------------------------------------------------------------------
# The batch


def build(options: BuildOptions, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build every handout under ``options.paths`` (default: all) into ``options.out``."""
    project = options.project
    report = BuildReport()
    try:
        brand = load_brand(options.brand_dir, project.root)
    except BrandError as exc:
        report.failed.extend(exc.problems)
        return report
    paths = options.paths or (project.handouts,)
    handouts, problems = load_library(paths, project.root)
    for language in sorted({h.language for h in handouts}):
        try:
            load_labels(project.labels, language)
            brand.wording(language)
        except (ContentError, BrandError) as exc:
            problems.extend(exc.problems)
            handouts = [h for h in handouts if h.language != language]
    report.checks = build_checks_line(handouts, problems, project.root, options.today)
    jobs, plan_problems = plan_jobs(handouts, brand, project)
    problems.extend(plan_problems)
    report.failed.extend(problems)

    out = options.out
    previous = {o["path"]: o for o in read_manifest(out)["outputs"]}
    todo: list[Job] = []
    entries: dict[str, dict] = {}
    for job in jobs:
        old = previous.get(job.rel_path)
        if not options.force and old and old.get("inputs_sha256") == job.inputs_sha256 and _intact(out / job.rel_path, old):
            entries[job.rel_path] = _entry(job, old["pages"], old["bytes"], old["sha256"], options.today)
            report.unchanged.append(job.rel_path)
        else:
            todo.append(job)

    for result in _execute(todo, options, brand):
        job = result.job
        if result.problems:
            report.failed.extend(result.problems)
            old = previous.get(job.rel_path)
            if old and (out / job.rel_path).is_file():
                entries[job.rel_path] = {**old, "stale": True}
            continue
        atomic_write(out / job.rel_path, result.pdf)
        entries[job.rel_path] = _entry(job, result.pages, len(result.pdf), sha256(result.pdf), options.today)
        report.built.append(job.rel_path)
        if progress:
            progress(job.rel_path)

    # Keep what this run did not touch while its source still exists (a build of
    # one file must not forget the rest); delete outputs whose source is gone.
    for path, old in previous.items():
        if path in entries:
            continue
        source = project.root / old.get("source", "")
        if old.get("source") and source.is_file():
            entries[path] = old
        elif (out / path).is_file() and _owned(out, path):
            (out / path).unlink()
            report.removed.append(path)
    report.outputs = list(entries.values())
    report.overdue = sorted({e["source"] for e in report.outputs if e.get("review_status") == OVERDUE and e.get("source")})
    write_manifest(
        out, report.outputs, {"generator": f"Handout Press {__version__}", "brand": display_path(options.brand_dir, project.root)}
    )
    return report


def _owned(out: Path, rel: str) -> bool:
    target = (out / rel).resolve()
    return target.is_relative_to(out.resolve()) and target.suffix == ".pdf"


def _intact(path: Path, entry: dict) -> bool:
    try:
        return path.stat().st_size == entry.get("bytes") and sha256(path.read_bytes()) == entry.get("sha256")
    except OSError:
        return False


def _entry(job: Job, pages: int, size: int, digest: str, today: date) -> dict:
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


def _execute(jobs: list[Job], options: BuildOptions, brand: Brand):
    if not jobs:
        return
    workers = min(options.jobs or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        for job in jobs:
            yield make_output(job, brand, options.project)
        return
    executor: Executor = ProcessPoolExecutor(
        max_workers=workers,
        initializer=_init_worker,
        initargs=(str(options.project.root), str(options.brand_dir)),
    )
    with executor:
        # Longest first keeps both cores busy to the end.
        ordered = sorted(jobs, key=lambda j: -len(j.item.source.read_bytes()) * (2 if j.variant == "large-print" else 1))
        yield from executor.map(_run_in_worker, ordered)
