"""Where a project's folders are: its handouts, templates, styles, assets and labels.

A leaf of the load stage that imports nothing heavy, so the batch can name a
project (and a build with nothing to do can answer) without loading the
renderer's libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    """Where a project's folders are; everything the renderer may read lives here."""

    root: Path

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def styles(self) -> Path:
        return self.root / "styles"

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def labels(self) -> Path:
        return self.root / "labels"

    @property
    def handouts(self) -> Path:
        return self.root / "handouts"
