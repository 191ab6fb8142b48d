"""The command line's grammar: every command, its arguments and its help, and
the usage errors (one line, exit status 2, never argparse's usage dump).

``generate.py [--root R] [args]`` means ``generate.py [--root R] build [args]``:
`parse` puts the default command in before argparse reads the line.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from handoutpress.errors import Problem, UsageError

if TYPE_CHECKING:
    from handoutpress.load.content import ReviewDate

PROG = "generate.py"
DEFAULT_COMMAND = "build"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _month(text: str) -> ReviewDate:
    from handoutpress.load.content import ReviewDate

    try:
        return ReviewDate.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cluster(text: str) -> str:
    from handoutpress.batch.cluster import check_address

    if not text:  # the default: the local pool
        return text
    try:
        return check_address(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(exc.problems[0].message.removeprefix("--cluster: ")) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit status 2, no usage dump
        raise UsageError(Problem(PROG, message))


def usage_error(message: str) -> UsageError:
    """A wrong command line found after parsing (a value out of range): the same one line as argparse's."""
    return UsageError(Problem(PROG, message))


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line as a namespace whose ``command`` names the command to run."""
    parser, commands = _parser()
    return parser.parse_args(_with_default_command(argv, commands))


def _parser() -> tuple[argparse.ArgumentParser, set[str]]:
    parser = _Parser(prog=PROG, description="Build branded, stamped patient handouts from YAML.")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder (default: the current folder)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    _build_command(sub)
    _watch_command(sub)
    _check_command(sub)
    _verify_command(sub)
    _translation_command(sub)
    _serve_command(sub)
    _stamp_command(sub)
    _find_command(sub)
    _report_command(sub)
    return parser, set(sub.choices)


def _build_command(sub) -> None:
    build = sub.add_parser("build", help="build PDFs into out/ (the default command)")
    build.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="YAML files or folders (default: handouts/)")
    build.add_argument("--out", type=Path, help="output folder (default: out/)")
    build.add_argument("--brand", type=Path, help="brand folder (default: brands/default)")
    build.add_argument("--jobs", type=int, default=0, help="worker processes (default: every core)")
    build.add_argument("--force", action="store_true", help="rebuild even unchanged outputs")
    build.add_argument("--today", type=_date, help="the date for review checks (YYYY-MM-DD)")
    build.add_argument("--strict", action="store_true", help="fail on overdue reviews")
    build.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    build.add_argument(
        "--cluster",
        type=_cluster,
        default="",
        metavar="local|tcp://HOST:PORT",
        help="typeset on a Dask cluster: 'local' starts one of --jobs processes, an address joins a running scheduler",
    )
    _batch_options(build)


def _watch_command(sub) -> None:
    watch = sub.add_parser("watch", help="rebuild and re-check what changed each time a file is saved")
    watch.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="YAML files or folders (default: handouts/)")
    watch.add_argument("--out", type=Path, help="output folder (default: out/)")
    watch.add_argument("--brand", type=Path, help="brand folder (default: brands/default)")
    watch.add_argument("--jobs", type=int, default=0, help="worker processes kept warm (default: every core)")
    watch.add_argument("--today", type=_date, help="the date for review checks (YYYY-MM-DD)")
    watch.add_argument("--strict", action="store_true", help="count overdue reviews as failures")
    watch.add_argument("--quiet", action="store_true", help="print only problems and the summary")
    _batch_options(watch)
    _preview_options(watch, port_help="port on 127.0.0.1 for --preview (default: 8001; 0: any free port)", port=8001)
    watch.add_argument("--once", action="store_true", help=argparse.SUPPRESS)  # tests: build, then wait for one change


def _preview_options(parser: argparse.ArgumentParser, port_help: str | None = None, port: int = 8001) -> None:
    parser.add_argument(
        "--preview", action="store_true", help="serve the web edition on 127.0.0.1 and reload it in the browser on each save"
    )
    if port_help is not None:
        parser.add_argument("--port", type=int, default=port, help=port_help)


def _batch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the build report as JSON on stdout (nothing else)")
    parser.add_argument("--no-wait", action="store_true", help="if another build is running on the output folder, stop")
    parser.add_argument("--time-limit", type=float, default=120.0, metavar="S", help="seconds per document (default 120)")
    parser.add_argument("--page-limit", type=int, default=40, metavar="N", help="most pages a document may have (default 40)")


def _check_command(sub) -> None:
    check = sub.add_parser("check", help="check content without building")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    check.add_argument("--today", type=_date)
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--brand", type=Path)
    check.add_argument("--jobs", type=int, default=0, help="processes for the handouts checked afresh (default: every core)")


def _verify_command(sub) -> None:
    verify = sub.add_parser("verify", help="audit PDFs: stamp on every page, tags, fonts, metadata")
    verify.add_argument("pdfs", nargs="*", type=Path, metavar="PDF|DIR")
    verify.add_argument("--brand", type=Path)
    verify.add_argument("--today", type=_date)
    verify.add_argument("--outside", action="store_true", help="PDFs stamped with `stamp` (not tagged by us): skip tagged/title rules")


def _translation_command(sub) -> None:
    translation = sub.add_parser("translation", help="record which source edition a translation was made from")
    translation.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="translations, e.g. handouts/es/x.yaml")
    translation.add_argument("--source", help="the source's language, for a first translation (e.g. en)")
    translation.add_argument("--translator", help="who translated it")
    translation.add_argument("--today", type=_date, help="the translation date (YYYY-MM-DD)")
    translation.add_argument("--write", action="store_true", help="write the block into the file (default: print it)")


def _serve_command(sub) -> None:
    serve = sub.add_parser("serve", help="the catalogue, with personalised copies, at http://127.0.0.1 (this computer only)")
    serve.add_argument("--out", type=Path, help="the built folder to serve (default: out/)")
    serve.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default: 8000; 0: any free port)")
    serve.add_argument("--brand", type=Path, help="brand folder (default: the one the build used)")
    serve.add_argument("--desk", default="front-desk", metavar="NAME", help="this desk's name in the hand-out record")
    serve.add_argument(
        "--records",
        metavar="URL",
        help="where hand-outs are recorded: sqlite:///FILE or postgresql://USER@HOST:PORT/DB"
        " (default: records/handed-out.sqlite3)",
    )
    serve.add_argument("--jobs", type=int, default=0, help="worker processes kept warm for personalised copies (default: 2)")
    serve.add_argument("--time-limit", type=float, default=120.0, metavar="S", help="seconds per personalised copy (default 120)")
    serve.add_argument("--page-limit", type=int, default=40, metavar="N", help="most pages a copy may have (default 40)")
    _preview_options(serve)  # serve --preview is watch --preview on serve's port: the web edition, rebuilt on save
    serve.set_defaults(paths=[], today=None, strict=False, quiet=False, json=False, no_wait=False, once=False)


def _stamp_command(sub) -> None:
    stamp = sub.add_parser("stamp", help="put the brand's stamp on an outside PDF")
    stamp.add_argument("input", type=Path, metavar="IN.pdf")
    stamp.add_argument("--out", type=Path, required=True, metavar="OUT.pdf")
    stamp.add_argument("--reviewed", type=_month)
    stamp.add_argument("--next-review", type=_month)
    stamp.add_argument("--brand", type=Path)
    stamp.add_argument("--language", help="the stamp's language (default: the PDF's /Lang, else en)")


def _find_command(sub) -> None:
    find = sub.add_parser("find", help="list the handouts a diagnosis, medication or lab code selects")
    find.add_argument("code", metavar="CODE", help="e.g. F33.1 (ICD-10-CM), 6130 (RxNorm), 2345-7 (LOINC)")
    find.add_argument("--system", choices=("icd10cm", "snomed", "rxnorm", "loinc"), help="(default: guessed from the code)")
    find.add_argument("--language", help="only handouts in this language (e.g. es)")
    find.add_argument("--format", choices=("text", "json"), default="text")
    find.add_argument("--out", type=Path, help="the built folder whose manifest names the PDFs (default: out/)")


def _report_command(sub) -> None:
    report = sub.add_parser("report", help="count what the front desk handed out (no patient data is ever kept)")
    report.add_argument("--records", metavar="URL", help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: records/)")
    report.add_argument("--out", type=Path, help="the built folder whose manifest says which editions are current (default: out/)")
    report.add_argument("--since", type=_date, help="the first day counted (YYYY-MM-DD, UTC)")
    report.add_argument("--until", type=_date, help="the last day counted (YYYY-MM-DD, UTC)")
    report.add_argument(
        "--by",
        action="append",
        choices=("handout", "edition", "language", "variant", "channel", "desk", "day", "month"),
        help="count by this (repeat for more; default: id, edition, language, variant and channel)",
    )
    report.add_argument("--format", choices=("text", "json", "csv"), default="text")
    report.add_argument("--no-suppress", action="store_true", help="exports show counts from 1 to 10 (inside the clinic only)")
    report.add_argument("--superseded", action="store_true", help="editions handed out that have since been replaced or withdrawn")


def _with_default_command(argv: list[str], commands: set[str]) -> list[str]:
    """``generate.py [--root R] [args]`` means ``generate.py [--root R] build [args]``."""
    i = _global_end(argv)
    if i < len(argv) and (argv[i] in commands or argv[i] in ("-h", "--help")):
        return argv
    return argv[:i] + [DEFAULT_COMMAND] + argv[i:]


def _global_end(argv: list[str]) -> int:
    i = 0
    while i < len(argv) and argv[i] in ("--debug", "--root"):
        i += 2 if argv[i] == "--root" else 1
    return i
