"""The front desk's press: a small pool of warm worker processes that typeset personalised copies
and join print lists.

`serve` starts it as it starts (the workers load WeasyPrint, the fonts and the
templates while the server binds its port) and shuts it down on exit. Each
copy is one job run in a worker's main thread, where the render time limit
(`batch.pipeline.time_limit`, SIGALRM) is in force as in a build; the
worker's `WorkerSession` keeps fonts, stylesheets and stamp kits warm between
copies. A print list is joined there too, under the same time limit. What
the copy shows of the patient travels to the worker and back through a pipe,
in memory only: nothing is written.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import BrokenExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.batch.jobs import DEFAULT_PAGE_LIMIT, DEFAULT_TIME_LIMIT, Job, JobResult
from handoutpress.batch.pipeline import WorkerContext, make_output, worker_session
from handoutpress.batch.workers import WorkerPool
from handoutpress.errors import Problem

if TYPE_CHECKING:
    from handoutpress.load.brand import Brand

DEFAULT_WORKERS = 2


def typeset_copy(job: Job, context: WorkerContext, extra: dict) -> JobResult:
    """In a worker: make ``job`` with the one-off template values ``extra``; the result is not kept."""
    session = worker_session()
    brand, project = session.warm(context)
    return make_output(
        job, brand, project, seconds=context.time_limit, page_limit=context.page_limit, extra=extra, session=session
    )


def join_documents(documents: list[tuple[str, Path]], title: str, seconds: float) -> bytes | str:
    """In a worker: the print list's PDFs joined into one, or why not (one line)."""
    from handoutpress.batch.pipeline import TimeLimitExceeded, time_limit
    from handoutpress.frontdesk.printlist import join_pdfs

    try:
        with time_limit(seconds):
            return join_pdfs(documents, title)
    except TimeLimitExceeded:
        return f"joining {len(documents)} documents took longer than the limit of {seconds:g} s"
    except Exception as exc:  # a damaged PDF in out/: say so, the server goes on
        return f"the documents could not be joined: {type(exc).__name__}"


def stamp_kit_specs() -> str:
    """In a worker: what its stamp kits are keyed by, as text (the no-trace tests read it)."""
    kits = worker_session().stamp_kits
    return f"{len(kits)} {kits.specs()!r}"


class DeskPress:
    """Worker processes kept warm for one-off copies, started at once."""

    def __init__(
        self,
        root: Path,
        workers: int = 0,
        *,
        time_limit: float = DEFAULT_TIME_LIMIT,
        page_limit: int = DEFAULT_PAGE_LIMIT,
    ) -> None:
        self.root = root.resolve()
        self.workers = workers or min(DEFAULT_WORKERS, os.cpu_count() or 1)
        self.time_limit = time_limit
        self.page_limit = page_limit
        self._lock = threading.Lock()  # guards replacing a broken pool, not the typesetting
        self._pool: WorkerPool | None = WorkerPool(self.workers, self.root)

    def context(self, brand: Brand, brand_dir: Path) -> WorkerContext:
        """What a worker needs for a copy of the project as its files are now."""
        from handoutpress.batch.inputs import shared_inputs_digest

        return WorkerContext(
            root=str(self.root),
            brand_dir=str(brand_dir),
            brand_sha256=brand.sha256,
            shared_inputs=shared_inputs_digest(self.root),
            time_limit=self.time_limit,
            page_limit=self.page_limit,
        )

    def typeset(self, job: Job, context: WorkerContext, extra: dict) -> JobResult:
        """Make ``job`` in a warm worker (waiting for one to be free); a worker that dies costs this copy only."""
        pool = self._live_pool()
        try:
            return pool.executor.submit(typeset_copy, job, context, extra).result()
        except BrokenExecutor:
            self._replace(pool)
            what = f"{job.item.path} ({job.variant})"
            return JobResult(job, problems=[Problem(what, "the worker process making it stopped unexpectedly")])

    def join(self, documents: list[tuple[str, Path]], title: str) -> bytes | str:
        """A print list joined in a warm worker, under the time limit; or why not (one line)."""
        pool = self._live_pool()
        try:
            return pool.executor.submit(join_documents, documents, title, self.time_limit).result()
        except BrokenExecutor:
            self._replace(pool)
            return "the worker process joining the documents stopped unexpectedly"

    def call(self, function, *args):
        """Run ``function(*args)`` in one of the workers and return what it returns."""
        return self._live_pool().executor.submit(function, *args).result()

    def _live_pool(self) -> WorkerPool:
        with self._lock:
            if self._pool is None:
                raise RuntimeError("the desk's press is closed")
            return self._pool

    def _replace(self, broken: WorkerPool) -> None:
        with self._lock:
            if self._pool is broken:
                broken.close(stop=True)
                self._pool = WorkerPool(self.workers, self.root)

    def close(self) -> None:
        """End the workers (a copy still being made is abandoned: nothing of it is written)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(stop=True)

    def __enter__(self) -> DeskPress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
