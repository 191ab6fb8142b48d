"""The batch: incremental, fault-isolated, atomic, locked, deterministic, and watchable.

One small project (two handouts, four PDFs) is built once per module; tests
that change it work on copies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfReader
from support import ROOT, TODAY, pdf_outputs
from support.batch import make_project, manifest, pdf_digests, run, start_watch

from handoutpress.batch.jobs import LOCK_FILE
from handoutpress.batch.pipeline import make_output, time_limit
from handoutpress.batch.plan import plan_jobs
from handoutpress.cli import main

EXPECTED = {
    "en/A-Short-Handout.pdf",
    "en/A-Short-Handout-Large-Print.pdf",
    "en/A-Longer-Handout.pdf",
    "en/A-Longer-Handout-Large-Print.pdf",
}


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """The small project built once; returns (root, out)."""
    root = make_project(tmp_path_factory.mktemp("batch") / "project")
    out = root / "out"
    done = run(root, "build", "--out", str(out), "--today", TODAY, "--quiet", "--jobs", "2")
    assert done.returncode == 0, done.stderr
    return root, out


def copy_of(first, tmp_path) -> tuple[Path, Path]:
    root, _ = first
    copy = tmp_path / "project"
    shutil.copytree(root, copy)
    return copy, copy / "out"


def build_args(out: Path, *more: str) -> list[str]:
    return ["build", "--out", str(out), "--today", TODAY, *more]


def test_first_build_makes_every_output_and_a_complete_manifest(first):
    """A cold build writes every PDF, stamped, and a manifest that lists each with its input key."""
    _, out = first
    entries = {e["path"]: e for e in pdf_outputs(manifest(out))}
    assert set(entries) == EXPECTED
    for path, entry in entries.items():
        reader = PdfReader(out / path)
        assert len(reader.pages) == entry["pages"]
        assert "Page 1 of" in reader.pages[0].extract_text()
        assert len(entry["inputs_sha256"]) == 64
    assert not list(out.rglob("*.tmp"))


HEAVY = ("weasyprint", "pydantic", "jinja2", "pypdf")


def _heavy_modules_after(code: str) -> tuple[list[str], list[str]]:
    """Run ``code`` in a fresh interpreter; return (its output lines, the heavy libraries it left imported)."""
    check = f"\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r})))\n"
    done = subprocess.run([sys.executable, "-c", code + check], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    return lines[:-1], json.loads(lines[-1])


def test_nothing_to_do_never_imports_weasyprint(first):
    """A build with nothing to do answers from the manifest: no WeasyPrint, pydantic, Jinja or pypdf imported."""
    root, out = first
    lines, heavy = _heavy_modules_after(
        "import sys\n"
        "from handoutpress.cli import main\n"
        f"status = main(['--root', {str(root)!r}, 'build', '--out', {str(out)!r}, '--today', {TODAY!r}, '--json'])\n"
        "print(status)\n"
    )
    report = json.loads("\n".join(lines[:-1]))
    assert lines[-1] == "0"
    assert heavy == []
    assert (report["built"], sorted(report["unchanged"]), report["failed"]) == ([], sorted(EXPECTED), [])


def test_same_inputs_give_identical_bytes_whatever_the_day(first, tmp_path):
    """Two builds of the same inputs into two folders, on different days, give byte-identical PDFs."""
    root, out = first
    other = tmp_path / "other-out"
    assert main(["--root", str(root), *build_args(other, "--quiet", "--jobs", "1"), "--today", "2027-01-05"]) == 0
    assert pdf_digests(other) == pdf_digests(out)
    assert len(pdf_digests(out)) == 4


def test_editing_one_handout_rebuilds_only_its_outputs(first, tmp_path, capsys):
    """Changing one YAML rebuilds that handout's two outputs; the other two stay byte for byte."""
    root, out = copy_of(first, tmp_path)
    before = pdf_digests(out)
    short = root / "handouts/en/short-one.yaml"
    short.write_text(short.read_text().replace("Take your pill each morning.", "Take your pill each morning with food."))
    assert main(["--root", str(root), *build_args(out, "--json")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["built"]) == ["en/A-Short-Handout-Large-Print.pdf", "en/A-Short-Handout.pdf"]
    assert sorted(report["unchanged"]) == ["en/A-Longer-Handout-Large-Print.pdf", "en/A-Longer-Handout.pdf"]
    after = pdf_digests(out)
    assert after["en/A-Longer-Handout.pdf"] == before["en/A-Longer-Handout.pdf"]
    assert after["en/A-Short-Handout.pdf"] != before["en/A-Short-Handout.pdf"]


def test_a_failing_handout_keeps_its_previous_pdf_marked_stale(first, tmp_path, capsys):
    """Over the page limit: that output fails by name, its old PDF stays byte for byte and is stale; exit 1."""
    root, out = copy_of(first, tmp_path)
    before = pdf_digests(out)
    pages = {e["path"]: e["pages"] for e in pdf_outputs(manifest(out))}
    limit = pages["en/A-Short-Handout-Large-Print.pdf"]
    assert pages["en/A-Short-Handout.pdf"] <= limit < pages["en/A-Longer-Handout.pdf"]
    status = main(["--root", str(root), *build_args(out, "--quiet", "--force", "--page-limit", str(limit))])
    err = capsys.readouterr().err
    assert status == 1
    assert (
        f"handouts/en/long-one.yaml (standard): {pages['en/A-Longer-Handout.pdf']} pages is over the limit of {limit}; shorten it"
        in err.splitlines()
    )
    assert pdf_digests(out) == before
    entries = {e["path"]: e for e in pdf_outputs(manifest(out))}
    assert entries["en/A-Longer-Handout.pdf"]["stale"] is True
    assert "stale" not in entries["en/A-Short-Handout.pdf"]
    # Fixed again (limit lifted): the next build repairs it and drops the stale mark.
    assert main(["--root", str(root), *build_args(out, "--quiet")]) == 0
    assert all("stale" not in e for e in manifest(out)["outputs"])


def test_time_limit_fails_the_document_with_its_name(first):
    """A document that runs past its time limit comes back as a failure naming it, not an exception."""
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project

    root, _ = first
    project = Project(root)
    brand = load_brand(root / "brands/default", root)
    handouts, _ = load_library([root / "handouts/en/long-one.yaml"], root)
    job = plan_jobs(handouts, brand, project)[0][0]
    result = make_output(job, brand, project, seconds=0.001)
    assert result.pdf is None
    assert [str(p) for p in result.problems] == [
        "handouts/en/long-one.yaml (standard): typesetting took longer than the limit of 0.001 s"
    ]
    with time_limit(5):  # the alarm is cleared on the way out
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_removed_source_deletes_its_outputs_and_nothing_else(first, tmp_path):
    """A deleted handout's PDFs go with their entries; a file the manifest does not own stays."""
    root, out = copy_of(first, tmp_path)
    stray = out / "en" / "Notes-From-The-Front-Desk.pdf"
    stray.write_bytes(b"not ours")
    (root / "handouts/en/short-one.yaml").unlink()
    done = run(root, *build_args(out, "--quiet"))
    assert done.returncode == 0, done.stderr
    assert "3 removed (en/A-Short-Handout-Large-Print.pdf, en/A-Short-Handout.pdf, web/en/short-one/index.html)" in done.stdout
    assert not (out / "en/A-Short-Handout.pdf").exists()
    assert stray.read_bytes() == b"not ours"
    assert {e["path"] for e in manifest(out)["outputs"]} == {"en/A-Longer-Handout.pdf", "en/A-Longer-Handout-Large-Print.pdf", "web/en/long-one/index.html"}


def test_second_build_on_the_same_out_fails_fast_with_no_wait(first, tmp_path, capsys):
    """While another build holds out/, --no-wait stops at once with a clear message and exit 1."""
    root, out = copy_of(first, tmp_path)
    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        status = main(["--root", str(root), *build_args(out, "--no-wait", "--quiet")])
    finally:
        os.close(fd)
    assert status == 1
    assert capsys.readouterr().err.strip() == f"{out}: another build is running on {out} (process 4242); try again when it ends"


def test_sigkill_mid_build_leaves_old_or_new_files_and_the_next_build_repairs(first, tmp_path):
    """Killed with SIGKILL after its first PDF: every PDF is the old or the new complete file, the
    manifest is valid JSON, and the next build finishes the job."""
    root, out = copy_of(first, tmp_path)
    old = pdf_digests(out)
    brand = root / "brands/default/brand.yaml"
    brand.write_text(brand.read_text().replace("120 Mill Street", "122 Mill Street"))
    reference = tmp_path / "reference"
    assert main(["--root", str(root), *build_args(reference, "--quiet", "--jobs", "2")]) == 0
    new = pdf_digests(reference)
    assert all(new[p] != old[p] for p in new)

    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "generate.py"), "--root", str(root), *build_args(out, "--jobs", "1")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    first_line = proc.stdout.readline()  # "built en/...": one PDF is in place, the rest are not
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert first_line.startswith("built en/")
    json.loads((out / "manifest.json").read_text())  # still valid
    now = pdf_digests(out)
    assert set(now) == set(old)
    assert all(now[p] in (old[p], new[p]) for p in now)
    assert any(now[p] == new[p] for p in now) and any(now[p] == old[p] for p in now)

    assert main(["--root", str(root), *build_args(out, "--quiet")]) == 0
    assert pdf_digests(out) == new
    assert not list(out.rglob("*.tmp"))


