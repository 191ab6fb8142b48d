"""Handout Press: branded, stamped, accessible patient handouts from YAML.

The pipeline, one subpackage per stage, data flowing one way:
`load` (YAML to frozen models) -> `render` (HTML) -> `typeset` (WeasyPrint)
-> `stamp` (on top of the `pdf` toolkit) -> `verify` (the audit) ->
`publish` (the manifest; `files` writes atomically). Around them: `checks`
(the content checks), `batch` (a build and `watch`), `frontdesk`
(catalogue and `serve`) and `cli` (the command line). Leaves every stage may
use: `errors`, `languages`, `version`, `files`.
"""

from handoutpress.version import __version__

__all__ = ["__version__", "main"]


def main(argv=None) -> int:
    """Run the command line; return the exit status."""
    from handoutpress.cli import main as cli_main

    return cli_main(argv)
