"""Loading a batch's handouts: all of them, every problem collected in one pass.

A build in a fresh process loads the library once (`content.load_library`).
A long-lived process (`watch`) keeps what it loaded in a `KeptHandouts` it
passes to every build, and reads again only the files that changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from handoutpress.batch.inputs import tree_digest
from handoutpress.errors import Problem
from handoutpress.files import sha256

if TYPE_CHECKING:
    from handoutpress.load.content import HandoutFile

# Besides its own YAML, what loading a handout reads: its images, the glossary
# and the labels. A change to any of them loads every handout again.
LOADING_READS = ("assets", "glossary", "labels")


class KeptHandouts:
    """Handouts loaded by earlier builds of one process, by file and by the bytes loading read.

    A file whose YAML and shared inputs are unchanged gives back what it gave
    last time, handout or problems; a file that is gone is forgotten.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, tuple[str, HandoutFile | list[Problem]]] = {}

    def load(self, paths: Iterable[Path], root: Path) -> tuple[list[HandoutFile], list[Problem]]:
        """What `content.load_library` gives, reusing every unchanged file's result."""
        from handoutpress.errors import ContentError
        from handoutpress.load.content import check_related, display_path, find_handout_files, inherit_codes, load_handout

        context = "".join(tree_digest(root / d) if (root / d).is_dir() else "-" for d in LOADING_READS)
        handouts: list[HandoutFile] = []
        problems: list[Problem] = []
        seen = set()
        for path in find_handout_files(paths, root):
            shown = display_path(path, root)
            seen.add(shown)
            try:
                key = sha256(path.read_bytes()) + context
            except OSError:
                problems.append(Problem(shown, "no such file or folder"))
                continue
            if self._loaded.get(shown, ("",))[0] != key:
                try:
                    self._loaded[shown] = (key, load_handout(path, root))
                except ContentError as exc:
                    self._loaded[shown] = (key, exc.problems)
            loaded = self._loaded[shown][1]
            if isinstance(loaded, list):
                problems.extend(loaded)
            else:
                handouts.append(loaded)
        for gone in set(self._loaded) - seen:
            del self._loaded[gone]
        problems.extend(check_related(handouts))
        return inherit_codes(handouts, root), problems  # as `load_library` does: a translation has its source's codes


def load_handouts(paths: Iterable[Path], root: Path, kept: KeptHandouts | None = None) -> tuple[list[HandoutFile], list[Problem]]:
    """Every handout under ``paths`` and every problem found; through ``kept`` when a process keeps them."""
    if kept is not None:
        return kept.load(paths, root)
    from handoutpress.load.content import load_library

    return load_library(paths, root)
