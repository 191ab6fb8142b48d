"""Making one output, in a worker process or in this one: render, typeset, stamp, audit."""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.errors import HandoutPressError, Problem

if TYPE_CHECKING:
    from handoutpress.load.brand import Brand
    from handoutpress.load.content import HandoutFile
    from handoutpress.load.project import Project
    from handoutpress.render.html import Renderer
    from handoutpress.stamp.kit import KitShelf, StampKits
    from handoutpress.typeset.session import TypesetSession

from handoutpress.batch.jobs import DEFAULT_PAGE_LIMIT, DEFAULT_TIME_LIMIT, Job, JobResult

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
    kit_shelf: str = ""  # a folder this batch's workers share stamp kits through (`stamp.kit.KitShelf`); "" for none
    out: str = ""  # the build's out/: a thumbnail already there for a PDF's bytes is not drawn again; "" to draw all


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


class WorkerSession:
    """What one worker process keeps between jobs: its renderer (labels, glossaries,
    templates), its typesetter (fonts, images, parsed stylesheets), its stamp kits,
    the brand it loaded (per brand hash), and which shared inputs (templates,
    styles, labels, glossary) those caches were filled from.

    One per process (`worker_session`), made on first use; `forget` empties what
    was read from files, for a long-lived process (a warm worker, `watch`) whose
    files changed.
    """

    def __init__(self) -> None:
        # Made on first use: the main process of a pooled build only asks this
        # session to forget, and must not import the typesetter for that.
        self._typesetter: TypesetSession | None = None
        self._stamp_kits: StampKits | None = None
        self.brand: Brand | None = None
        self.brand_key: tuple[str, str, str] | None = None
        self.shared_inputs: tuple[str, str] | None = None  # (root, digest) the caches were filled from
        self.renderer: Renderer | None = None
        self.refreeze = False  # warm state was dropped and set free for collection: freeze again once refilled
        self.drops = 0  # how many times warm state was dropped (`forget`, a new brand)

    @property
    def typesetter(self) -> TypesetSession:
        """This worker's typesetter (fonts, images, parsed stylesheets)."""
        if self._typesetter is None:
            from handoutpress.typeset.session import TypesetSession

            self._typesetter = TypesetSession()
        return self._typesetter

    @property
    def stamp_kits(self) -> StampKits:
        """The stamp kits this worker has typeset."""
        if self._stamp_kits is None:
            from handoutpress.stamp.kit import StampKits

            self._stamp_kits = StampKits(self.typesetter)
        return self._stamp_kits

    def use_shared_inputs(self, root: str, digest: str) -> None:
        """The caches are to hold what the project at ``root`` has now (``digest``); if they were
        filled from other files, they are emptied first."""
        if self.shared_inputs is not None and self.shared_inputs != (root, digest):
            self.forget()
        self.shared_inputs = (root, digest)

    def forget(self) -> None:
        """Empty every cache of files: the renderer (labels, templates, glossaries), the
        typesetter's images and the stamp kits."""
        if self._typesetter is not None:
            self._typesetter.forget_files()
        if self._stamp_kits is not None:
            self._stamp_kits.clear()
        self.renderer = None
        self._release_frozen()

    def _release_frozen(self) -> None:
        """What was dropped may have been frozen (`keep_warm_state_out_of_collections`), where no
        collection would ever free it: everything frozen goes back to the collector, to be frozen
        again by the next `warm` once the caches are refilled."""
        self.drops += 1
        if gc.get_freeze_count():
            gc.unfreeze()
            self.refreeze = True

    def renderer_for(self, project: Project) -> Renderer:
        """This session's renderer for ``project``, made on first use and kept until `forget`."""
        from handoutpress.render.html import Renderer

        if self.renderer is None or self.renderer.project != project:
            self.renderer = Renderer(project)
        return self.renderer

    def warm(self, context: WorkerContext) -> tuple[Brand, Project]:
        """The brand and project for a job of ``context``, the caches made right for its inputs."""
        from handoutpress.load.brand import load_brand
        from handoutpress.load.project import Project

        drops = self.drops
        self.use_shared_inputs(context.root, context.shared_inputs)
        key = (context.root, context.brand_dir, context.brand_sha256)
        if self.brand is None or self.brand_key != key:
            if self.brand is not None:
                self._release_frozen()  # the old brand and its kits go
            self.brand = load_brand(Path(context.brand_dir), Path(context.root))
            self.brand_key = key
            self.stamp_kits.clear()  # kits show the brand
        self.stamp_kits.shelf = self._shelf(context)
        if self.refreeze and self.drops == drops:  # dropped earlier, refilled by the jobs since: freeze them now
            self.refreeze = False
            keep_warm_state_out_of_collections()
        return self.brand, Project(Path(context.root))

    def _shelf(self, context: WorkerContext) -> KitShelf | None:
        """The batch's kit shelf, when it has one this process can see (a cluster worker elsewhere cannot)."""
        from handoutpress.stamp.kit import KitShelf

        shelf = self.stamp_kits.shelf
        if not context.kit_shelf:
            return None
        if shelf is not None and str(shelf.folder) == context.kit_shelf:
            return shelf
        folder = Path(context.kit_shelf)
        return KitShelf(folder, f"{context.shared_inputs}\0{context.brand_sha256}") if folder.is_dir() else None


