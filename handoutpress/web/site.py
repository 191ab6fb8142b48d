"""What every page of the web edition shares in one build, and how a page is written.

The web edition is published after the PDFs, from the same loaded handouts,
into ``out/web/``. Its addresses mirror the published site under the brand's
``base_url``: ``<language>/<id>/`` for a handout's current page and
``<language>/<id>/<edition>/`` for the page behind one printout's QR code.
Links between pages are relative, so ``out/web/`` works from any static host
or straight from disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from handoutpress.files import atomic_write
from handoutpress.load.brand import Brand
from handoutpress.load.content import HandoutFile
from handoutpress.render.html import Renderer

WEB = "web"  # under out/
PAGE = "index.html"


@dataclass(frozen=True)
class WebSite:
    """One build's web edition: where it goes, what it is made from, and how it is written."""

    out: Path  # the build's out/ folder; pages go to out/web/
    brand: Brand
    renderer: Renderer  # the project's labels, glossaries and templates
    handouts: tuple[HandoutFile, ...]  # every current handout, every language
    today: date

    @property
    def root(self) -> Path:
        """The web edition's folder, ``out/web/``."""
        return self.out / WEB

    @staticmethod
    def address(language: str, handout_id: str, edition: str | None = None) -> str:
        """A page's address relative to the site's root: ``es/x/`` or ``es/x/2025.02-1a2b3c/``."""
        return f"{language}/{handout_id}/" + (f"{edition}/" if edition else "")

    def path_of(self, language: str, handout_id: str, edition: str | None = None) -> Path:
        """The file of a page: ``out/web/<language>/<id>/[<edition>/]index.html``."""
        return self.root / self.address(language, handout_id, edition) / PAGE

    def write(self, path: Path, data: bytes) -> bool:
        """Write a page or a copied file atomically, unless it already holds exactly ``data``.

        Returns whether it was written: an unchanged page is never rewritten.
        """
        try:
            if path.read_bytes() == data:
                return False
        except OSError:
            pass
        atomic_write(path, data)
        return True
