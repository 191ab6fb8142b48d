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

from handoutpress.files import write_if_changed
from handoutpress.load.brand import Brand
from handoutpress.load.content import HandoutFile
from handoutpress.render.html import Renderer

WEB = "web"  # under out/
PAGE = "index.html"
STYLESHEET = "web.css"  # the site's one stylesheet, at its root: the brand's colours, then styles/web.css
ASSETS = "assets"  # the pictures handouts show, copied from the project's assets/
BRAND_FOLDER = "brand"  # the clinic's logo


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

    @property
    def logo(self) -> str:
        """The clinic's logo, from the site's root: ``brand/<file>.svg``."""
        return f"{BRAND_FOLDER}/{self.brand.config.logo.src}"

    @staticmethod
    def address(language: str, handout_id: str, edition: str | None = None) -> str:
        """A page's address relative to the site's root: ``es/x/`` or ``es/x/2025.02-1a2b3c/``."""
        return f"{language}/{handout_id}/" + (f"{edition}/" if edition else "")

    def path_of(self, language: str, handout_id: str, edition: str | None = None) -> Path:
        """The file of a page: ``out/web/<language>/<id>/[<edition>/]index.html``."""
        return self.root / self.address(language, handout_id, edition) / PAGE

    @staticmethod
    def link(page: str, target: str) -> str:
        """A relative link from the page at address ``page`` (``""`` for the root, ``en/x/``,
        ``en/x/<edition>/``) to ``target``, a path from the site's root (``web.css``, ``es/x/index.html``)."""
        depth = len([part for part in page.split("/") if part])
        return "../" * depth + target

    def page_link(self, page: str, language: str, handout_id: str, edition: str | None = None) -> str:
        """A relative link from the page at ``page`` to another page's file (``index.html`` named,
        so the link works from disk as well as from a web server)."""
        return self.link(page, self.address(language, handout_id, edition) + PAGE)

    def write(self, path: Path, data: bytes) -> bool:
        """Write a page or a copied file atomically, unless it already holds exactly ``data``.

        Returns whether it was written: an unchanged page is never rewritten.
        """
        return write_if_changed(path, data)