_SESSION: WorkerSession | None = None  # this process's; read only through worker_session()


def worker_session() -> WorkerSession:
    """This process's `WorkerSession`, made on first use."""
    global _SESSION
    if _SESSION is None:
        _SESSION = WorkerSession()
    return _SESSION


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
    session: WorkerSession | None = None,
) -> JobResult:
    """Render, typeset and stamp one output; errors are returned, never raised.

    ``extra``: template values for a one-off copy (serve's "Given to" box); never cached.
    ``session``: whose typesetter and stamp kits to use (this process's `worker_session` if None).
    """
    from handoutpress.render.variants import VARIANTS
    from handoutpress.stamp.apply import StampRecord, apply_stamp
    from handoutpress.stamp.kit import StampSpec
    from handoutpress.verify.audit import audit_pdf

    session = session or worker_session()
    renderer = session.renderer_for(project)
    variant = VARIANTS[job.variant]
    what = f"{job.item.path} ({job.variant})"
    started = time.perf_counter()
    try:
        with time_limit(seconds):
            html = renderer.html(job.item, variant, brand, job.related_titles, extra)
            facts: dict[str, Any] = {}
            pdf = session.typesetter.typeset(
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
            kit = session.stamp_kits.kit(spec, brand=brand, variant=variant, renderer=renderer)
            record = StampRecord()
            stamped = apply_stamp(pdf, kit, what=what, edition=job.item.edition, record=record)
            # Verify before publishing: an output failing the audit never reaches out/. The stamp
            # hands it the original's parsed cross-reference; the rest it reads from the bytes.
            audit = audit_pdf(stamped, what, brand, renderer.labels, prefix=record.prefix)
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
    session = worker_session()
    brand, project = session.warm(context)
    result = make_output(job, brand, project, seconds=context.time_limit, page_limit=context.page_limit, session=session)
    if result.pdf is not None and not _has_thumbnail(context, result.pdf):
        # The catalogue's thumbnail is drawn here, in parallel, rather than one
        # by one in the main process after the batch.
        from handoutpress.pdf.thumbnail import thumbnail_png

        try:
            result.thumbnail = thumbnail_png(result.pdf)
        except Exception:  # the catalogue draws it again, or says why it cannot
            result.thumbnail = None
    result.worker = os.getpid()
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _has_thumbnail(context: WorkerContext, pdf: bytes) -> bool:
    """Is the thumbnail of these very bytes in out/ already (a PDF rebuilt the same)? Only where this process sees out/."""
    if not context.out:
        return False
    from handoutpress.files import sha256
    from handoutpress.publish import thumbnail_path

    return (Path(context.out) / thumbnail_path(sha256(pdf))).is_file()


# What every worker imports to make an output: imported once where workers are forked from
# (the local pool's parent, a local cluster's fork server), so each starts with them.
WORKER_MODULES = (
    "handoutpress.load.content",
    "handoutpress.render.html",
    "handoutpress.typeset.session",
    "handoutpress.stamp.apply",
    "handoutpress.verify.audit",
    "handoutpress.pdf.thumbnail",
    "weasyprint",
    "pypdfium2",
    "PIL.Image",
)


def import_worker_modules() -> None:
    """Import `WORKER_MODULES` here, before worker processes are forked from this one."""
    import importlib

    for name in WORKER_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # the worker reports what is missing when it needs it
            pass


def prewarm_worker(root: str, linger: float = 0.0) -> int:
    """Load WeasyPrint, the fonts and the templates in this worker before the first job.

    A first document typeset in a process costs ten times the next (Pango and
    HarfBuzz load the fonts); a two-word page pays that here.
    ``linger`` keeps this worker busy a moment so that one warm-up task lands on each worker.
    """
    import pypdfium2  # noqa: F401  (the thumbnails)

    from handoutpress.load.project import Project
    from handoutpress.pdf import thumbnail  # noqa: F401  (imports are the warm-up)
    from handoutpress.stamp import apply as stamp  # noqa: F401
    from handoutpress.verify import audit  # noqa: F401

    project = Project(Path(root))
    session = worker_session()
    typesetter = session.typesetter
    typesetter.font_config  # noqa: B018  (made now, not in the first job)
    session.renderer_for(project).environment()
    try:
        typesetter.typeset(
            '<html lang="en"><head><title>warm</title></head><body><p>Warm <b>up</b></p></body></html>',
            base_url=project.root,
            allowed_roots=[project.styles],
            what="warm-up",
        )
    except Exception:  # a warm-up that fails costs the first job a little time, nothing else
        pass
    keep_warm_state_out_of_collections()
    time.sleep(linger)
    return os.getpid()


def keep_warm_state_out_of_collections() -> None:
    """Move what this worker holds now (modules, fonts, stylesheets, templates) out of the
    garbage collector's sight, after collecting the warm-up's garbage.

    Every document allocates enough for several full collections, and each full collection
    walks every object in the process; what a warm worker keeps for its life need not be
    walked again. `gc.freeze` (the standard library's, meant for long-lived processes) does
    that: typesetting the benchmark library, 4% less time per document in one process and
    about 10% in a build's workers. Objects made later are collected as usual; caches the
    session drops later (`WorkerSession.forget`, a new brand) are handed back to the
    collector then, and what refills them is frozen at the next job.
    """
    gc.collect()
    gc.freeze()
