"""The command line, in three rooms: `parser` (the grammar and its usage
errors), `commands` (one function per command, calling the stages with plain
options) and `output` (what is printed about a build); `main` is the entry
point that runs one command and turns errors into exit statuses.

``main(argv) -> int`` is callable in-process (``from handoutpress.cli import main``).
"""

from handoutpress.cli.main import main

__all__ = ["main"]