def test_watch_rebuilds_what_was_saved(first, tmp_path):
    """`watch` builds, then on a save rebuilds that handout's outputs and prints them."""
    root, out = copy_of(first, tmp_path)
    proc = start_watch(root, out, "--today", TODAY)
    try:
        short = root / "handouts/en/short-one.yaml"
        short.write_text(short.read_text().replace("each morning.", "each morning, with breakfast."))
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, stderr
    assert "built en/A-Short-Handout.pdf" in stdout.splitlines()
    assert "changed: handouts/en/short-one.yaml" in stderr
    summaries = [line for line in stdout.splitlines() if " unchanged;" in line]
    assert summaries[0].startswith("0 built; 4 unchanged")
    assert summaries[-1].startswith("2 built (") and "2 unchanged" in summaries[-1]


def test_ctrl_c_stops_watch_and_its_workers_quietly(first, tmp_path):
    """Ctrl-C reaches every process of the command; it ends with one line, no worker's traceback, no worker left."""
    root, out = copy_of(first, tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "generate.py"),
            "--root",
            str(root),
            "watch",
            "--out",
            str(out),
            "--today",
            TODAY,
            "--jobs",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,  # its own process group, as in a terminal
    )
    try:
        while "watching" not in (line := proc.stderr.readline()):
            assert line, "watch ended before watching"
        time.sleep(0.5)  # a person's Ctrl-C, not one the instant the line appears
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 130
    assert stderr.strip() == "generate.py: interrupted"
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no worker outlived it


