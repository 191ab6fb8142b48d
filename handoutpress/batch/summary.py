"""What a build reports, as text: one line for people, JSON for scripts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from handoutpress.batch.jobs import BuildReport


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


def report_json(report: BuildReport, seconds: float) -> str:
    return json.dumps({**report.as_json(), "seconds": round(seconds, 3)}, indent=2, ensure_ascii=False)
