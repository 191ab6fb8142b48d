"""The command line's entry point: ``python generate.py [build|check|verify|stamp|...] ...``.

`main(argv)` returns the exit status instead of exiting, so tests call it
in-process. Every `HandoutPressError` is caught here, once, and printed as one
line per problem; a traceback appears only with ``--debug``.

Exit status (`handoutpress.errors`): 0 all good, 1 a handout or PDF failed,
2 the command line was wrong, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import sys

from handoutpress.cli.commands import COMMANDS
from handoutpress.cli.parser import parse
from handoutpress.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, HandoutPressError, UsageError


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = parse(argv)
        return COMMANDS[args.command](args, args.root.resolve())
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
        return EXIT_INTERRUPTED
