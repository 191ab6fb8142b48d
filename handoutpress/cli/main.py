"""The command line: ``python generate.py [build|check|verify|stamp] ...``.

`main(argv)` returns the exit status instead of exiting, so tests call it
in-process. Every `HandoutPressError` is caught here, once, and printed as one
line per problem; a traceback appears only with ``--debug``.

Exit status: 0 all good, 1 a handout or PDF failed, 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from handoutpress.errors import HandoutPressError, Problem, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _month(text: str):
    from handoutpress.load.content import ReviewDate

    try:
        return ReviewDate.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit status 2, no usage dump
        raise UsageError(Problem("generate.py", message))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="generate.py", description="Build branded, stamped patient handouts from YAML.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder (default: the current folder)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    build = sub.add_parser("build", help="build PDFs into out/ (the default command)")
    build.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="YAML files or folders (default: handouts/)")
    build.add_argument("--out", type=Path, help="output folder (default: out/)")
    build.add_argument("--brand", type=Path, help="brand folder (default: brands/default)")
    build.add_argument("--jobs", type=int, default=0, help="worker processes (default: every core)")
    build.add_argument("--force", action="store_true", help="rebuild even unchanged outputs")
    build.add_argument("--today", type=_date, help="the date for review checks (YYYY-MM-DD)")
    build.add_argument("--strict", action="store_true", help="fail on overdue reviews")
    build.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    _batch_options(build)

    watch = sub.add_parser("watch", help="rebuild and re-check what changed each time a file is saved")
    watch.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="YAML files or folders (default: handouts/)")
    watch.add_argument("--out", type=Path, help="output folder (default: out/)")
    watch.add_argument("--brand", type=Path, help="brand folder (default: brands/default)")
    watch.add_argument("--jobs", type=int, default=0, help="worker processes kept warm (default: every core)")
    watch.add_argument("--today", type=_date, help="the date for review checks (YYYY-MM-DD)")
    watch.add_argument("--strict", action="store_true", help="count overdue reviews as failures")
    watch.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    _batch_options(watch)
    watch.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # tests: build, then wait for one change

    check = sub.add_parser("check", help="check content without building")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument("--today", type=_date)
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--brand", type=Path)

    verify = sub.add_parser("verify", help="audit PDFs: stamp on every page, tags, fonts, metadata")
    verify.add_argument("pdfs", nargs="*", type=Path, metavar="PDF|DIR")
    verify.add_argument("--brand", type=Path)
    verify.add_argument("--today", type=_date)
    verify.add_argument("--outside", action="store_true", help="PDFs stamped with `stamp` (not tagged by us): skip tagged/title rules")

    translation = sub.add_parser("translation", help="record which source edition a translation was made from")
    translation.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="translations, e.g. handouts/es/x.yaml")
    translation.add_argument("--source", help="the source's language, for a first translation (e.g. en)")
    translation.add_argument("--translator", help="who translated it")
    translation.add_argument("--today", type=_date, help="the translation date (YYYY-MM-DD)")
    translation.add_argument("--write", action="store_true", help="write the block into the file (default: print it)")

    serve = sub.add_parser("serve", help="the catalogue, with personalised copies, at http://127.0.0.1 (this computer only)")
    serve.add_argument("--out", type=Path, help="the built folder to serve (default: out/)")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free port)")
    serve.add_argument("--brand", type=Path, help="brand folder (default: the one the build used)")

    stamp = sub.add_parser("stamp", help="put the brand's stamp on an outside PDF")
    stamp.add_argument("input", type=Path, metavar="IN.pdf")
    stamp.add_argument("--out", type=Path, required=True, metavar="OUT.pdf")
    stamp.add_argument("--reviewed", type=_month)
    stamp.add_argument("--next-review", type=_month)
    stamp.add_argument("--brand", type=Path)
    stamp.add_argument("--language", help="the stamp's language (default: the PDF's /Lang, else en)")
    return parser


def _batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the build report as JSON on stdout (nothing else)")
    parser.add_argument("--no-wait", action="store_true", help="if another build is running on the output folder, stop")
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S", help="seconds per document (default 120)")
    parser.add_argument("--page-limit", type=int, default=40, metavar="N", help="most pages a document may have (default 40)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = _parser().parse_args(_with_default_command(argv))
        root = args.root.resolve()
        return COMMANDS[args.command](args, root)
    except HandoutPressError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        if debug:
            raise
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_FAILED
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except KeyboardInterrupt:
        print("generate.py: interrupted", file=sys.stderr)
        return 130


def _with_default_command(argv: list[str]) -> list[str]:
    """``generate.py [--root R] [args]`` means ``generate.py [--root R] build [args]``."""
    i = _global_end(argv)
    if i < len(argv) and (argv[i] in COMMANDS or argv[i] in ("-h", "--help")):
        return argv
    return argv[:i] + ["build"] + argv[i:]


def _global_end(argv: list[str]) -> int:
    i = 0
    while i < len(argv) and argv[i] in ("--debug", "--root"):
        i += 2 if argv[i] == "--root" else 1
    return i


def _resolve(path: Path | None, root: Path, default: str) -> Path:
    return (root / default) if path is None else (path if path.is_absolute() else Path.cwd() / path)


def _paths(paths: list[Path]) -> tuple[Path, ...]:
    return tuple(p if p.is_absolute() else Path.cwd() / p for p in paths)


def build_options(args, root: Path, force: bool = False):
    from handoutpress.batch.jobs import BuildOptions

    if args.jobs < 0:
        raise UsageError(Problem("generate.py", f"--jobs must be 0 or more, got {args.jobs}"))
    if args.time_limit <= 0 or args.page_limit <= 0:
        raise UsageError(Problem("generate.py", "--time-limit and --page-limit must be more than 0"))
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
    )


def progress_printer(args):
    """Progress for people: a bar on a terminal, a line per output otherwise, nothing with --quiet/--json."""
    if args.quiet or args.json:
        return None
    if sys.stderr.isatty():

        def bar(done: int, total: int, path: str, status: str) -> None:
            filled = int(24 * done / total)
            end = "\n" if done == total else ""
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (24 - filled)}] {done}/{total} {path[-50:]:<50}{end}")
            sys.stderr.flush()

        return bar
    return lambda done, total, path, status: print(f"{status} {path}", flush=True)


def report_build(args, report, elapsed: float) -> int:
    """Print a build's problems and summary (or its JSON); return the exit status."""
    from handoutpress.batch.summary import report_json, summary_line

    failing = bool(report.failed or (args.strict and (report.overdue or report.translations)))
    if args.json:
        print(report_json(report, elapsed))
        return EXIT_FAILED if failing else EXIT_OK
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
    print(summary_line(report, elapsed))
    if report.checks:
        print(report.checks)
    return EXIT_FAILED if failing else EXIT_OK


