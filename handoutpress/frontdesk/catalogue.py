"""The front desk's catalogue: ``out/index.html`` and page-1 thumbnails.

Written by every build from the manifest's entries (`publish_catalogue`, just
before the manifest itself), so it always lists what ``out/`` holds; each
handout's card links its web page (``web/<language>/<id>/index.html``). The page is one self-contained file: the stylesheet and the
search script are inlined, thumbnails are relative links to PNG files beside
it, and nothing is fetched from the network, so it works opened straight from
disk (``file://``) as well as through ``generate.py serve``.

Thumbnails are cached like the PDFs: ``out/thumbs/<sha256 of the PDF>.png``.
An unchanged PDF keeps its thumbnail; a thumbnail whose PDF is gone or changed
is deleted. Only files named like a thumbnail are ever deleted.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.files import atomic_write
from handoutpress.publish import THUMBS, WEB_VARIANT, entry_codes, is_sha256, is_thumbnail_name, read_manifest, thumbnail_path

if TYPE_CHECKING:
    from handoutpress.batch.jobs import Publication
    from handoutpress.load.brand import Brand
    from handoutpress.load.project import Project

INDEX = "index.html"

VARIANT_LABELS = {"standard": "Standard", "large-print": "Large print", "faq-sheet": "FAQ sheet"}
VARIANT_ORDER = {"standard": 0, "large-print": 1, "faq-sheet": 2}
STATUS_BADGES = {
    # status -> (badge text, css class); the text carries the meaning, colour only repeats it
    "overdue": ("Review overdue", "overdue"),
    "due-soon": ("Review due soon", "due-soon"),
    "current": ("Reviewed, current", "current"),
}


@dataclass
class CatalogueReport:
    thumbnails_made: list[str]
    thumbnails_removed: list[str]
    problems: list[str]


# ---------------------------------------------------------------------------
# Thumbnails


def refresh_thumbnails(out: Path, outputs: Iterable[dict[str, Any]]) -> CatalogueReport:
    """Make the missing thumbnails and delete the ones no output needs."""
    from handoutpress.pdf.thumbnail import thumbnail_png

    report = CatalogueReport([], [], [])
    wanted: set[str] = set()
    for entry in outputs:
        digest = str(entry.get("sha256", ""))
        if not is_sha256(digest) or entry.get("variant") == WEB_VARIANT:
            continue
        name = f"{digest}.png"
        target = out / THUMBS / name
        if target.is_file():
            wanted.add(name)
            continue
        pdf_file = out / str(entry.get("path", ""))
        try:
            png = thumbnail_png(pdf_file.read_bytes())
        except Exception as exc:  # a missing or damaged PDF costs its thumbnail, not the catalogue
            report.problems.append(f"{entry.get('path')}: no thumbnail: {type(exc).__name__}: {exc}")
            continue
        atomic_write(target, png)
        wanted.add(name)
        report.thumbnails_made.append(thumbnail_path(digest))
    folder = out / THUMBS
    if folder.is_dir():
        for file in sorted(folder.iterdir()):
            if file.is_file() and is_thumbnail_name(file.name) and file.name not in wanted:
                file.unlink()
                report.thumbnails_removed.append(f"{THUMBS}/{file.name}")
    return report


# ---------------------------------------------------------------------------
# The page


def language_names(code: str) -> tuple[str, str]:
    """(the language's own name, its English name): ("Español", "Spanish")."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return code, code
    own = locale.get_display_name(locale) or code
    english = locale.get_display_name("en") or code
    return own[:1].upper() + own[1:], english


def _month(text: str) -> str:
    """ "2026-02" -> "Feb 2026"; anything else is shown as it is."""
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-\d{2})?", text or "")
    if not match:
        return text or ""
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return text
    return date(year, month, 1).strftime("%b %Y")


def _badges(entry: dict[str, Any]) -> list[dict[str, str]]:
    badges = []
    status = entry.get("review_status")
    if status in STATUS_BADGES:
        text, css = STATUS_BADGES[status]
        when = _month(str(entry.get("next_review", "")))
        detail = {"overdue": f"was due {when}", "due-soon": f"due {when}", "current": f"next {when}"}[status]
        badges.append({"text": text, "detail": detail if when else "", "css": css})
    if entry.get("stale"):
        badges.append({"text": "Out of date", "detail": "its last rebuild failed", "css": "overdue"})
    translation = entry.get("translation_status")
    if translation and translation not in ("current", "up-to-date", "source"):
        badges.append({"text": "Translation out of date", "detail": str(translation), "css": "due-soon"})
    return badges


