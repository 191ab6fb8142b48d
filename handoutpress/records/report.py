"""What was handed out, counted: ``generate.py report``.

Counts are summed in the database, grouped by the fields asked for
(``--by``), between two days (``--since``, ``--until``, both included). With
no ``--by`` a row is one edition of one handout in one language and variant
through one channel: ``id, edition, language, variant, channel, count``.

Exports (CSV, JSON) show a count from 1 to 10 as ``<11``, as CMS does for
small cells, so that a rare code and a day cannot point to one patient;
``--no-suppress`` shows them, for use inside the clinic. The text table is for
the terminal of someone inside the clinic and shows every count, saying in
its footer what exports do.

``--superseded`` lists the editions handed out that are no longer the current
edition of their handout in ``out/manifest.json`` (or whose handout is gone):
the printouts a clinic may want to follow up.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from handoutpress.publish import MANIFEST, read_manifest
from handoutpress.records.events import handed_out, records_error
from handoutpress.records.schema import MIGRATIONS, current_version
from handoutpress.records.target import Target, failure, make_engine, read_target

BY_FIELDS = ("handout", "edition", "language", "variant", "channel", "desk", "day", "month")
FULL_BREAKDOWN = ("id", "edition", "language", "variant", "channel")
SUPERSEDED_COLUMNS = ("id", "language", "variant", "edition", "current_edition", "status")
SMALL_CELL = 10  # counts 1..SMALL_CELL are shown as "<11" in exports
SUPPRESSED = f"<{SMALL_CELL + 1}"
FORMATS = ("text", "json", "csv")


@dataclass(frozen=True)
class ReportQuery:
    """What to count: the days (both included, None: open-ended) and the grouping."""

    since: date | None = None
    until: date | None = None
    by: tuple[str, ...] = ()  # BY_FIELDS; empty: the full breakdown


@dataclass(frozen=True)
class Report:
    """Counted rows, ready to show."""

    columns: tuple[str, ...]  # the key columns, then "count"
    rows: list[dict[str, Any]]
    location: str
    query: ReportQuery
    superseded: bool = False


def columns_for(by: Sequence[str]) -> tuple[str, ...]:
    """The key columns of a grouping: ``handout`` is the id, ``edition`` the id and its edition."""
    if not by:
        return FULL_BREAKDOWN
    columns: list[str] = []
    for name in by:
        for column in {"handout": ("id",), "edition": ("id", "edition")}.get(name, (name,)):
            if column not in columns:
                columns.append(column)
    return tuple(columns)


def _expression(column: str, dialect: str) -> Any:
    if column == "id":
        return handed_out.c.handout_id
    if column == "month":
        if dialect == "postgresql":
            return func.to_char(handed_out.c.day, "YYYY-MM")
        return func.substr(handed_out.c.day, 1, 7)  # SQLite keeps a date as YYYY-MM-DD text
    return handed_out.c[column]


def _filtered(statement: Any, query: ReportQuery) -> Any:
    if query.since is not None:
        statement = statement.where(handed_out.c.day >= query.since)
    if query.until is not None:
        statement = statement.where(handed_out.c.day <= query.until)
    return statement


def count_rows(conn: Connection, query: ReportQuery) -> list[dict[str, Any]]:
    """The counts of ``query``, one row per group, in the order of the key columns."""
    columns = columns_for(query.by)
    keys = [_expression(c, conn.dialect.name).label(c) for c in columns]
    statement = _filtered(select(*keys, func.sum(handed_out.c.count).label("count")), query)
    statement = statement.group_by(*keys).order_by(*keys)
    return [_plain(dict(row)) for row in conn.execute(statement).mappings()]


def superseded_rows(conn: Connection, query: ReportQuery, outputs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The editions handed out that are no longer current in the manifest's ``outputs``, with counts."""
    current = {(o.get("id"), o.get("language"), o.get("variant")): o.get("edition") for o in outputs}
    keys = [_expression(c, conn.dialect.name).label(c) for c in ("id", "language", "variant", "edition")]
    statement = _filtered(select(*keys, func.sum(handed_out.c.count).label("count")), query)
    rows = []
    for row in conn.execute(statement.group_by(*keys).order_by(*keys)).mappings():
        now = current.get((row["id"], row["language"], row["variant"]))
        if now == row["edition"]:
            continue
        status = "withdrawn" if now is None else "replaced"
        rows.append(_plain({**row, "current_edition": now, "status": status}))
    return sorted(rows, key=lambda r: (r["id"], r["language"], r["variant"], r["edition"]))


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row's values as text and whole numbers (a day as YYYY-MM-DD)."""
    return {k: (v.isoformat() if isinstance(v, date) else int(v) if k == "count" else v) for k, v in row.items()}