def test_build_options_and_a_no_op_build_need_no_heavy_imports(first):
    """The batch's options and a no-op `build()` called directly import none of WeasyPrint, pydantic, Jinja or pypdf."""
    from handoutpress.batch.jobs import BuildOptions

    root, out = first
    lines, heavy = _heavy_modules_after(
        "from datetime import date\n"
        "from pathlib import Path\n"
        "from handoutpress.batch.jobs import BuildOptions\n"
        "from handoutpress.batch.run import build\n"
        f"root = Path({str(root)!r})\n"
        f"options = BuildOptions(root=root, out=Path({str(out)!r}), brand_dir=root / 'brands/default', today=date.fromisoformat({TODAY!r}))\n"
        "report = build(options)\n"
        "print(report.nothing_to_do, len(report.unchanged), len(report.built))\n"
    )
    assert lines == ["True 4 0"]
    assert heavy == []
    assert BuildOptions(root=root, out=out, brand_dir=root / "brands/default").project.handouts == root / "handouts"


def test_a_made_output_is_a_complete_stamped_pdf_in_memory_and_writes_nothing(first):
    """`make_output` returns the stamped PDF as bytes, the same bytes the build published, and touches no file."""
    from handoutpress.files import sha256
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project

    root, out = first
    project = Project(root)
    brand = load_brand(root / "brands/default", root)
    handouts, _ = load_library([root / "handouts/en/short-one.yaml"], root)
    job = next(j for j in plan_jobs(handouts, brand, project)[0] if j.variant == "standard")
    files_before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    result = make_output(job, brand, project)
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == files_before
    assert result.problems == [] and result.pdf is not None
    assert result.pdf.startswith(b"%PDF-") and result.pdf.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(result.pdf))
    assert len(reader.pages) == result.pages
    assert all(f"Page {i} of {result.pages}" in page.extract_text() for i, page in enumerate(reader.pages, 1))
    entry = next(e for e in manifest(out)["outputs"] if e["path"] == job.rel_path)
    assert sha256(result.pdf) == entry["sha256"]


