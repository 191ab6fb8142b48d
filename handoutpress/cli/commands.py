"""The commands: one function each, turning the parsed command line into plain
options for the stage that does the work, and its result into an exit status.

Each stage is imported inside its command, so a command loads only what it
uses (a build with nothing to do never imports WeasyPrint, pydantic or Jinja).
The web edition and the front desk's catalogue are handed to every command
that builds (`build`, `watch`) as publishers: the batch itself never imports them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.cli import output
from handoutpress.cli.parser import usage_error
from handoutpress.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from handoutpress.batch.jobs import BuildOptions, Publication, Publisher
    from handoutpress.checks.memo import CheckOutput

Command = Callable[[argparse.Namespace, Path], int]


def _resolve(path: Path | None, root: Path, default: str) -> Path:
    return (root / default) if path is None else (path if path.is_absolute() else Path.cwd() / path)


def _paths(paths: list[Path]) -> tuple[Path, ...]:
    return tuple(p if p.is_absolute() else Path.cwd() / p for p in paths)


def build_options(args: argparse.Namespace, root: Path, force: bool = False) -> BuildOptions:
    """The batch's plain options from ``build``'s or ``watch``'s command line."""
    from handoutpress.batch.jobs import BuildOptions

    if args.jobs < 0:
        raise usage_error(f"--jobs must be 0 or more, got {args.jobs}")
    if args.time_limit <= 0 or args.page_limit <= 0:
        raise usage_error("--time-limit and --page-limit must be more than 0")
    return BuildOptions(
        root=root,
        out=_resolve(args.out, root, "out"),
        brand_dir=_resolve(args.brand, root, "brands/default"),
        paths=_paths(args.paths),
        jobs=args.jobs,
        force=force,
        today=args.today or date.today(),
        strict=args.strict,
        time_limit=args.time_limit,
        page_limit=args.page_limit,
        wait=not args.no_wait,
        cluster=getattr(args, "cluster", ""),  # build only
    )


def _publishers() -> tuple[Publisher, ...]:
    """What every building command hands the build, in order: the web edition, then the
    front desk's catalogue (which links each handout's web page). Each is imported when
    it is first called, so a build with nothing to do never imports them (nor pydantic or Jinja)."""

    def web_edition(publication: Publication):
        from handoutpress.web.pages import web_edition

        return web_edition(publication)

    def catalogue(publication: Publication):
        from handoutpress.frontdesk.catalogue import publish_catalogue

        return publish_catalogue(publication)

    return (web_edition, catalogue)


