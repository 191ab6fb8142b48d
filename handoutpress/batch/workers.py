"""The worker pool: starting, warming and stopping the processes that typeset."""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, Executor, Future, as_completed
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.batch.jobs import Job, JobResult
from handoutpress.batch.pipeline import WorkerContext, import_worker_modules, prewarm_worker, run_job
from handoutpress.errors import Problem

if TYPE_CHECKING:
    from multiprocessing.queues import SimpleQueue

    from handoutpress.batch.cluster import DaskCluster


def worker_initializer(started: SimpleQueue) -> None:
    """A worker leaves Ctrl-C to the command that started it, and says who it is.

    A terminal sends Ctrl-C to every process of the command: the workers
    would each print a traceback. The command stops them itself (and `watch`
    makes SIGTERM a Ctrl-C only for itself); a worker stopped by SIGTERM just ends.
    Its process id goes to ``started``, so the pool knows exactly which
    processes are its own when it has to stop them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    started.put(os.getpid())


class WorkerPool:
    """Processes that typeset, warming up from the moment the pool starts.

    ``executor`` is a plain `ProcessPoolExecutor`: the batch hands it jobs.
    The pool itself knows its workers by the process ids they sent when they
    started, so `stop` can end them at once without the executor's internals.
    """

    def __init__(self, workers: int, root: Path, *, linger: float = 0.0) -> None:
        # Imported here: a build with nothing to do never starts a pool.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context()
        if context.get_start_method() == "fork":
            # Each worker would import WeasyPrint and the pipeline itself (a fifth of a
            # second of CPU each); imported here once, every forked worker has them.
            import_worker_modules()
            # And what this process holds is set aside from its garbage collections and its
            # children's (the standard library's advice before forking: a child's collection
            # would otherwise walk, and so copy, every page of it). Once per process: a
            # long-lived one (serve, replacing a broken pool) does not set more aside later.
            if not gc.get_freeze_count():
                gc.freeze()
        self._started: SimpleQueue = context.SimpleQueue()
        self._pids: set[int] = set()
        self.executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=worker_initializer, initargs=(self._started,)
        )
        # One warm-up task per worker: each loads WeasyPrint, the fonts and the
        # templates while this process reads and plans. ``linger`` keeps a worker
        # busy a moment, so that no worker takes two of them.
        self.warming = [self.executor.submit(prewarm_worker, str(root), linger) for _ in range(workers)]

    def stop(self) -> None:
        """End the workers now, in the middle of a document if need be (they write nothing)."""
        import multiprocessing

        while not self._started.empty():
            self._pids.add(self._started.get())
        # Only live children of this process that said they are this pool's workers.
        for process in multiprocessing.active_children():
            if process.pid in self._pids:
                process.terminate()

    def close(self, *, stop: bool = False) -> None:
        """Shut the pool down; with ``stop``, end the workers first instead of waiting for them."""
        if stop:
            self.stop()
        self.executor.shutdown(wait=True, cancel_futures=True)
        self._started.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_workers(jobs: int, root: Path, cluster: str = "") -> WorkerPool | DaskCluster | None:
    """Worker processes for a batch, warming up at once; None means run in this process.

    The pool is started before the library is loaded, so the workers import
    WeasyPrint and load the fonts while this process reads and plans.
    ``cluster``: ``local`` (a Dask `LocalCluster` of ``jobs`` processes) or a
    scheduler's address (`batch.cluster`); "" for the local pool.
    """
    workers = jobs or os.cpu_count() or 1
    if cluster:
        from handoutpress.batch.cluster import start_cluster

        return start_cluster(cluster, workers, root)
    if workers <= 1:
        return None
    return WorkerPool(workers, root)


def execute(todo: list[Job], context: WorkerContext, executor: Executor | None) -> Iterator[JobResult]:
    """Hand every job to ``executor`` now, in the order given; results come as they finish.

    The batch orders the jobs (`batch.run.edit_loop_order`). Without an
    executor the jobs run here, one by one, as the results are read.
    """
    if executor is None:
        return (run_job(job, context) for job in todo)
    futures: dict[Future, Job] = {executor.submit(run_job, job, context): job for job in todo}
    return _finished(futures)


def _finished(futures: dict[Future, Job]) -> Iterator[JobResult]:
    from handoutpress.batch.cluster import ClusterJobLost

    for future in as_completed(futures):
        job = futures[future]
        try:
            yield future.result()
        except BrokenExecutor as exc:  # a local worker died (BrokenProcessPool), or a cluster lost the job
            what = f"{job.item.path} ({job.variant})"
            reason = str(exc) if isinstance(exc, ClusterJobLost) else "the worker process making it stopped unexpectedly"
            yield JobResult(job, problems=[Problem(what, reason)])
