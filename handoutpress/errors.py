"""The small family of errors Handout Press reports to people.

Every error knows where it happened (a file, and where possible a line and a
field path) and renders itself as one line: ``file:line: field.path: message``.
`cli.main()` catches them once, prints that line and picks the exit status.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exit statuses, the same for every command: all good; a handout, PDF or input
# failed (the others were still made); the command line itself was wrong;
# stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class HandoutPressError(Exception):
    """Base class: something a person can act on, reported without a traceback."""

    category = "error"

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(file="handoutpress", message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ContentError(HandoutPressError):
    """A handout's YAML is malformed or breaks the content contract."""

    category = "content"


class BrandError(HandoutPressError):
    """A brand folder is missing, malformed or fails a rule (contrast, wording)."""

    category = "brand"


class RenderError(HandoutPressError):
    """Templating or typesetting failed, or the typesetter logged a warning."""

    category = "render"


class PdfError(HandoutPressError):
    """A PDF given to us (to stamp or to verify) is unusable or fails an audit."""

    category = "pdf"


class UsageError(HandoutPressError):
    """The command line itself is wrong (exit status 2)."""

    category = "usage"