def cmd_build(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.batch.run import build

    options = build_options(args, root, force=args.force)
    started = time.perf_counter()
    report = build(options, progress=output.progress_printer(args.quiet or args.json), publishers=_publishers())
    return output.report_build(report, time.perf_counter() - started, as_json=args.json, strict=args.strict)


def cmd_watch(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.batch.watch import WatchHooks, watch

    hooks = WatchHooks(
        report=lambda report, seconds: output.report_build(report, seconds, as_json=args.json, strict=args.strict),
        notify=output.say,
        progress=output.progress_printer(args.quiet or args.json),
        review=None if args.json else output.print_findings,
    )
    if args.preview:  # the web edition on 127.0.0.1: each saved handout's page first, then the PDFs
        from handoutpress.frontdesk.preview import previewed

        watch = previewed(watch, args.port)
    return watch(build_options(args, root), hooks, publishers=_publishers(), once=args.once)


def cmd_check(args: argparse.Namespace, root: Path) -> int:
    """Check content; results come from the checks cache the build keeps (``out/.cache/checks.json``)
    for every handout whose check inputs are unchanged, so `check` and `build` share them and
    nothing new is written into the project itself. The rest is checked in ``--jobs`` processes.
    When no input changed since the last check, its output is printed again (`checks.memo`)."""
    from handoutpress.checks.memo import CheckMemo, memo_file

    if args.jobs < 0:
        raise usage_error(f"--jobs must be 0 or more, got {args.jobs}")
    today = args.today or date.today()
    paths = _paths(args.paths)
    memo = CheckMemo(memo_file(root / "out", args.format), root, [f"today {today}", f"format {args.format}"], paths)
    result = memo.replay()
    if result is None:
        result = _check_afresh(args, root, today, paths)
        memo.keep(result)
    sys.stderr.write(result.stderr)
    sys.stdout.write(result.stdout)
    if result.errors or (args.strict and result.warnings):
        return EXIT_FAILED
    return EXIT_OK


def _check_afresh(args: argparse.Namespace, root: Path, today: date, paths: tuple[Path, ...]) -> CheckOutput:
    """What `check` prints, worked out (through the load and checks caches)."""
    from handoutpress.checks.cache import CACHE_FILE, LOAD_CACHE_FILE
    from handoutpress.checks.memo import CheckOutput
    from handoutpress.checks.report import format_text, json_text
    from handoutpress.checks.run import check_handouts
    from handoutpress.checks.translations import check_translations
    from handoutpress.load.config import load_project_config
    from handoutpress.load.content import LoadCache, load_library

    config = load_project_config(root)
    loaded = LoadCache(root / "out" / LOAD_CACHE_FILE)
    handouts, problems = load_library(paths or (root / "handouts",), root, loaded)
    loaded.save(handouts)
    report = check_handouts(handouts, problems, root, today, config, cache_file=root / "out" / CACHE_FILE, jobs=args.jobs)
    report.problems.extend(check_translations(handouts, root).problems)
    if args.format == "json":
        return CheckOutput(json_text(report) + "\n", "", report.errors, report.warnings)
    stderr = "".join((str(p) if p.severity == "error" else f"{p.severity}: {p}") + "\n" for p in report.problems)
    return CheckOutput(format_text(report) + "\n", stderr, report.errors, report.warnings)


def cmd_verify(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import display_path
    from handoutpress.render.html import Labels
    from handoutpress.verify.audit import audit_pdf
    from handoutpress.verify.outside import audit_outside

    brand = load_brand(_resolve(args.brand, root, "brands/default"), root)
    targets = _paths(args.pdfs) or (root / "out",)
    files: list[Path] = []
    for t in targets:
        if t.is_dir():
            files.extend(sorted(t.rglob("*.pdf")))
        elif t.is_file():
            files.append(t)
        else:
            print(f"{display_path(t, root)}: no such file or folder", file=sys.stderr)
            return EXIT_FAILED
    if not files:
        print("verify: no PDF files found", file=sys.stderr)
        return EXIT_FAILED
    failed = 0
    labels = Labels(root / "labels")  # read once for every file
    for f in files:
        shown = display_path(f, root)
        audit = audit_outside if args.outside else audit_pdf
        result = audit(f.read_bytes(), shown, brand, labels, today=args.today or date.today())
        # One line per file; a failing file's line names every rule and page that failed.
        print(result.line(), file=sys.stdout if result.ok else sys.stderr)
        failed += not result.ok
    print(f"{len(files) - failed} of {len(files)} PDFs passed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_translation(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.checks.translations import record_translation
    from handoutpress.load.content import display_path

    for path in _paths(args.paths):
        block = record_translation(
            path, root, today=args.today or date.today(), translator=args.translator, source=args.source, write=args.write
        )
        if args.write:
            print(f"recorded the source edition in {display_path(path, root)}")
        else:
            print(block, end="")
    return EXIT_OK


def cmd_stamp(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.files import atomic_write
    from handoutpress.stamp.outside import stamp_outside_pdf

    summary = stamp_outside_pdf(
        source=_resolve(args.input, root, ""),
        target=_resolve(args.out, root, ""),
        root=root,
        brand_dir=_resolve(args.brand, root, "brands/default"),
        reviewed=args.reviewed,
        next_review=args.next_review,
        language=args.language,
        write=atomic_write,
    )
    print(summary)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, root: Path) -> int:
    from handoutpress.frontdesk.serve import serve

    if args.preview:  # serve --preview: the live preview of the web edition, as watch --preview
        return cmd_watch(args, root)
    if args.time_limit <= 0 or args.page_limit <= 0 or args.jobs < 0:
        raise usage_error("--time-limit and --page-limit must be more than 0, --jobs 0 or more")
    serve(
        root,
        _resolve(args.out, root, "out"),
        args.port,
        None if args.brand is None else _resolve(args.brand, root, ""),
        desk=args.desk,
        records_url=args.records,
        workers=args.jobs,
        time_limit=args.time_limit,
        page_limit=args.page_limit,
    )
    return EXIT_OK


def cmd_find(args: argparse.Namespace, root: Path) -> int:
    """The handouts a clinical code selects, most specific first (exit 0 also when none matches)."""
    from handoutpress.load.codes import SYSTEM_NAMES, check_code, find_handouts, guess_system
    from handoutpress.load.content import load_library
    from handoutpress.publish import read_manifest

    system = args.system
    try:
        if system is None:
            system = guess_system(args.code)
            article = "an" if system in ("icd10cm", "rxnorm") else "a"
            print(f"find: {args.code.strip()!r} looks like {article} {SYSTEM_NAMES[system]} code", file=sys.stderr)
        code = check_code(system, args.code.strip())
    except ValueError as exc:
        raise usage_error(f"find: {exc}") from None
    handouts, _ = load_library((root / "handouts",), root)
    matches = find_handouts(handouts, system, code, args.language)
    out = _resolve(args.out, root, "out")
    outputs = read_manifest(out)["outputs"]  # empty when nothing was built
    rows = [output.find_row(rank, h, outputs) for rank, h in matches]
    if args.format == "json":
        print(json.dumps({"system": system, "code": code, "matches": rows}, indent=2, ensure_ascii=False))
    else:
        print(output.find_table(rows) if rows else f"no handout matches {SYSTEM_NAMES[system]} {code}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace, root: Path) -> int:
    """Count what was handed out, from the hand-out record (read only: a report never creates it)."""
    from handoutpress.records.report import ReportQuery, make_report, render

    if args.since and args.until and args.since > args.until:
        raise usage_error(f"--since {args.since} is after --until {args.until}")
    if args.superseded and args.by:
        raise usage_error("--superseded lists editions: it takes no --by")
    query = ReportQuery(since=args.since, until=args.until, by=tuple(args.by or ()))
    manifest_dir = _resolve(args.out, root, "out") if args.superseded else None
    report = make_report(args.records, root, query, manifest_dir)
    shown = render(report, args.format, suppress=not args.no_suppress)
    print(shown, end="" if shown.endswith("\n") else "\n")
    return EXIT_OK


COMMANDS: dict[str, Command] = {
    "find": cmd_find,
    "build": cmd_build,
    "watch": cmd_watch,
    "check": cmd_check,
    "verify": cmd_verify,
    "stamp": cmd_stamp,
    "translation": cmd_translation,
    "serve": cmd_serve,
    "report": cmd_report,
}
