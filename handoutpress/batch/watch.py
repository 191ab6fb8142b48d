"""`generate.py watch`: rebuild what changed each time a file is saved.

One build at the start, then one incremental build per burst of saves to
content, templates, styles, labels, assets or the brand. The worker processes
live as long as the watch does, so fonts, stylesheets, templates and stamp
overlays stay prepared between rebuilds; the build's own input hashes decide
what a change touches, and the handouts loaded stay kept between rebuilds.

The watch prints nothing itself: like MkDocs' ``serve`` around ``build``, it
is given hooks (`WatchHooks`) that show each build, its problems, the review
findings of the handouts that changed, and what is being watched.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import wait
from pathlib import Path

from handoutpress.batch.jobs import INPUT_FOLDERS, BuildOptions, BuildReport, Progress, Publisher
from handoutpress.batch.loading import KeptHandouts
from handoutpress.batch.run import build
from handoutpress.batch.workers import WorkerPool
from handoutpress.errors import EXIT_OK, Problem


@dataclasses.dataclass(frozen=True)
class WatchHooks:
    """What the command around the watch does with each build."""

    report: Callable[[BuildReport, float], int]  # after each build (report, seconds): show it, return the exit status
    notify: Callable[[str], None]  # a line for people: what changed, what is watched
    progress: Progress | None = None  # during each build, output by output
    review: Callable[[list[Problem]], None] | None = None  # review findings of the handouts just saved; None: skip
    saved: Callable[[list[Path]], None] | None = None  # the files just saved, before their rebuild (the live preview)


def watched_folders(options: BuildOptions) -> list[Path]:
    """The project's input folders that exist, and the brand folder."""
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


def watch(options: BuildOptions, hooks: WatchHooks, *, publishers: Iterable[Publisher] = (), once: bool = False) -> int:
    """Build, then rebuild on every change until interrupted (or after one rebuild with ``once``)."""
    from watchfiles import watch as watch_changes

    publishers = tuple(publishers)
    kept = KeptHandouts()
    workers = options.jobs or os.cpu_count() or 1
    status = EXIT_OK
    # SIGTERM stops the watch like Ctrl-C does, so the pool below shuts its workers down.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with WorkerPool(workers, options.root, linger=0.2) as pool:
        try:
            # Every worker starts now and loads WeasyPrint, fonts and templates.
            wait(pool.warming)
            status = _rebuild(options, hooks, pool, kept, publishers, changed=None)
            folders = watched_folders(options)
            hooks.notify(f"watching {', '.join(str(f) for f in folders)} (Ctrl-C to stop)")
            for changes in watch_changes(*folders, debounce=150, step=25, rust_timeout=0):
                changed = sorted({Path(p) for _, p in changes if _relevant(p, options.out)})
                if not changed:
                    continue
                status = _rebuild(options, hooks, pool, kept, publishers, changed=changed)
                if once:
                    break
        except KeyboardInterrupt:
            pool.stop()  # at once, even in the middle of a document: only this process writes to out/
            raise
    return status


def _rebuild(
    options: BuildOptions,
    hooks: WatchHooks,
    pool: WorkerPool,
    kept: KeptHandouts,
    publishers: tuple[Publisher, ...],
    changed: list[Path] | None,
) -> int:
    if changed:
        hooks.notify(f"changed: {', '.join(_shown(p, options.root) for p in changed)}")
        if hooks.saved is not None:
            hooks.saved(changed)
    started = time.perf_counter()
    report = build(options, progress=hooks.progress, executor=pool.executor, kept=kept, publishers=publishers)
    status = hooks.report(report, time.perf_counter() - started)
    if changed and hooks.review is not None:
        hooks.review(_review_findings(options, [p for p in changed if p.suffix in (".yaml", ".yml") and p.is_file()]))
    return status


def _review_findings(options: BuildOptions, files: list[Path]) -> list[Problem]:
    """Review-date findings for the handouts just saved (content errors came with the build)."""
    from handoutpress.checks.review import review_findings
    from handoutpress.load.content import load_library

    handouts, _ = load_library([f for f in files if f.resolve().is_relative_to(options.root / "handouts")], options.root)
    return [problem for item in handouts for problem in review_findings(item, options.today)]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