def make_report(url: str | None, root: Path, query: ReportQuery, manifest_dir: Path | None = None) -> Report:
    """Count what the record at ``url`` holds (``manifest_dir``: list superseded editions against its manifest)."""
    target = read_target(url, root)
    if manifest_dir is not None and not (manifest_dir / MANIFEST).is_file():
        raise records_error(f"no {MANIFEST} in {manifest_dir}: build first, or name the built folder with --out", where="report")
    _check_recorded(target)
    engine = make_engine(target, read_only=True)
    try:
        with engine.begin() as conn:
            _check_schema(conn, target)
            if manifest_dir is None:
                rows = count_rows(conn, query)
                columns = columns_for(query.by)
            else:
                rows = superseded_rows(conn, query, read_manifest(manifest_dir)["outputs"])
                columns = SUPERSEDED_COLUMNS
    except SQLAlchemyError as exc:
        raise failure(target, exc) from None
    finally:
        engine.dispose()
    return Report((*columns, "count"), rows, target.location, query, superseded=manifest_dir is not None)


def _not_yet(target: Target) -> Exception:
    return records_error(f"no events have been recorded yet at {target.location}", where="report")


def _check_recorded(target: Target) -> None:
    if target.sqlite_file is not None and not target.sqlite_file.is_file():
        raise _not_yet(target)  # and a report never makes the file


def _check_schema(conn: Connection, target: Target) -> None:
    version, latest = current_version(conn), MIGRATIONS[-1].version
    if version == 0:
        raise _not_yet(target)
    if version > latest:
        raise records_error(f"the database's schema is version {version}, newer than this Handout Press knows ({latest})")
    if version < latest:
        raise records_error(f"the database's schema is version {version}; start `serve` once to bring it up to date")


# ---------------------------------------------------------------------------
# Showing a report


def shown_count(count: int, suppress: bool) -> int | str:
    """``count`` as an export shows it: ``<11`` for 1 to 10 when suppressing."""
    return SUPPRESSED if suppress and 0 < count <= SMALL_CELL else count


def as_json(report: Report, suppress: bool = True) -> str:
    """The rows as a JSON list (counts from 1 to 10 as ``"<11"`` when suppressing)."""
    rows = [{**row, "count": shown_count(row["count"], suppress)} for row in report.rows]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def as_csv(report: Report, suppress: bool = True) -> str:
    """The rows as CSV with a header line (counts from 1 to 10 as ``<11`` when suppressing)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow(
            ["" if row[c] is None else shown_count(row[c], suppress) if c == "count" else row[c] for c in report.columns]
        )
    return buffer.getvalue()


def as_text(report: Report, suppress: bool = True) -> str:
    """The rows as an aligned table for a terminal, every count shown, and a footer."""
    lines = []
    if report.rows:
        cells = [[_cell(row.get(c)) for c in report.columns] for row in report.rows]
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(report.columns)]
        header = [c.replace("_", " ") for c in report.columns]
        for values in [header, *cells]:
            parts = [v.rjust(w) if c == "count" else v.ljust(w) for v, w, c in zip(values, widths, report.columns, strict=True)]
            lines.append("  ".join(parts).rstrip())
    lines.extend(_footer(report, suppress))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _footer(report: Report, suppress: bool) -> list[str]:
    total = sum(row["count"] for row in report.rows)
    days = _days(report.query)
    what = "superseded edition(s)" if report.superseded else "row(s)"
    if not report.rows:
        nothing = "no superseded edition was handed out" if report.superseded else "nothing was handed out"
        first = f"{nothing} {days} ({report.location})"
    else:
        first = f"{len(report.rows)} {what}, {total} handed out {days} ({report.location})"
    note = (
        f"Exports (--format csv, json) show counts from 1 to {SMALL_CELL} as {SUPPRESSED}; --no-suppress shows them."
        if suppress
        else "--no-suppress: exports show every count; keep them inside the clinic."
    )
    return ["", first, note] if report.rows else [first, note]


def _days(query: ReportQuery) -> str:
    if query.since and query.until:
        return f"from {query.since} to {query.until}"
    if query.since:
        return f"since {query.since}"
    if query.until:
        return f"until {query.until}"
    return "on any day"


def render(report: Report, form: str, suppress: bool = True) -> str:
    """The report in ``form`` (text, json or csv)."""
    return {"text": as_text, "json": as_json, "csv": as_csv}[form](report, suppress)
