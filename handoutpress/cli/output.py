"""What the command line prints about a build: progress, problems, one summary
line for people, or the whole report as JSON for scripts.

Everything here only formats and prints; the exit status a build earns is
decided here too, from its report and the ``--strict`` flag.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO

from handoutpress.errors import EXIT_FAILED, EXIT_OK, Problem

if TYPE_CHECKING:
    from handoutpress.batch.jobs import BuildReport, Progress
    from handoutpress.load.content import HandoutFile


def progress_printer(quiet: bool) -> Progress | None:
    """Progress for people: a bar on a terminal, a line per output otherwise, nothing when ``quiet``."""
    if quiet:
        return None
    if sys.stderr.isatty():
        return ProgressBar(sys.stderr)
    return lambda done, total, path, status: print(f"{status} {path}", flush=True)


class ProgressBar:
    """A build's progress as one line redrawn in place, as wide as the terminal is now.

    tqdm draws it: it asks the terminal for its width at every redraw and never
    writes past it, so a narrow or resized terminal keeps one line, not a trail
    of them. A bar lasts one build: it starts at the build's first output and
    ends, with a newline, at its last (a watch draws one per rebuild).
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._bar: Any = None  # the tqdm bar of the build under way

    def __call__(self, done: int, total: int, path: str, status: str) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]  # imported on the first draw: a no-op build never draws

        if self._bar is None or done <= self._bar.n:  # a new build
            self.close()
            self._bar = tqdm(
                total=total,
                file=self.stream,
                dynamic_ncols=True,  # the terminal's width, asked at every redraw
                bar_format="[{bar}] {n_fmt}/{total_fmt} {desc}",
                ascii=".#",
                mininterval=0,
                miniters=1,
                leave=True,
            )
        # The path's tail fits beside a bar of at least a third of the line.
        room = max(8, _columns(self.stream) * 2 // 3 - 2 * len(str(total)) - 4)
        self._bar.set_description_str(path[-room:], refresh=False)
        self._bar.update(done - self._bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        """End the bar under way (if any) with its last state and a newline."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _columns(stream: TextIO) -> int:
    """How wide the terminal behind ``stream`` is now (80 when it cannot say)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError):
        return 80


def report_build(report: BuildReport, seconds: float, *, as_json: bool, strict: bool) -> int:
    """Print a build's problems and summary (or its JSON); return the exit status."""
    failing = bool(report.failed or (strict and (report.overdue or report.translations)))
    if as_json:
        print(report_json(report, seconds))
    else:
        _print_problems(report)
        print(summary_line(report, seconds))
        if report.checks:
            print(report.checks)
    sys.stdout.flush()  # a long-lived command (watch) shows each build as soon as it is done
    return EXIT_FAILED if failing else EXIT_OK


def _print_problems(report: BuildReport) -> None:
    for problem in report.failed:
        print(str(problem), file=sys.stderr)
    for source in report.overdue:
        entry = next(e for e in report.outputs if e.get("source") == source)
        print(
            f"{source}: review is overdue: next review was due {entry['next_review']} "
            f"(built, and listed as overdue in the manifest)",
            file=sys.stderr,
        )
    for problem in report.translations:  # stale or orphan translations: built, flagged in the manifest
        print(f"{problem} (built, and flagged in the manifest)", file=sys.stderr)


def print_findings(problems: list[Problem]) -> None:
    """Review findings (warnings and notes), one per line, each led by its severity."""
    for problem in problems:
        print(f"{problem.severity}: {problem}", file=sys.stderr)


def say(line: str) -> None:
    """One line for the person at the terminal, shown at once (stdout may be a pipe)."""
    print(line, file=sys.stderr, flush=True)


def summary_line(report: BuildReport, seconds: float, names: int = 5) -> str:
    """One line for people: counts, and the names behind every count but 'unchanged'."""

    def named(label: str, items: list[str]) -> str:
        if not items:
            return f"0 {label}"
        shown = ", ".join(items[:names]) + (f", +{len(items) - names} more" if len(items) > names else "")
        return f"{len(items)} {label} ({shown})"

    failed = sorted({p.file.split(" (")[0] for p in report.failed})
    return "; ".join(
        (
            named("built", report.built),
            f"{len(report.unchanged)} unchanged",
            named("failed", failed),
            named("stale", report.stale),
            named("overdue", report.overdue),
            named("removed", report.removed),
        )
    ) + f" in {seconds:.2f} s"


def report_fields(report: BuildReport) -> dict[str, Any]:
    """The report as JSON-ready fields: every list, each failure with its file, line, field and text."""
    return {
        "ok": report.ok,
        "built": report.built,
        "unchanged": report.unchanged,
        "failed": [{"file": p.file, "line": p.line, "field": p.field, "message": p.message, "text": str(p)} for p in report.failed],
        "stale": report.stale,
        "overdue": report.overdue,
        "removed": report.removed,
        "translations": [str(p) for p in report.translations],
        "checks": report.checks,
        "worker_peak_rss_mb": {str(pid): round(mb, 1) for pid, mb in sorted(report.workers.items())},
    }


def report_json(report: BuildReport, seconds: float) -> str:
    """The JSON a script reads from ``--json``: the report's fields and the seconds it took."""
    return json.dumps({**report_fields(report), "seconds": round(seconds, 3)}, indent=2, ensure_ascii=False)


def find_row(rank: int, item: HandoutFile, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    """One handout ``find`` lists: what it is, how closely it matched, its PDFs and web page when built."""
    from handoutpress.publish import WEB_VARIANT

    mine = [o for o in outputs if o.get("id") == item.id and o.get("language") == item.language]
    web = [o["path"] for o in mine if o.get("variant") == WEB_VARIANT]
    return {
        "id": item.id,
        "title": item.content.title,
        "language": item.language,
        "match": "exact" if rank == 0 else f"parent category ({rank} up)",
        "codes": item.codes.as_json(),
        "pdfs": sorted(o["path"] for o in mine if o.get("variant") != WEB_VARIANT),
        "web_page": web[0] if web else None,
        "source": item.path,
    }


def find_table(rows: list[dict[str, Any]]) -> str:
    """``find``'s text output: one block per handout, most specific match first."""
    lines = []
    for row in rows:
        lines.append(f"{row['id']} ({row['language']}, {row['match']}): {row['title']}")
        for pdf in row["pdfs"] or [f"not built; source {row['source']}"]:
            lines.append(f"    {pdf}")
        if row["web_page"]:
            lines.append(f"    {row['web_page']}")
    return "\n".join(lines)
