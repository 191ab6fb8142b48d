"""The worker pool: starting, warming and stopping the processes that typeset."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, Future, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.errors import Problem

if TYPE_CHECKING:
    pass

from handoutpress.batch.jobs import Job, JobResult
from handoutpress.batch.pipeline import WorkerContext, prewarm_worker, run_job


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