def test_the_batch_imports_no_later_stage():
    """No module of the batch imports the front desk or the command line, not even inside a function."""
    import ast

    later = ("handoutpress.frontdesk", "handoutpress.cli")
    found = []
    for path in sorted((ROOT / "handoutpress" / "batch").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n.startswith(later)]
    assert found == []


def test_kept_handouts_reload_only_what_changed(tmp_path):
    """`KeptHandouts` gives back the same handout for an unchanged file, reloads a saved one, keeps an error
    an error, and forgets a deleted file."""
    from handoutpress.batch.loading import KeptHandouts

    root = make_project(tmp_path / "project")
    handouts = root / "handouts"
    kept = KeptHandouts()
    first_load, problems = kept.load([handouts], root)
    assert problems == []
    by_path = {h.path: h for h in first_load}
    again, _ = kept.load([handouts], root)
    assert all(h is by_path[h.path] for h in again)
    short = handouts / "en/short-one.yaml"
    short.write_text(short.read_text().replace("each morning.", "each morning, with food."))
    (handouts / "en/broken.yaml").write_text("title: [unclosed\n")
    after, problems = kept.load([handouts], root)
    reloaded = {h.path: h for h in after}
    assert reloaded["handouts/en/short-one.yaml"] is not by_path["handouts/en/short-one.yaml"]
    assert reloaded["handouts/en/long-one.yaml"] is by_path["handouts/en/long-one.yaml"]
    assert [p.file for p in problems] == ["handouts/en/broken.yaml"]
    assert [p.file for p in kept.load([handouts], root)[1]] == ["handouts/en/broken.yaml"]
    (handouts / "en/broken.yaml").unlink()
    short.unlink()
    left, problems = kept.load([handouts], root)
    assert ([h.path for h in left], problems) == (["handouts/en/long-one.yaml"], [])


def test_stopping_the_pool_ends_its_busy_workers_at_once_and_no_other_process():
    """`WorkerPool.stop` ends workers in the middle of a task within seconds (SIGTERM); a child process that
    is not one of the pool's workers is left running."""
    import multiprocessing
    from concurrent.futures import wait

    from handoutpress.batch.workers import WorkerPool

    other = multiprocessing.get_context().Process(target=time.sleep, args=(60,), daemon=True)
    other.start()
    try:
        pool = WorkerPool(2, ROOT)
        wait(pool.warming, timeout=120)
        for _ in range(2):
            pool.executor.submit(time.sleep, 60)
        workers = [p for p in multiprocessing.active_children() if p.pid != other.pid]
        assert len(workers) == 2
        time.sleep(0.5)  # both workers are in the middle of their task
        started = time.monotonic()
        pool.close(stop=True)
        assert time.monotonic() - started < 20
        assert [w.exitcode for w in workers] == [-signal.SIGTERM, -signal.SIGTERM]
        assert [p.pid for p in multiprocessing.active_children()] == [other.pid]
    finally:
        other.terminate()
        other.join(timeout=10)


def test_a_pdf_whose_thumbnail_is_in_out_gets_no_new_one(first):
    """A worker draws page 1's thumbnail only for bytes out/thumbs/ has none of (a PDF rebuilt the same keeps
    its picture); told of no out/, it draws it."""
    from handoutpress.batch.inputs import shared_inputs_digest
    from handoutpress.batch.pipeline import WorkerContext, run_job
    from handoutpress.files import sha256
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project
    from handoutpress.publish import thumbnail_path

    root, out = first
    brand = load_brand(root / "brands/default", root)
    handouts, _ = load_library([root / "handouts/en/short-one.yaml"], root)
    job = next(j for j in plan_jobs(handouts, brand, Project(root))[0] if j.variant == "standard")
    context = WorkerContext(str(root), str(root / "brands/default"), brand.sha256, shared_inputs_digest(root), 60, 40, out=str(out))
    again = run_job(job, context)
    assert again.pdf is not None and (out / thumbnail_path(sha256(again.pdf))).is_file()
    assert again.thumbnail is None
    fresh = run_job(job, dataclasses.replace(context, out=""))
    assert fresh.pdf == again.pdf and fresh.thumbnail is not None and fresh.thumbnail.startswith(b"\x89PNG")