def catalogue_view(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Topics, each with its handouts, each with its outputs (variants) in a fixed order.

    A handout (one id in one language) sits under its first topic; every topic
    it has is searchable.
    """
    handouts: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in sorted(outputs, key=lambda e: e.get("variant") == WEB_VARIANT):  # a card's facts come from its PDFs
        key = (str(entry.get("language", "")), str(entry.get("id", entry.get("path"))))
        own, english = language_names(key[0])
        topics = [str(t) for t in entry.get("topics") or []]
        card = handouts.setdefault(
            key,
            {
                "id": key[1],
                "title": entry.get("title") or entry.get("path"),
                "language": key[0],
                "language_name": own,
                "language_english": english,
                "topics": topics,
                "badges": _badges(entry),
                "reading_grade": entry.get("reading_grade"),
                "outputs": [],
                "web": None,
                "codes": code_lines(entry.get("codes")),
                "code_data": code_data(entry.get("codes")),
            },
        )
        variant = str(entry.get("variant", ""))
        if variant == WEB_VARIANT:  # the handout's web page: linked from its card, not a PDF to print
            card["web"] = entry["path"]
            continue
        digest = str(entry.get("sha256", ""))
        card["outputs"].append(
            {
                "path": entry["path"],
                "variant": variant,
                "variant_label": VARIANT_LABELS.get(variant, variant.replace("-", " ").capitalize()),
                "pages": entry.get("pages"),
                "size": _size(entry.get("bytes")),
                "thumbnail": thumbnail_path(digest) if is_sha256(digest) else None,
            }
        )
        if entry.get("variant") == "standard":  # the standard output speaks for the handout
            card["badges"] = _badges(entry)
    groups: dict[str, list[dict[str, Any]]] = {}
    for card in handouts.values():
        card["outputs"].sort(key=lambda o: (VARIANT_ORDER.get(o["variant"], 9), o["path"]))
        card["search"] = fold(
            " ".join(
                [card["title"], *card["topics"], card["language"], card["language_name"], card["language_english"]]
                + [o["variant_label"] for o in card["outputs"]]
            )
        )
        groups.setdefault(card["topics"][0] if card["topics"] else "Other", []).append(card)
    return [
        {"topic": topic, "slug": _slug(topic, i), "handouts": sorted(cards, key=lambda c: (c["title"].casefold(), c["language"]))}
        for i, (topic, cards) in enumerate(sorted(groups.items(), key=lambda kv: kv[0].casefold()))
    ]


def _code_pairs(codes: Any) -> list[tuple[str, list[str]]]:
    """(system, codes) of a manifest entry's ``codes``, in the systems' fixed order."""
    from handoutpress.load.codes import SYSTEMS

    found = entry_codes({"codes": codes})
    return [(system, found[system]) for system in SYSTEMS if found.get(system)]


def code_lines(codes: Any) -> list[str]:
    """A card's codes as shown on it: ["ICD-10-CM F32, F33", "RxNorm 6130"] (the manifest entry's ``codes``)."""
    from handoutpress.load.codes import SYSTEM_NAMES

    return [f"{SYSTEM_NAMES[system]} {', '.join(values)}" for system, values in _code_pairs(codes)]


def code_data(codes: Any) -> str:
    """A card's codes for the page's script: "icd10cm:F33 rxnorm:6130"."""
    return " ".join(f"{system}:{value}" for system, values in _code_pairs(codes) for value in values)


def fold(text: str) -> str:
    """Lower case without accents, as the page's script folds what is typed."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not 0x300 <= ord(c) <= 0x36F).lower()


def _slug(text: str, index: int) -> str:
    return f"topic-{index}-" + ("-".join(re.findall(r"[a-z0-9]+", text.lower())) or "x")


def _size(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def render_catalogue(
    manifest: dict[str, Any],
    *,
    templates: Path,
    styles: Path,
    clinic: str = "",
    today: date | None = None,
    personalise: bool = False,
    pending: int = 0,
) -> str:
    """The catalogue page as one HTML string (style and script inline).

    ``personalise``: served by ``generate.py serve`` (the personalise forms and the print list);
    ``pending``: hand-out events waiting for the records database (a banner says so).
    """
    # Render's environment (autoescaping, strict): one set of Jinja settings for
    # every page we make; a new one per catalogue, which is written once a build.
    from handoutpress.render.html import environment

    env = environment(templates)
    outputs = [o for o in manifest.get("outputs", []) if isinstance(o, dict) and o.get("path")]
    groups = catalogue_view(outputs)
    pdfs = [o for o in outputs if o.get("variant") != WEB_VARIANT]
    css = (styles / "catalogue.css").read_text(encoding="utf-8")
    if "</" in css:  # inlined raw: it must not be able to close its <style> element
        raise ValueError("styles/catalogue.css must not contain '</'")
    return env.get_template("catalogue.html").render(
        groups=groups,
        clinic=clinic,
        count=len(pdfs),
        handout_count=sum(len(g["handouts"]) for g in groups),
        overdue=sum(1 for g in groups for c in g["handouts"] if any(b["css"] == "overdue" for b in c["badges"])),
        today=(today or date.today()).isoformat(),
        css=css,
        personalise=personalise,
        pending=pending,
    )


def publish_catalogue(publication: Publication) -> None:
    """The build's catalogue publisher: ``out/index.html`` from the manifest's entries as this
    build leaves them (its PDFs and the web edition's pages), written just before the manifest."""
    entries = [dict(e) for _, e in sorted(publication.entries.items())]
    write_catalogue(publication.out, publication.project, publication.brand, publication.today, entries=entries)


def write_catalogue(
    out: Path,
    project: Project,
    brand: Brand | None = None,
    today: date | None = None,
    *,
    entries: list[dict[str, Any]] | None = None,
) -> CatalogueReport:
    """Refresh the thumbnails and write ``out/index.html`` from ``entries`` (default: ``out/manifest.json``'s)."""
    from jinja2 import TemplateError

    from handoutpress.errors import Problem, RenderError

    manifest = read_manifest(out) if entries is None else {"outputs": entries}
    report = refresh_thumbnails(out, manifest["outputs"])
    try:
        html = render_catalogue(
            manifest,
            templates=project.templates,
            styles=project.styles,
            clinic=brand.config.name if brand is not None else "",
            today=today,
        )
    except (OSError, ValueError, TemplateError) as exc:  # the PDFs and manifest are written; say why the page is not
        from handoutpress.load.content import display_path

        where = getattr(exc, "filename", None)
        where = display_path(Path(where), project.root) if where else "templates/catalogue.html"
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        raise RenderError(Problem(where, f"catalogue (index.html) not written: {why}")) from None
    atomic_write(out / INDEX, html.encode("utf-8"))
    return report
