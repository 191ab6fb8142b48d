"""Handout Press: branded, stamped, accessible patient handouts from YAML.

The pipeline, one module per stage: `content` (load and validate) ->
`render` (HTML) -> `typeset` (WeasyPrint) -> `stamp` (pypdf) -> `publish`
(atomic writes, manifest); `build` drives a batch, `checks` judges content,
`audit` verifies PDFs and `cli` is the command line.
"""

from handoutpress.version import __version__

__all__ = ["__version__", "main"]


def main(argv=None) -> int:
    """Run the command line; return the exit status."""
    from handoutpress.cli import main as cli_main

    return cli_main(argv)