def test_the_kit_shelf_lives_in_out_cache_only_while_a_build_runs(first, tmp_path):
    """The folder a build's workers share stamp kits through is under out/.cache/ and gone when the
    build ends; one a killed build left there is removed by the next build."""
    root, out = copy_of(first, tmp_path)
    leftover = out / ".cache" / "kits-left-by-a-killed-build"
    leftover.mkdir(parents=True)
    (leftover / "kit.pdf").write_bytes(b"%PDF-1.7 a kit")
    assert main(["--root", str(root), *build_args(out, "--quiet", "--jobs", "2", "--force")]) == 0
    assert not list((out / ".cache").glob("kits-*"))
    assert pdf_digests(out) == pdf_digests(first[1])


def _frozen_and_collectable() -> tuple[int, bool]:
    """In a pool worker: how many objects the collector has set aside, and whether a cycle made now is still collected."""
    import gc
    import weakref

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first
    alive = weakref.ref(first)
    del first, second
    gc.collect()
    return gc.get_freeze_count(), alive() is None


def test_a_warm_worker_sets_its_warm_state_aside_from_collections_and_still_collects_what_comes_later():
    """After its warm-up a pool worker has frozen what it holds (gc.freeze: its collections skip the modules,
    fonts and templates), while garbage made by later documents is collected as before."""
    import gc
    from concurrent.futures import wait

    from handoutpress.batch.workers import WorkerPool

    with WorkerPool(2, ROOT) as pool:
        wait(pool.warming, timeout=120)
        frozen, collected = pool.executor.submit(_frozen_and_collectable).result(timeout=60)
    # What the parent set aside before forking, and on top of it what the warm-up made (fonts, templates).
    assert frozen > gc.get_freeze_count() + 100
    assert collected


def _dropped_state_is_freed_then_the_new_one_frozen(root: str) -> list[tuple[str, bool, bool]]:
    """In a warm pool worker: the project's templates change twice over (`forget`), with a job between.
    After each step: (step, is anything frozen, is the first Jinja environment still alive)."""
    import gc
    import weakref
    from dataclasses import replace

    from handoutpress.batch.pipeline import WorkerContext, keep_warm_state_out_of_collections, worker_session
    from handoutpress.load.brand import load_brand
    from handoutpress.load.project import Project

    session = worker_session()
    brand = load_brand(Path(root) / "brands/default", Path(root))
    context = WorkerContext(root, str(Path(root) / "brands/default"), brand.sha256, "templates-1", 60.0, 50)
    session.warm(context)
    first = weakref.ref(session.renderer_for(Project(Path(root))).environment())
    keep_warm_state_out_of_collections()  # as after a warm-up: the environment is frozen now
    seen = []

    def look(step: str) -> None:
        gc.collect()
        seen.append((step, gc.get_freeze_count() > 0, first() is not None))

    look("warm")
    session.warm(replace(context, shared_inputs="templates-2"))  # the templates changed: the caches go
    session.renderer_for(Project(Path(root))).environment()  # the next job refills them
    look("dropped")
    session.warm(replace(context, shared_inputs="templates-2"))  # the job after
    look("refilled")
    return seen


def test_state_a_warm_worker_drops_is_collected_and_what_replaces_it_is_frozen(first):
    """A long-lived worker (watch, serve) whose templates change drops its frozen caches: they are handed
    back to the collector (else no collection would free them), and the caches made next are frozen at the
    following job."""
    from concurrent.futures import wait

    from handoutpress.batch.workers import WorkerPool

    root, _ = first
    with WorkerPool(1, root) as pool:
        wait(pool.warming, timeout=120)
        seen = pool.executor.submit(_dropped_state_is_freed_then_the_new_one_frozen, str(root)).result(timeout=60)
    assert seen == [("warm", True, True), ("dropped", False, False), ("refilled", True, False)]
