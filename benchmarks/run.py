#!/usr/bin/env python3
"""Benchmark the batch on a synthetic library, all cases side by side in one run.

    .venv/bin/python benchmarks/run.py [--count 100] [--repeat 3] [--naive-sample 10]

Writes a throwaway project (the real templates, styles, labels, assets and
brand; N generated handouts of 2-4 pages, each with a table, lists, a callout
and FAQs, in seeded random plain English from the word lists below) and
measures:

  (a) cold full build (fresh command, empty out/)
  (b) the naive way: one fresh process per handout, one after the other
      (timed on --naive-sample handouts, scaled to --count)
  (c) the engine's floor: the same HTML typeset by WeasyPrint alone in a fresh
      command with one worker process per core, started cold as the build's
      are, no stamping, the PDFs written (timed like (a), start to end)
  (d) no-op rebuild (fresh command)
  (e) rebuild after editing one handout (fresh command)
  (f) rebuild after changing the brand (fresh command)
  (g) one handout edited in a running `watch`: time to its standard PDF, and to all three
  (j) load per handout, in this process: ours (load and validate; strict YAML
      alone) beside PyYAML's pure SafeLoader and libyaml CSafeLoader, same files
  (k) cold builds by the local pool and by `--cluster local` (same workers, same bytes), and
      Dask's own cost per job
  peak memory per worker, and the stamp's share of time and of file size.

Timings are medians of --repeat runs; ratios are printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
PYTHON = sys.executable
GENERATE = str(REPO / "generate.py")
TODAY = "2026-11-20"

# Word lists written for this benchmark: plain clinic words, nothing copied.
NOUNS = """visit dose nurse doctor plan week morning evening pill glass water meal snack walk friend family
clinic phone note list chart question answer sleep rest mood goal step day night habit routine reminder
calendar pharmacy label bottle side effect headache stomach skin heart breath body mind worry change""".split()
VERBS = """take bring write check call ask keep watch tell share plan rest drink eat walk stop start follow
read store carry count mark note talk sit wait use""".split()
ADJECTIVES = """small quiet short daily weekly safe clear calm simple gentle regular usual new old full
light warm cool easy slow steady""".split()
TOPICS = ["Sleep", "Medicines", "Nutrition", "Exercise", "Stress", "Blood pressure", "Diabetes", "Mood", "Pain", "Safety"]
REVIEW_MONTHS = ["2026-03", "2026-06", "2026-09"]  # clinics review in batches


def sentence(rng: random.Random) -> str:
    words = [rng.choice(VERBS).capitalize(), "your", rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    for _ in range(rng.randint(1, 3)):
        words += [rng.choice(["with", "after", "before", "at", "for"]), "the", rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    return " ".join(words) + "."


def paragraph(rng: random.Random, n: int) -> str:
    return " ".join(sentence(rng) for _ in range(n))


def quoted(text: str) -> str:
    return json.dumps(text)  # JSON strings are valid YAML scalars


def handout_yaml(rng: random.Random, index: int) -> str:
    title = f"Handout {index:03d}: {rng.choice(ADJECTIVES).capitalize()} {rng.choice(NOUNS)} and your {rng.choice(NOUNS)}"
    reviewed = rng.choice(REVIEW_MONTHS)
    year, month = reviewed.split("-")
    lines = [
        f"title: {quoted(title)}",
        f"subtitle: {quoted(paragraph(rng, 1)[:-1])}",
        "kind: handout",
        f"topics: [{', '.join(rng.sample(TOPICS, 3))}]",
        "review:",
        f"  reviewed: {reviewed}",
        f"  next_review: {int(year) + 1}-{month}",
        "  reviewer: Clinical team",
        "key_takeaways:",
        *(f"  - {quoted(sentence(rng))}" for _ in range(3)),
        "sections:",
    ]
    for s in range(rng.randint(3, 5)):
        lines += [f"  - heading: {quoted(f'{rng.choice(VERBS).capitalize()} your {rng.choice(NOUNS)} {s + 1}')}", "    body: |"]
        for _ in range(rng.randint(1, 2)):
            lines += [f"      {paragraph(rng, rng.randint(3, 5))}", ""]
        lines += [f"      - {sentence(rng)}" for _ in range(rng.randint(3, 5))]
        if s == 1:
            lines += [
                "    table:",
                f"      caption: {quoted('When to ' + rng.choice(VERBS) + ' your ' + rng.choice(NOUNS))}",
                "      columns: [Time, What to do, Why]",
                "      rows:",
                *(
                    f"        - [{quoted(rng.choice(['Morning', 'Noon', 'Evening', 'Bedtime']))}, "
                    f"{quoted(sentence(rng))}, {quoted(sentence(rng))}]"
                    for _ in range(rng.randint(3, 5))
                ),
            ]
        if s == 2:
            lines += ["    callout:", "      tone: info", f"      text: {quoted(sentence(rng))}"]
    lines.append("faq:")
    for _ in range(rng.randint(3, 5)):
        question = f"Can I {rng.choice(VERBS)} my {rng.choice(NOUNS)} {rng.choice(['today', 'at night', 'with food'])}?"
        lines += [f"  - question: {quoted(question)}", f"    answer: {quoted(paragraph(rng, rng.randint(2, 4)))}"]
    return "\n".join(lines) + "\n"


def write_library(root: Path, count: int, seed: int) -> list[Path]:
    for folder in ("templates", "styles", "labels", "assets", "brands"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, root / folder)
    rng = random.Random(seed)
    files = []
    (root / "handouts" / "en").mkdir(parents=True)
    for i in range(count):
        path = root / "handouts" / "en" / f"bench-{i:03d}.yaml"
        path.write_text(handout_yaml(rng, i), encoding="utf-8")
        files.append(path)
    return files


def generate(root: Path, *args: str, check: bool = True) -> tuple[float, dict | None]:
    """Run a fresh `generate.py build` process; return its wall time and its JSON report."""
    started = time.perf_counter()
    run = subprocess.run([PYTHON, GENERATE, "--root", str(root), *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    report = None
    if "--json" in args:
        report = json.loads(run.stdout)
    if check and run.returncode != 0:
        raise SystemExit(f"benchmark: build failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return elapsed, report


def build_args(out: Path, *more: str) -> list[str]:
    return ["build", "--out", str(out), "--today", TODAY, "--quiet", *more]


# ---------------------------------------------------------------------------
# (c) the engine floor, and the stamp's share


def _floor_init() -> None:
    from weasyprint.text.fonts import FontConfiguration

    global _FONTS
    _FONTS = FontConfiguration()


def _floor_render(html_file: str, base_url: str, out_file: str) -> int:
    from weasyprint import HTML

    html = Path(html_file).read_text(encoding="utf-8")
    pdf = HTML(string=html, base_url=base_url).write_pdf(font_config=_FONTS, pdf_variant="pdf/ua-1")
    Path(out_file).write_bytes(pdf)
    return len(pdf)


def floor_command(docs: Path, out: Path, base_url: str, workers: int) -> int:
    """What (c) times as a fresh command: WeasyPrint alone typesets every HTML file in ``docs`` into
    ``out`` in ``workers`` processes, started cold as the build's are (each imports WeasyPrint and
    makes its font configuration), the longest documents first."""
    out.mkdir(parents=True, exist_ok=True)
    ordered = sorted(docs.glob("*.html"), key=lambda p: p.stat().st_size, reverse=True)
    with ProcessPoolExecutor(max_workers=workers, initializer=_floor_init) as pool:
        outs = [str(out / (p.stem + ".pdf")) for p in ordered]
        list(pool.map(_floor_render, [str(p) for p in ordered], [base_url] * len(ordered), outs))
    return 0


def planned_jobs(root: Path):
    from handoutpress.batch.plan import plan_jobs
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import load_library
    from handoutpress.load.project import Project

    project = Project(root)
    brand = load_brand(root / "brands" / "default", root)
    handouts, problems = load_library((project.handouts,), root)
    jobs, _ = plan_jobs(handouts, brand, project)
    return project, brand, jobs


def floor_documents(root: Path) -> tuple[Path, str]:
    """The HTML the build typesets, one file per output (with the PDF's date, as the build gives it),
    written once under ``root``; and the base URL they are typeset against."""
    from handoutpress.batch.pipeline import creation_date
    from handoutpress.render.html import Renderer
    from handoutpress.render.variants import VARIANTS

    project, brand, jobs = planned_jobs(root)
    docs = root / "floor-html"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir()
    renderer = Renderer(project)
    for index, job in enumerate(jobs):
        html = renderer.html(job.item, VARIANTS[job.variant], brand, job.related_titles)
        created = creation_date(job.item)
        html = html.replace("<head>", f'<head><meta name="dcterms.created" content="{created}">', 1)
        (docs / f"{index:04d}.html").write_text(html, encoding="utf-8")
    return docs, project.root.resolve().as_uri() + "/"


def engine_floor(root: Path, workers: int, docs: Path, base_url: str) -> float:
    """(c): seconds of a fresh command typesetting the build's HTML with WeasyPrint alone in
    ``workers`` cold worker processes and writing the PDFs. Timed like (a), from the command's start
    to its end, so both pay the same worker start (a fresh interpreter, WeasyPrint's import, the
    fonts); the HTML was rendered before, once (rendering it is the build's cost, not the floor's)."""
    out = root / "out-floor"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    command = [PYTHON, __file__, "--floor-command", str(docs), str(out), base_url, str(workers)]
    run = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"benchmark: the floor command failed ({run.returncode}):\n{run.stderr[-2000:]}")
    return elapsed


def stamp_share(root: Path, sample: int) -> tuple[float, float, float, float, float]:
    """Over a sample, in this process: (stamp time / typeset time, stamp bytes / unstamped file bytes,
    mean pages, verify-before-publish time / typeset time, seconds to prepare one stamp kit).

    The stamp's time is what each document pays (its kit ready, as in a warm
    worker); preparing a kit is a one-off per worker and kit, reported apart."""
    from handoutpress.batch.pipeline import WorkerSession, creation_date
    from handoutpress.render.html import Labels, Renderer
    from handoutpress.render.variants import VARIANTS
    from handoutpress.stamp.apply import StampRecord, apply_stamp
    from handoutpress.stamp.kit import StampSpec, typeset_kit
    from handoutpress.verify.audit import audit_pdf

    project, brand, jobs = planned_jobs(root)
    jobs = jobs[: sample * 3]
    session = WorkerSession()  # what a warm worker keeps: its typesetter and its stamp kits
    typeset_s = stamp_s = audit_s = 0.0
    kit_times = []
    plain_bytes = stamped_bytes = pages_total = 0
    for job in jobs:
        variant = VARIANTS[job.variant]
        html = Renderer(project).html(job.item, variant, brand, job.related_titles)
        facts: dict = {}
        t0 = time.perf_counter()
        pdf = session.typesetter.typeset(
            html,
            base_url=root,
            allowed_roots=[project.assets, project.styles, brand.folder],
            what="bench",
            created=creation_date(job.item),
            facts=facts,
        )
        t1 = time.perf_counter()
        review = job.item.content.review
        spec = StampSpec(brand.sha256, job.item.language, job.variant, review.reviewed, review.next_review)
        if spec not in session.stamp_kits:
            k0 = time.perf_counter()
            typeset_kit(spec, brand=brand, variant=variant, renderer=Renderer(project), typesetter=session.typesetter)
            kit_times.append(time.perf_counter() - k0)
        kit = session.stamp_kits.kit(spec, brand=brand, variant=variant, renderer=session.renderer_for(project))
        t2 = time.perf_counter()
        record = StampRecord()  # as the build does: the stamp hands the audit what it parsed
        stamped = apply_stamp(pdf, kit, what="bench", edition=job.item.edition, record=record)
        t3 = time.perf_counter()
        audit_pdf(stamped, "bench", brand, Labels(project.labels), prefix=record.prefix)
        audit_s += time.perf_counter() - t3
        typeset_s += t1 - t0
        stamp_s += t3 - t2
        plain_bytes += len(pdf)
        stamped_bytes += len(stamped)
        pages_total += facts["pages"]
    return (
        stamp_s / typeset_s,
        (stamped_bytes - plain_bytes) / plain_bytes,
        pages_total / len(jobs),
        audit_s / typeset_s,
        statistics.median(kit_times),
    )


# ---------------------------------------------------------------------------
# (d') no-op with PATH, (h) `check` cold and warm, (i) a library of thousands


def check_times(root: Path, repeat: int, jobs: int) -> tuple[list[float], list[float], list[float]]:
    """Fresh `check` commands: cold (the checks cache the build keeps and the last check's
    output removed first), then with nothing changed (answered from the last output), then
    after editing one handout (its load and checks caches warm for every other one)."""
    cache = root / "out" / ".cache"
    args = ("check", "--today", TODAY, "--format", "json", "--jobs", str(jobs))
    files = sorted((root / "handouts" / "en").glob("*.yaml"))
    cold, warm, edited = [], [], []
    for i in range(repeat):
        for stale in (cache / "checks.json", *cache.glob("check-*.out")):
            stale.unlink(missing_ok=True)
        cold.append(generate(root, *args, check=False)[0])
        warm.append(generate(root, *args, check=False)[0])
        target = files[i % len(files)]
        original, times = target.read_bytes(), target.stat()
        target.write_text(original.decode().replace("key_takeaways:", f'key_takeaways:\n  - "Check edit {i}."', 1))
        edited.append(generate(root, *args, check=False)[0])
        target.write_bytes(original)  # as it was, for the cases after this one
        os.utime(target, ns=(times.st_atime_ns, times.st_mtime_ns))
    return cold, warm, edited


class StandInExecutor:
    """An executor that answers every job at once with a tiny stand-in PDF instead of typesetting it.

    Only for (i): typesetting a library of thousands takes hours of this
    machine, while what (i) measures (the no-op and `check`) reads file metadata
    and the manifest, never a PDF's bytes beyond its first digest."""

    def submit(self, fn, job, context):
        from concurrent.futures import Future

        from handoutpress.batch.jobs import JobResult

        future: Future = Future()
        future.set_result(JobResult(job, pdf=f"%PDF-1.7 stand-in for {job.rel_path}\n".encode(), pages=1))
        return future


