"""`generate.py watch`: rebuild what changed each time a file is saved.

One build at the start, then one incremental build per burst of saves to
content, templates, styles, labels, assets or the brand. The worker processes
live as long as the watch does, so fonts, stylesheets, templates and stamp
overlays stay prepared between rebuilds; the build's own input hashes decide
what a change touches. Each rebuild prints what it rebuilt, any problems,
the review findings of the handouts that changed, and a summary line.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

from handoutpress.batch.jobs import INPUT_FOLDERS, BuildOptions
from handoutpress.batch.pipeline import prewarm_worker
from handoutpress.batch.run import build
from handoutpress.batch.workers import stop_workers, worker_initializer

EXIT_OK, EXIT_FAILED = 0, 1


def watched_folders(options: BuildOptions) -> list[Path]:
    folders = [options.root / name for name in INPUT_FOLDERS if (options.root / name).is_dir()]
    folders.append(options.brand_dir)
    return folders


def _relevant(change_path: str, out: Path) -> bool:
    """Saves that can change an output; editor swap files and out/ itself are not."""
    path = Path(change_path)
    name = path.name
    if name.startswith((".", "#")) or name.endswith(("~", ".swp", ".tmp")):
        return False
    return not path.resolve().is_relative_to(out.resolve())


def watch(options: BuildOptions, args, *, once: bool = False) -> int:
    """Build, then rebuild on every change until interrupted (or after one rebuild with ``once``)."""
    from watchfiles import watch as watch_changes

    from handoutpress.cli.main import progress_printer, report_build

    options = dataclasses.replace(options, remember=True)
    workers = options.jobs or os.cpu_count() or 1
    status = EXIT_OK
    # SIGTERM stops the watch like Ctrl-C does, so the pool below shuts its workers down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with ProcessPoolExecutor(max_workers=workers, initializer=worker_initializer) as pool:
        try:
            # Start every worker now and let it load WeasyPrint, fonts and templates.
            wait([pool.submit(prewarm_worker, str(options.root), 0.2) for _ in range(workers)])
            status = _rebuild(options, args, pool, progress_printer, report_build, changed=None)
            folders = watched_folders(options)
            print(f"watching {', '.join(str(f) for f in folders)} (Ctrl-C to stop)", file=sys.stderr, flush=True)
            for changes in watch_changes(*folders, debounce=150, step=25, rust_timeout=0):
                changed = sorted({Path(p) for _, p in changes if _relevant(p, options.out)})
                if not changed:
                    continue
                status = _rebuild(options, args, pool, progress_printer, report_build, changed=changed)
                if once:
                    break
        except KeyboardInterrupt:
            stop_workers(pool)  # at once, even in the middle of a document: only this process writes to out/
            raise
    return status


def _rebuild(options, args, pool, progress_printer, report_build, changed: list[Path] | None) -> int:
    if changed:
        shown = ", ".join(_shown(p, options.root) for p in changed)
        print(f"changed: {shown}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    report = build(options, progress=progress_printer(args), executor=pool)
    elapsed = time.perf_counter() - started
    status = report_build(args, report, elapsed)
    if changed and not args.json:
        _recheck(options, [p for p in changed if p.suffix in (".yaml", ".yml") and p.is_file()])
    sys.stdout.flush()
    return status


def _recheck(options: BuildOptions, files: list[Path]) -> None:
    """Review-date findings for the handouts just saved (content errors came with the build)."""
    from handoutpress.checks.run import review_findings
    from handoutpress.load.content import load_library

    handouts, _ = load_library([f for f in files if f.resolve().is_relative_to(options.root / "handouts")], options.root)
    for item in handouts:
        for problem in review_findings(item, options.today):
            print(f"{problem.severity}: {problem}", file=sys.stderr)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