def cmd_build(args, root: Path) -> int:
    from handoutpress.batch.run import build

    options = build_options(args, root, force=args.force)
    started = time.perf_counter()
    report = build(options, progress=progress_printer(args))
    return report_build(args, report, time.perf_counter() - started)


def cmd_watch(args, root: Path) -> int:
    from handoutpress.batch.watch import watch

    return watch(build_options(args, root), args, once=args.once)


def cmd_check(args, root: Path) -> int:
    from handoutpress.checks.run import check_handouts, format_text
    from handoutpress.checks.translations import check_translations
    from handoutpress.load.config import load_project_config
    from handoutpress.load.content import load_library

    today = args.today or date.today()
    config = load_project_config(root)
    handouts, problems = load_library(_paths(args.paths) or (root / "handouts",), root)
    report = check_handouts(handouts, problems, root, today, config)
    report.problems.extend(check_translations(handouts, root).problems)
    if args.format == "json":
        print(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        for p in report.problems:
            print(str(p) if p.severity == "error" else f"{p.severity}: {p}", file=sys.stderr)
        print(format_text(report))
    if report.errors or (args.strict and report.warnings):
        return EXIT_FAILED
    return EXIT_OK


def cmd_verify(args, root: Path) -> int:
    from handoutpress.load.brand import load_brand
    from handoutpress.load.content import display_path
    from handoutpress.stamp.outside import audit_outside
    from handoutpress.verify.audit import audit_pdf

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
    for f in files:
        shown = display_path(f, root)
        audit = audit_outside if args.outside else audit_pdf
        result = audit(f.read_bytes(), shown, brand, root / "labels", today=args.today or date.today())
        # One line per file; a failing file's line names every rule and page that failed.
        print(result.line(), file=sys.stdout if result.ok else sys.stderr)
        failed += not result.ok
    print(f"{len(files) - failed} of {len(files)} PDFs passed")
    return EXIT_FAILED if failed else EXIT_OK


def cmd_translation(args, root: Path) -> int:
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


def cmd_stamp(args, root: Path) -> int:
    from handoutpress.stamp.outside import stamp_outside_pdf

    summary = stamp_outside_pdf(
        source=_resolve(args.input, root, ""),
        target=_resolve(args.out, root, ""),
        root=root,
        brand_dir=_resolve(args.brand, root, "brands/default"),
        reviewed=args.reviewed,
        next_review=args.next_review,
        language=args.language,
    )
    print(summary)
    return EXIT_OK


def cmd_serve(args, root: Path) -> int:
    from handoutpress.frontdesk.serve import serve

    serve(root, _resolve(args.out, root, "out"), args.port, None if args.brand is None else _resolve(args.brand, root, ""))
    return EXIT_OK


COMMANDS = {"build": cmd_build, "watch": cmd_watch, "check": cmd_check, "verify": cmd_verify, "stamp": cmd_stamp, "translation": cmd_translation, "serve": cmd_serve}