def large_library(count: int, seed: int, repeat: int, cores: int) -> list[tuple[str, float, str]]:
    """(i) load, no-op (with and without PATH) and `check` (cold and warm) on ``count`` handouts."""
    from datetime import date

    from handoutpress.batch.jobs import BuildOptions
    from handoutpress.batch.run import build
    from handoutpress.load.content import load_library

    root = Path(tempfile.mkdtemp(prefix="handoutpress-large-"))
    try:
        write_library(root, count, seed)
        started = time.perf_counter()
        handouts, problems = load_library([root / "handouts"], root)
        load_ms = (time.perf_counter() - started) * 1000 / count
        out = root / "out"
        options = BuildOptions(root=root, out=out, brand_dir=root / "brands" / "default", today=date.fromisoformat(TODAY))
        build(options, executor=StandInExecutor())  # type: ignore[arg-type]
        build(options)  # records the fingerprint the stand-in build's publishers may have moved
        noop = [generate(root, *build_args(out))[0] for _ in range(repeat)]
        noop_path = [generate(root, *build_args(out), str(root / "handouts" / "en"))[0] for _ in range(repeat)]
        cold, warm, edited = check_times(root, repeat, cores)
        med = statistics.median
        return [
            (f"(i) {count} handouts: load and validate, all", load_ms * count / 1000, f"{load_ms:.2f} ms per handout (target <= 1 ms)"),
            (f"(i) {count} handouts: no-op rebuild", med(noop), "target <= 0.5 s"),
            (f"(i) {count} handouts: no-op rebuild, PATH handouts/en", med(noop_path), "target <= 0.5 s"),
            (f"(i) {count} handouts: check, nothing changed", med(warm), "target <= 2 s"),
            (f"(i) {count} handouts: check, one handout edited", med(edited), f"{med(edited) / med(cold):.2f} of cold"),
            (
                f"(i) {count} handouts: check, cold ({cores} cores)",
                med(cold),
                f"{med(cold) * 1000 * cores / count:.1f} ms per handout per core (target <= 5)",
            ),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------
# (g) watch


def watch_rebuilds(root: Path, out: Path, files: list[Path], repeat: int) -> tuple[list[float], list[float]]:
    """Seconds from saving one handout in a running `watch` to the line reporting its
    standard PDF, and to the rebuild's summary (all three outputs written)."""
    proc = subprocess.Popen(
        [PYTHON, GENERATE, "--root", str(root), "watch", "--out", str(out), "--today", TODAY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )

    def read_until(wanted) -> str:  # off a terminal, watch prints "built PATH" per output, then the summary
        while True:
            line = proc.stdout.readline()
            if not line or wanted(line):
                return line

    def is_summary(line: str) -> bool:
        return " unchanged" in line

    def is_standard(line: str) -> bool:
        return line.startswith("built ") and not line.rstrip().endswith(("-Large-Print.pdf", "-FAQ.pdf"))

    to_standard, to_all = [], []
    try:
        read_until(is_summary)  # the first build's
        time.sleep(0.5)
        for i in range(repeat):
            target = files[-1 - i]
            started = time.perf_counter()
            target.write_text(target.read_text().replace("key_takeaways:", f'key_takeaways:\n  - "Watch edit {i}."', 1))
            first = read_until(lambda line: line.startswith(("built ", "failed ")) or is_summary(line))
            to_standard.append(time.perf_counter() - started)
            if not is_standard(first):
                raise SystemExit(f"benchmark: watch did not report the standard PDF first: {first!r}")
            line = read_until(is_summary)
            to_all.append(time.perf_counter() - started)
            if " built" not in line or line.startswith("0 built"):
                raise SystemExit(f"benchmark: watch did not rebuild one output: {line!r}")
            time.sleep(0.3)
    finally:
        proc.terminate()  # watch stops its worker processes on SIGTERM
        proc.wait(30)
    return to_standard, to_all


# ---------------------------------------------------------------------------
# (j) loading: ours beside PyYAML's own loaders, on the same files


def load_costs(root: Path, files: list[Path], passes: int) -> dict[str, float]:
    """Milliseconds per handout, in this process, median of ``passes`` passes over ``files``:
    ours (load and validate, and the strict YAML alone) beside PyYAML's pure and libyaml safe loaders."""
    import yaml

    from handoutpress.load.content import load_handout
    from handoutpress.load.yamlsafe import read_yaml

    def per_handout(read) -> float:
        times = []
        for _ in range(passes):
            started = time.perf_counter()
            for f in files:
                read(f)
            times.append((time.perf_counter() - started) * 1000 / len(files))
        return statistics.median(times)

    costs = {
        "ours, load and validate": per_handout(lambda f: load_handout(f, root)),
        "ours, strict YAML alone": per_handout(lambda f: read_yaml(f, f.name)),
        "PyYAML SafeLoader (pure)": per_handout(lambda f: yaml.load(f.read_bytes(), Loader=yaml.SafeLoader)),
    }
    if yaml.__with_libyaml__:
        costs["PyYAML CSafeLoader (libyaml)"] = per_handout(lambda f: yaml.load(f.read_bytes(), Loader=yaml.CSafeLoader))
    return costs


# ---------------------------------------------------------------------------
# (k) the local pool against --cluster local, the same number of workers


def dask_overhead_per_job(root: Path, workers: int, count: int) -> float:
    """Seconds per job that Dask itself costs: ``count`` empty jobs through the build's windowed
    executor on a warm `LocalCluster` of ``workers`` processes, end to end, divided by ``count``."""
    from handoutpress.batch.cluster import start_cluster

    cluster = start_cluster("local", workers, root)
    try:
        wait([cluster.executor.submit(abs, -1) for _ in range(workers * 2)])  # connections made, workers warm
        started = time.perf_counter()
        wait([cluster.executor.submit(abs, -i) for i in range(count)])
        return (time.perf_counter() - started) / count
    finally:
        cluster.close()


def cluster_against_pool(root: Path, repeat: int, workers: int) -> list[tuple[str, float, str]]:
    """Cold builds (fresh command, empty out/) by the local pool and by `--cluster local` with the same
    number of workers, alternated so both see the same machine; the PDFs must be the same bytes."""
    pool, cluster = [], []
    for _ in range(repeat):
        for target, times, extra in (("out-pool", pool, ()), ("out-cluster", cluster, ("--cluster", "local"))):
            shutil.rmtree(root / target, ignore_errors=True)
            times.append(generate(root, *build_args(root / target, "--jobs", str(workers), *extra))[0])
        print(f"  (k) pool, --cluster local: {[round(pool[-1], 3), round(cluster[-1], 3)]}", file=sys.stderr, flush=True)
    digests = [
        {p.relative_to(root / t).as_posix(): p.read_bytes() for p in (root / t).rglob("*.pdf")}
        for t in ("out-pool", "out-cluster")
    ]
    manifest = json.loads((root / "out-pool" / "manifest.json").read_text())
    jobs = sum(1 for o in manifest["outputs"] if o.get("pages"))
    pages = sum(o.get("pages", 0) for o in manifest["outputs"])
    overhead = dask_overhead_per_job(root, workers, 500)
    p, c = statistics.median(pool), statistics.median(cluster)
    same = "same bytes" if digests[0] == digests[1] else "PDFs DIFFER"
    return [
        (f"(k) cold build, local pool of {workers}", p, f"{p * workers / pages * 1000:.1f} ms per page per worker"),
        (f"(k) cold build, --cluster local, {workers} workers", c, f"throughput {p / c:.2f} of the pool (target >= 0.9); {same}"),
        (
            "(k) Dask's cost per job (500 empty jobs)",
            overhead,
            f"{overhead * 1000:.2f} ms; the build's {jobs} jobs: {(c - p) / jobs * 1000:+.1f} ms each",
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--count", type=int, default=100, help="handouts in the synthetic library (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; medians are reported (default 3)")
    parser.add_argument("--naive-sample", type=int, default=10, help="handouts timed for (b), scaled to --count")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", type=Path, help="write the library here and keep it")
    parser.add_argument("--large", type=int, default=5000, help="handouts in the load/no-op/check library of (i); 0 skips it")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    root = args.keep or Path(tempfile.mkdtemp(prefix="handoutpress-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    files = write_library(root, args.count, args.seed)
    out = root / "out"
    env_note = f"{args.count} handouts, {cores} cores, repeat {args.repeat}, Python {sys.version.split()[0]}"

    def log(label: str, values: list[float]) -> None:
        print(f"  {label}: {[round(v, 3) for v in values]}", file=sys.stderr, flush=True)

    # (a) cold full builds, each followed by (c) the engine floor on the same
    # HTML, so both see the same load on the machine
    cold, reports, floor = [], [], []
    floor_docs, floor_base = floor_documents(root)
    for _ in range(args.repeat):
        shutil.rmtree(out, ignore_errors=True)
        elapsed, report = generate(root, *build_args(out, "--json"))
        cold.append(elapsed)
        reports.append(report)
        floor.append(engine_floor(root, cores, floor_docs, floor_base))
        log("(a) cold, (c) floor", [cold[-1], floor[-1]])
    manifest = json.loads((out / "manifest.json").read_text())
    outputs = sum(1 for o in manifest["outputs"] if o.get("variant") != "web")
    pages = sum(o.get("pages", 0) for o in manifest["outputs"])  # web pages have none
    rss = [mb for r in reports for mb in r["worker_peak_rss_mb"].values()]

    # (d) no-op
    noop = [generate(root, *build_args(out))[0] for _ in range(args.repeat)]
    log("(d) no-op", noop)
    noop_path = [generate(root, *build_args(out), str(root / "handouts" / "en"))[0] for _ in range(args.repeat)]
    log("(d') no-op, PATH handouts/en", noop_path)
    check_cold, check_warm, check_edited = check_times(root, args.repeat, cores)
    log("(h) check cold, warm, one edited", check_cold + check_warm + check_edited)

    # (e) one handout edited
    edit = []
    for i in range(args.repeat):
        target = files[i]
        target.write_text(target.read_text().replace("key_takeaways:", f'key_takeaways:\n  - "Edit number {i}."', 1))
        edit.append(generate(root, *build_args(out))[0])
    log("(e) one edited", edit)

    # (f) the brand changed: every output rebuilds
    brand = root / "brands" / "default" / "brand.yaml"
    original = brand.read_text()
    brand_times = []
    for i in range(args.repeat):
        brand.write_text(original.replace("address: ", f"address: Building {i + 2}, ", 1))
        brand_times.append(generate(root, *build_args(out))[0])
    log("(f) brand", brand_times)

    # (g) watch
    watch_standard, watch = watch_rebuilds(root, out, files, args.repeat)
    log("(g) watch: to the standard PDF, to all three", watch_standard + watch)

    # stamp share (in this process, warm caches, one core)
    stamp_time, stamp_size, mean_pages, audit_time, kit_time = stamp_share(root, min(10, args.count))

    # (j) loading (in this process, one core)
    load_passes = max(5, args.repeat)
    load_ms = load_costs(root, files, load_passes)

    # (b) naive: a fresh process per handout, sequentially, on a sample
    sample = files[: args.naive_sample]
    naive_out = root / "out-naive"
    started = time.perf_counter()
    for f in sample:
        generate(root, "build", str(f), "--out", str(naive_out), "--today", TODAY, "--quiet", "--jobs", "1", "--force")
    naive = (time.perf_counter() - started) * args.count / len(sample)

    med = statistics.median
    a, c = med(cold), med(floor)
    print(f"Handout Press batch benchmark: {env_note}")
    print(f"library: {outputs} PDFs, {pages} pages ({mean_pages:.1f} pages per PDF in the stamp sample)")
    print(f"{'case':<52}{'median s':>10}  ratio")
    rows = [
        ("(a) cold full build", a, ""),
        (f"(b) naive, a process per handout (from {len(sample)})", naive, f"(b)/(a) = {naive / a:.1f}x"),
        (f"(c) engine floor: WeasyPrint only, {cores} workers, fresh", c, f"(a)/(c) = {a / c:.2f}"),
        ("(d) no-op rebuild", med(noop), f"{med(noop) / a:.3f} of (a)"),
        ("(d') no-op rebuild, PATH handouts/en", med(noop_path), f"{med(noop_path) / a:.3f} of (a)"),
        ("(h) check, cold", med(check_cold), f"{med(check_cold) * 1000 * cores / args.count:.1f} ms per handout per core"),
        ("(h) check, nothing changed", med(check_warm), f"{med(check_warm) / med(check_cold):.2f} of cold"),
        ("(h) check, one handout edited", med(check_edited), f"{med(check_edited) / med(check_cold):.2f} of cold"),
        ("(e) one handout edited, fresh command", med(edit), f"{med(edit) / a:.3f} of (a)"),
        ("(f) brand changed, fresh command", med(brand_times), f"{med(brand_times) / a:.2f} of (a)"),
        ("(g) watch edit: save to the standard PDF", med(watch_standard), "target <= 0.6 s"),
        ("(g) watch edit: save to all three outputs", med(watch), f"{med(watch) / a:.3f} of (a)"),
    ]
    rows += cluster_against_pool(root, args.repeat, cores)
    if args.large:
        rows += large_library(args.large, args.seed, args.repeat, cores)
    for name, value, ratio in rows:
        print(f"{name:<52}{value:>10.3f}  {ratio}")
    print(f"peak memory per worker: max {max(rss):.0f} MB, median {med(rss):.0f} MB over {len(rss)} worker runs")
    print(f"the stamp adds {stamp_time * 100:.1f}% to typesetting time and {stamp_size * 100:.1f}% to file size")
    print(f"stamp kit: {kit_time:.3f} s to prepare, once per worker per brand, language, variant and review months")
    print(f"verify-before-publish (audit) adds {audit_time * 100:.1f}% of typesetting time")
    print(
        f"(j) load per handout, ms (median of {load_passes} passes over {len(files)} files, one core): "
        + ", ".join(f"{name} {ms:.3f}" for name, ms in load_ms.items())
        + "; target <= 1 ms for ours"
    )
    print(
        f"all runs (s): a={[round(x, 2) for x in cold]} c={[round(x, 2) for x in floor]} "
        f"d={[round(x, 3) for x in noop]} e={[round(x, 2) for x in edit]} "
        f"f={[round(x, 2) for x in brand_times]} g={[round(x, 3) for x in watch_standard]}/{[round(x, 3) for x in watch]}"
    )
    print(f"main process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; library in {root}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor-command"]:  # (c)'s fresh command, started by engine_floor
        docs, out, base_url, workers = sys.argv[2:6]
        sys.exit(floor_command(Path(docs), Path(out), base_url, int(workers)))
    sys.exit(main())
