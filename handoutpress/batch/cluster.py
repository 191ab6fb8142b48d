"""Typesetting on a Dask distributed cluster: ``build --cluster local|tcp://HOST:PORT``.

The orchestrator stays in this process: it loads, plans, reads each result as
it arrives and publishes every file itself, atomically, exactly as with the
local pool. Only `run_job` travels, through `ClusterExecutor`, a
`concurrent.futures.Executor` over `Client.submit(pure=False)` that keeps a
window of jobs on the cluster and hands out the next one as each result is
read, so results never pile up on the workers.

A Dask worker keeps the same warm state as a local worker: `run_job` uses the
process's lazy `WorkerSession` (fonts, parsed stylesheets, templates, stamp
kits), warmed by one `prewarm_worker` task per worker when the cluster is
joined. Before its first job each worker checks that it sees the same project
files (templates, styles, labels, glossary, brand) at the same path as the
orchestrator; a worker that does not fails the job with one line instead of
making a different PDF.

Dask reruns the jobs of a worker that dies on another worker (up to its
``distributed.scheduler.allowed-failures``); a job lost for good comes back as
`ClusterJobLost`, reported like a crashed local worker. ``distributed`` is
imported only when a cluster is asked for, so other builds never load it.
"""

from __future__ import annotations

import ctypes
import os
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, Executor, Future
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.batch.jobs import Job, JobResult
from handoutpress.batch.pipeline import (
    WORKER_MODULES,
    TimeLimitExceeded,
    WorkerContext,
    prewarm_worker,
    run_job,
    worker_session,
)
from handoutpress.errors import HandoutPressError, Problem, UsageError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

LOCAL = "local"
CONNECT_TIMEOUT = 5.0  # seconds to reach a scheduler before the build gives up
JOBS_PER_THREAD = 2  # jobs on the cluster per worker thread: one running, one ready to start
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss)://[^\s/:]+:\d{1,5}$")


class ClusterError(HandoutPressError):
    """The cluster could not be started or reached (exit status 1, one line)."""

    category = "cluster"


class ClusterJobLost(BrokenExecutor):
    """The cluster could not finish a job: its workers kept dying, or the scheduler went away.

    A `BrokenExecutor`, like a local pool's `BrokenProcessPool`: the batch
    reports the job as failed, with this exception's text, and goes on.
    """


def check_address(text: str) -> str:
    """``local`` or a scheduler address such as ``tcp://10.0.0.5:8786``; anything else is a usage error."""
    if text == LOCAL or _ADDRESS.match(text):
        return text
    raise UsageError(Problem("generate.py", f"--cluster: expected 'local' or tcp://HOST:PORT, got {text!r}"))


# ---------------------------------------------------------------------------
# On a worker


_ONE_JOB_AT_A_TIME = threading.Lock()  # a WorkerSession serves one job at a time, whatever --nthreads says
_PROJECT_CHECKED: dict[tuple[str, str, str, str], str] = {}  # this worker's verdict on a context's files ("" = same)


def on_worker(fn: Callable[..., Any], args: tuple, epoch: str | None) -> Any:
    """What a cluster task runs: ``fn(*args)`` in this worker's process, one at a time,
    with the orchestrator's SOURCE_DATE_EPOCH; a `run_job` is checked and timed too."""
    with _ONE_JOB_AT_A_TIME:
        if epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = epoch
        if fn is run_job:
            return cluster_job(*args)
        return fn(*args)


def cluster_job(job: Job, context: WorkerContext) -> JobResult:
    """`run_job` on a cluster worker: only if this worker sees the orchestrator's project
    files, and stopped at the time limit as a local worker's job would be."""
    what = f"{job.item.path} ({job.variant})"
    mismatch = project_mismatch(context)
    if mismatch:
        return JobResult(job, problems=[Problem(what, mismatch)])
    try:
        with thread_time_limit(context.time_limit):
            return run_job(job, context)
    except TimeLimitExceeded:  # raised between two stages, outside make_output's own handler
        return JobResult(job, problems=[Problem(what, f"typesetting took longer than the limit of {context.time_limit:g} s")])


