"""Typesetting on a real Dask cluster on localhost: `build --cluster local` and
`--cluster tcp://...` against `dask scheduler` / `dask worker` processes.

The PDFs must be byte-identical to a local build's, a worker killed mid-build
has its job rerun elsewhere, content failures and time limits read as they do
locally, and a scheduler nobody runs is one line and exit status 1.

Dask's warnings: none is filtered. pytest's ``filterwarnings = error`` stays in
force here, so a warning from Dask (or from our use of it) fails these tests;
the cluster code avoids the usual ones (no dashboard, so no port clash and no
bokeh; clients never set as the process default). Dask's log lines (a worker
lost, its tasks rescheduled) are logging, not warnings, and go to stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import distributed
import pytest
from support import ROOT, TODAY, TODAY_DATE
from support.batch import handout, make_project, pdf_digests, run

from handoutpress.batch import cluster as cluster_module
from handoutpress.batch.jobs import BuildOptions
from handoutpress.batch.pipeline import worker_session
from handoutpress.batch.run import build
from handoutpress.cli import main

OUTPUTS = 6  # three handouts, standard and large print each


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The batch tests' small project plus one more short handout, built once by the local pool (out-local/)."""
    root = make_project(tmp_path_factory.mktemp("cluster") / "project")
    (root / "handouts" / "en" / "third-one.yaml").write_text(handout("A Third Handout", 6), encoding="utf-8")
    done = run(root, "build", "--out", str(root / "out-local"), "--today", TODAY, "--quiet", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert len(pdf_digests(root / "out-local")) == OUTPUTS
    return root


class DaskProcesses:
    """A `dask scheduler` and ``workers`` `dask worker` processes (one thread, no nanny) on 127.0.0.1."""

    def __init__(self, folder: Path, workers: int) -> None:
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        scheduler_file = folder / "scheduler.json"
        dask = [sys.executable, "-m", "dask"]
        self.processes = [
            self._start(
                dask
                + [
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--dashboard-address",
                    "127.0.0.1:0",
                    "--scheduler-file",
                    str(scheduler_file),
                ]
            )
        ]
        deadline = time.monotonic() + 30
        while not scheduler_file.is_file() or not scheduler_file.read_text():
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.05)
        self.address: str = json.loads(scheduler_file.read_text())["address"]
        worker = [
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--no-nanny",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--memory-limit",
            "0",
        ]
        self.processes += [self._start(dask + worker) for _ in range(workers)]
        self.client = distributed.Client(self.address, timeout=30, set_as_default=False)
        self.client.wait_for_workers(workers, timeout=60)

    def _start(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def worker_pids(self) -> dict[str, int]:
        return self.client.run(os.getpid)

    def stop(self) -> None:
        """Close the client, then end the processes (they hold nothing worth a graceful shutdown)."""
        self.client.close()
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()


@pytest.fixture(scope="module")
def dask_processes(tmp_path_factory) -> Iterator[DaskProcesses]:
    cluster = DaskProcesses(tmp_path_factory.mktemp("dask"), workers=2)
    yield cluster
    cluster.stop()


def options(root: Path, out: str, cluster: str, **more) -> BuildOptions:
    return BuildOptions(
        root=root, out=root / out, brand_dir=root / "brands" / "default", today=TODAY_DATE, cluster=cluster, **more
    )


def test_cluster_local_makes_the_same_bytes_as_the_local_pool(project):
    """`build --cluster local --jobs 2` starts two Dask worker processes and writes PDFs byte-identical to the pool's."""
    out = project / "out-cluster-local"
    done = run(project, "build", "--out", str(out), "--today", TODAY, "--json", "--cluster", "local", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["built"]) == OUTPUTS and not report["failed"]
    assert len(report["worker_peak_rss_mb"]) == 2  # the jobs were made by the two workers, not by this process
    assert pdf_digests(out) == pdf_digests(project / "out-local")


def test_dask_scheduler_and_workers_make_the_same_bytes_and_stay_warm(project, dask_processes):
    """`--cluster tcp://...` on real `dask scheduler`/`dask worker` processes: identical PDFs, each worker keeping a warm session."""
    report = build(options(project, "out-tcp", dask_processes.address))
    assert report.ok and len(report.built) == OUTPUTS
    assert set(report.workers) == set(dask_processes.worker_pids().values())
    assert pdf_digests(project / "out-tcp") == pdf_digests(project / "out-local")
    # Each worker's WorkerSession lives on between jobs and builds: renderer and brand are kept.
    warm = dask_processes.client.run(lambda: (worker_session().renderer is not None, worker_session().brand is not None))
    assert set(warm.values()) == {(True, True)}


def test_a_content_failure_on_the_cluster_reads_as_it_does_locally(project, dask_processes):
    """A job that fails for its content (over the page limit) fails alone, with the same message as in a local build."""
    only_long = (project / "handouts" / "en" / "long-one.yaml",)
    here = build(replace(options(project, "out-limit-here", ""), paths=only_long, page_limit=2, jobs=1))
    remote = build(replace(options(project, "out-limit-tcp", dask_processes.address), paths=only_long, page_limit=2))
    assert here.failed and sorted(map(str, remote.failed)) == sorted(map(str, here.failed))
    assert any(p.file == "handouts/en/long-one.yaml (large-print)" and "over the limit of 2" in p.message for p in remote.failed)
    assert sorted(remote.built) == sorted(here.built)


def test_a_runaway_job_on_a_cluster_worker_stops_at_the_time_limit(project, dask_processes):
    """A Dask worker runs jobs in a thread, out of SIGALRM's reach: the time limit still stops them, with the local message."""
    assert build(options(project, "out-time-limit", dask_processes.address)).ok  # warm: every module imported
    report = build(options(project, "out-time-limit", dask_processes.address, time_limit=0.01, force=True))
    assert report.failed
    assert {p.message for p in report.failed} == {"typesetting took longer than the limit of 0.01 s"}
    # The workers are still there, and still make PDFs.
    again = build(options(project, "out-time-limit", dask_processes.address))
    assert again.ok and len(again.built) + len(again.unchanged) == OUTPUTS


def test_a_worker_killed_mid_build_has_its_job_rerun_and_nothing_is_lost(project, dask_processes):
    """SIGKILL to a Dask worker in the middle of a job: the job is rerun on another worker and every PDF is published, unchanged.

    Any test may run after this one: the cluster keeps at least one worker.
    """
    client = dask_processes.client
    pids = dask_processes.worker_pids()
    killed: list[int] = []

    def kill_a_busy_worker(done: int, total: int, path: str, status: str) -> None:
        if killed:
            return
        busy = [address for address, keys in client.processing().items() if keys and address in pids]
        assert busy, "no worker was making anything"
        killed.append(pids[busy[0]])
        os.kill(pids[busy[0]], signal.SIGKILL)

    report = build(options(project, "out-killed", dask_processes.address), progress=kill_a_busy_worker)
    assert killed and killed[0] not in dask_processes.worker_pids().values()
    assert report.ok, [str(p) for p in report.failed]
    assert len(report.built) == OUTPUTS
    assert pdf_digests(project / "out-killed") == pdf_digests(project / "out-local")


def test_an_unreachable_scheduler_is_one_line_and_exit_status_1(project, capsys, monkeypatch):
    """No scheduler at the address: one line naming it, exit 1, no traceback; a malformed address is a usage error (2)."""
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 0.5)
    status = main(
        [
            "--root",
            str(project),
            "build",
            "--out",
            str(project / "out-nowhere"),
            "--today",
            TODAY,
            "--quiet",
            "--force",
            "--cluster",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(err) == 1 and err[0].startswith("generate.py: --cluster tcp://127.0.0.1:9: no scheduler answered")
    assert not (project / "out-nowhere" / "manifest.json").exists()

    status = main(["--root", str(project), "build", "--cluster", "127.0.0.1:8786"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert err == ["generate.py: argument --cluster: expected 'local' or tcp://HOST:PORT, got '127.0.0.1:8786'"]


def test_nothing_to_do_never_reaches_the_cluster(project):
    """A build with nothing to do answers from the manifest: it never connects to, or starts, a cluster."""
    # No scheduler listens on port 9: reaching for one would fail the build.
    report = build(replace(options(project, "out-local", "tcp://127.0.0.1:9"), jobs=2))
    assert report.nothing_to_do and report.ok


def test_a_local_cluster_runs_without_dask_housekeeping_and_leaves_this_process_settings_alone():
    """The `LocalCluster` a build starts has its workers' profiler off and Dask's periodic checks slowed
    (they took the GIL from the job), and no work stealing; this process's Dask settings stay as they were."""
    import dask

    before = {key: dask.config.get(key) for key in cluster_module.LOCAL_CLUSTER_CONFIG}
    client, local = cluster_module.start_local(1)
    try:
        seen = client.run(lambda: {key: dask.config.get(key) for key in cluster_module.LOCAL_CLUSTER_CONFIG})
        assert list(seen.values()) == [cluster_module.LOCAL_CLUSTER_CONFIG]
        assert "stealing" not in local.scheduler.extensions
    finally:
        client.close()
        local.close()
    assert {key: dask.config.get(key) for key in cluster_module.LOCAL_CLUSTER_CONFIG} == before


FORK_SERVER_PROBE = """
import multiprocessing, sys
from handoutpress.batch.cluster import WORKER_PRELOAD, start_fork_server

def preloaded(queue):
    queue.put(sorted(name for name in ("distributed", "weasyprint", "handoutpress.typeset.session") if name in sys.modules))

if __name__ == "__main__":
    start_fork_server()
    print("distributed" in sys.modules)  # the fork server was started before this process imported Dask
    context = multiprocessing.get_context("forkserver")
    queue = context.SimpleQueue()
    child = context.Process(target=preloaded, args=(queue,))
    child.start()
    child.join(60)
    print(queue.get())
"""


def test_the_fork_server_of_a_local_cluster_imports_the_pipeline_before_this_process_imports_dask(tmp_path):
    """`start_fork_server` (called by `start_cluster("local")` before Dask is imported here) starts a fork server
    whose children are born with Dask, WeasyPrint and the pipeline imported."""
    probe = tmp_path / "probe.py"
    probe.write_text(FORK_SERVER_PROBE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False", "['distributed', 'handoutpress.typeset.session', 'weasyprint']"]