def project_mismatch(context: WorkerContext) -> str:
    """Why this worker cannot make jobs of ``context`` ("" if it can): the project's shared
    files or brand differ here from the orchestrator's, or are missing. Checked once per build."""
    from handoutpress.batch.inputs import shared_inputs_digest

    key = (context.root, context.shared_inputs, context.brand_dir, context.brand_sha256)
    if key not in _PROJECT_CHECKED:
        where = f"the cluster worker on {socket.gethostname()}"
        verdict = ""
        if not Path(context.root).is_dir():
            verdict = f"{where} has no project folder at {context.root}; every worker needs the project's files at that path"
        elif shared_inputs_digest(Path(context.root)) != context.shared_inputs:
            verdict = f"{where} has other templates, styles, labels or glossary files under {context.root} than this build"
        else:
            try:
                brand, _ = worker_session().warm(context)
            except HandoutPressError as exc:
                verdict = f"{where} cannot read the brand: {exc.problems[0]}"
            else:
                if brand.sha256 != context.brand_sha256:
                    verdict = f"{where} has another brand under {context.brand_dir} than this build"
        _PROJECT_CHECKED[key] = verdict
    return _PROJECT_CHECKED[key]


@contextmanager
def thread_time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimitExceeded` in this thread after ``seconds``.

    A Dask worker runs tasks in a thread, where the local pool's SIGALRM cannot
    reach, so a timer thread raises the exception in this one through CPython's
    public ``PyThreadState_SetAsyncExc``: it lands at the next Python
    instruction, and `make_output` reports it as it does locally.
    """
    if seconds <= 0:
        yield
        return
    target = threading.get_ident()
    guard = threading.Lock()
    running = [True]

    def expire() -> None:
        with guard:
            if running[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(TimeLimitExceeded))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with guard:
            running[0] = False
        timer.cancel()


# ---------------------------------------------------------------------------
# In the orchestrator


class ClusterExecutor(Executor):
    """A `concurrent.futures.Executor` on a Dask client that keeps at most ``window`` tasks
    on the cluster, submitting the next (in the order they were given) as each one ends.

    Each result is fetched once and released at once, so the workers hold no
    finished results; what cannot be finished becomes `ClusterJobLost`.
    """

    def __init__(self, connect: Callable[[], Client]) -> None:
        self.connect = connect
        self.client: Client | None = None  # asked of ``connect`` when the first task is handed out
        self.window = 1
        self.epoch = os.environ.get("SOURCE_DATE_EPOCH")
        self.lock = threading.Lock()
        self.waiting: deque[tuple[Future, Callable[..., Any], tuple]] = deque()
        self.running: dict[Future, Any] = {}  # our future -> the Dask future making it
        self.closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if kwargs:
            raise TypeError("ClusterExecutor.submit takes positional arguments only")
        future: Future = Future()
        with self.lock:
            if self.closed:
                raise RuntimeError("cannot submit to a cluster executor after shutdown")
            self.waiting.append((future, fn, args))
        self.fill()
        return future

    def connected(self) -> Client:
        """The client, once the cluster is there; the window is sized to its worker threads then."""
        if self.client is None:
            client = self.connect()
            self.window = JOBS_PER_THREAD * max(1, sum(client.nthreads().values()))
            self.client = client
        return self.client

    def fill(self) -> None:
        """Hand the cluster waiting tasks until the window is full."""
        client = self.connected()
        while True:
            with self.lock:
                if self.closed or not self.waiting or len(self.running) >= self.window:
                    return
                future, fn, args = self.waiting.popleft()
                if not future.set_running_or_notify_cancel():
                    continue
                self.running[future] = None  # its place in the window, taken before the task exists
            task = client.submit(on_worker, fn, args, self.epoch, pure=False)
            with self.lock:
                self.running[future] = task
            task.add_done_callback(lambda done, future=future: self.finished(future, done))

    def finished(self, future: Future, task: Any) -> None:
        """A task ended (in Dask's callback thread): pass its outcome on, release it, start the next.

        Whatever happens here, the window moves on: a task that ends always makes room for the next.
        """
        try:
            if task.status == "finished":
                outcome: tuple[Any, BaseException | None] = (task.result(), None)
            else:
                outcome = (None, lost(task))
        except Exception as exc:  # fetching the result failed: the worker holding it went away for good
            outcome = (None, ClusterJobLost(f"the cluster lost the result: {type(exc).__name__}: {exc}"))
        try:
            task.release()
        finally:
            with self.lock:
                self.running.pop(future, None)
            result, error = outcome
            if not future.done():
                if error is None:
                    future.set_result(result)
                else:
                    future.set_exception(error)
            self.fill()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self.lock:
            self.closed = True
            waiting = list(self.waiting)
            self.waiting.clear()
            running = [task for task in self.running.values() if task is not None] if cancel_futures else []
        for future, _, _ in waiting:
            future.cancel()
        if running and self.client is not None:
            self.client.cancel(running)


def lost(task: Any) -> ClusterJobLost:
    """What to report for a task that did not finish."""
    from distributed import KilledWorker

    if task.status == "cancelled":
        return ClusterJobLost("the cluster cancelled it (the scheduler or the connection to it went away)")
    error = task.exception()
    if isinstance(error, KilledWorker):
        return ClusterJobLost("the worker process making it stopped unexpectedly, on every worker that tried it")
    return ClusterJobLost(f"the cluster worker failed: {type(error).__name__}: {error}")


class DaskCluster:
    """The build's cluster: its client, its executor, and the `LocalCluster` it started, if any.

    Shaped like the local `WorkerPool` (``executor``, ``close(stop=)``), so the
    build treats both alike. ``connect`` makes the client (and the local
    cluster); with ``background`` it runs in a thread, so a `LocalCluster`
    starts while this process loads and plans, and the first job waits for it.
    """

    def __init__(self, root: Path, connect: Callable[[], tuple[Client, LocalCluster | None]], *, background: bool) -> None:
        self.root = root
        self.client: Client | None = None
        self.local: LocalCluster | None = None
        self.warming: list[Any] = []
        self.error: BaseException | None = None
        self.executor = ClusterExecutor(self.connected)
        self.starting = threading.Thread(target=self.start, args=(connect,), name="handoutpress-cluster", daemon=True)
        if background:
            self.starting.start()
        else:
            self.start(connect)
            self.connected()

    def start(self, connect: Callable[[], tuple[Client, LocalCluster | None]]) -> None:
        """Make the client, then one warm-up per worker, pinned to it (`prewarm_worker`)."""
        try:
            self.client, self.local = connect()
            for address in self.client.nthreads():
                warming = self.client.submit(
                    on_worker, prewarm_worker, (str(self.root),), None, pure=False, workers=[address], allow_other_workers=False
                )
                warming.add_done_callback(lambda done: done.release())  # nothing to keep on the worker
                self.warming.append(warming)
        except HandoutPressError as exc:
            self.error = exc
        except Exception as exc:  # a local cluster that cannot start: one line, not Dask's traceback
            self.error = ClusterError(
                Problem("generate.py", f"--cluster: the cluster did not start ({type(exc).__name__}: {exc})")
            )

    def connected(self) -> Client:
        """The client, once it is made (waiting for a background start); a failed start raises its error."""
        if self.starting.is_alive():
            self.starting.join()
        if self.error is not None:
            raise self.error
        assert self.client is not None
        return self.client

    def close(self, *, stop: bool = False) -> None:
        """Let go of the cluster; a `LocalCluster` this build started is shut down.

        ``stop``: cancel what is still on the cluster instead of letting it finish.
        """
        if self.starting.is_alive():
            self.starting.join()
        self.executor.shutdown(cancel_futures=True)
        if self.client is not None:
            if stop:
                self.client.cancel(self.warming)
            self.client.close()
        if self.local is not None:
            self.local.close()

    def __enter__(self) -> DaskCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_cluster(address: str, workers: int, root: Path) -> DaskCluster:
    """Join the cluster at ``address`` (now: unreachable is a `ClusterError`, one line), or with
    ``local`` start a `LocalCluster` of ``workers`` processes, one thread each, in the background."""
    check_address(address)
    if address == LOCAL:
        start_fork_server()
        return DaskCluster(root, lambda: start_local(workers), background=True)
    return DaskCluster(root, lambda: (join(address), None), background=False)


# What a local cluster's worker processes import before they are forked (`start_local`).
WORKER_PRELOAD = ("distributed", "handoutpress.batch.cluster", *WORKER_MODULES)

# Dask settings for the `LocalCluster` a build starts (never for a cluster it joins, whose
# settings are its owner's). By default every worker samples its own stack every 10 ms for
# the dashboard's profile, checks its event loop every 20 ms and records system metrics
# every 0.5 s, every nanny reads its worker's memory every 0.1 s, and the scheduler (in this
# process) looks for work to steal every 0.1 s: threads and callbacks that take the
# GIL from the job in the worker's one thread, on cores the other worker and this process
# share. Measured on the benchmark library (2 workers), they made each job's typesetting
# 15 ms slower than in a local pool worker (152.6 against 137.1 ms at 300 jobs; with these
# settings, 137.2 ms). Nobody looks at this cluster's dashboard, so
# the profiler is off and the rest run at a pace that costs nothing; memory limits and
# heartbeats (how a dead worker is noticed) are untouched.
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.multiprocessing-method": "forkserver",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.scheduler.work-stealing": False,  # workers alike, one job ready on each: nothing to steal
}


def start_fork_server() -> None:
    """Start the fork server a `LocalCluster`'s workers will come from, importing `WORKER_PRELOAD`, now.

    Started before this process imports Dask itself: the server's imports (Dask,
    WeasyPrint, the pipeline: the longest step before the first worker can start)
    run on the other core while this process imports Dask and starts the scheduler,
    instead of after them. `start_local` finds it running.
    """
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(WORKER_PRELOAD))
    forkserver.ensure_running()


def start_local(workers: int) -> tuple[Client, LocalCluster]:
    """A `LocalCluster` on 127.0.0.1 of ``workers`` processes, one thread each, and a client of it.

    Its workers start from a fork server that has imported Dask, our pipeline
    and WeasyPrint once (`WORKER_PRELOAD`), instead of each importing them
    afresh in a spawned interpreter: the imports cost one process's CPU rather
    than every worker's, on a machine whose cores this build also loads and
    plans on. (A worker Dask restarts later, after one died, is spawned as usual.)
    Dask's housekeeping is slowed for it (`LOCAL_CLUSTER_CONFIG`).
    """
    from multiprocessing import forkserver

    import dask
    from distributed import Client, LocalCluster
    from distributed.utils import get_mp_context

    # The settings are in force while the cluster starts: its scheduler reads them here and
    # each nanny hands them to its worker process (again to one it restarts).
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        get_mp_context().set_forkserver_preload(list(WORKER_PRELOAD))  # once Dask has named its own
        forkserver.ensure_running()  # already running when `start_cluster` started it
        local = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address="127.0.0.1:0",  # its HTTP server always starts: on a free port, not 8787
        )
    return Client(local, set_as_default=False), local


def join(address: str) -> Client:
    """A client of the scheduler at ``address``; none answering within `CONNECT_TIMEOUT` is a `ClusterError`."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(Problem("generate.py", f"--cluster {address}: no scheduler answered ({reason})")) from None
