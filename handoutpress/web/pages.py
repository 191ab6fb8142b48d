"""The web edition's handout pages: ``out/web/<language>/<id>/index.html`` for every
handout and language, with the files they need beside them.

`web_edition` is the build's web publisher (`publish_web` does the work): after the PDFs are written it
renders one page per loaded handout from the same validated content (never
WeasyPrint), copies the site's stylesheet, the clinic's logo, the pictures the
pages show and each handout's PDFs into ``out/web/``, writes the front page
(``out/web/index.html``, every handout by language and topic), then the
edition pages (`web.editions`), and returns the pages' manifest entries
(variant ``web``).

Every page is plain HTML with one stylesheet and no script; every link is
relative, so ``out/web/`` works from any static host under the brand's
``base_url`` or straight from disk. The same inputs give the same bytes, and
`WebSite.write` leaves an unchanged file alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from babel.numbers import format_decimal

from handoutpress.errors import Problem, RenderError
from handoutpress.files import atomic_link, sha256
from handoutpress.load.brand import Brand
from handoutpress.load.content import HandoutFile, display_path
from handoutpress.load.glossary import words_to_know
from handoutpress.load.project import Project
from handoutpress.publish import WEB_VARIANT, web_entry
from handoutpress.render.html import review_view
from handoutpress.web.site import ASSETS, PAGE, STYLESHEET, WEB, WebSite

# The PDFs a page offers, in this order, with the label key of each.
PDF_VARIANTS = {"standard": "web_pdf_standard", "large-print": "web_pdf_large_print", "faq-sheet": "web_pdf_faq_sheet"}


# ---------------------------------------------------------------------------
# What the build made: the library as the manifest's entries describe it


@dataclass
class Listed:
    """One handout in one language, as the manifest's entries describe it."""

    language: str
    id: str
    title: str
    topics: tuple[str, ...]
    pdfs: list[Mapping[str, Any]] = field(default_factory=list)  # its PDF entries, in `PDF_VARIANTS` order
    has_page: bool = False


def listed_handouts(site: WebSite, entries: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], Listed]:
    """Every handout the site has a page for, by (language, id): this build's and those a partial build kept."""
    listed: dict[tuple[str, str], Listed] = {}
    for item in site.handouts:
        listed[(item.language, item.id)] = Listed(
            item.language, item.id, item.content.title, tuple(item.content.topics), has_page=True
        )
    for entry in sorted(entries.values(), key=lambda e: str(e.get("path"))):
        key = (str(entry.get("language", "")), str(entry.get("id", "")))
        if key not in listed:
            title = str(entry.get("title") or key[1])
            listed[key] = Listed(key[0], key[1], title, tuple(str(t) for t in entry.get("topics") or ()))
        if entry.get("variant") == WEB_VARIANT:
            listed[key].has_page = True
        elif entry.get("variant") in PDF_VARIANTS:
            listed[key].pdfs.append(entry)
    for handout in listed.values():
        handout.pdfs.sort(key=lambda e: list(PDF_VARIANTS).index(str(e["variant"])))
    return {key: handout for key, handout in sorted(listed.items()) if handout.has_page}


# ---------------------------------------------------------------------------
# Words and numbers in the page's language


def language_name(code: str, in_language: str | None = None) -> str:
    """A language's name as its speakers write it ("Español"), or in ``in_language``."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code.replace("-", "_"))
        shown = locale.get_display_name(in_language.replace("-", "_") if in_language else locale) or code
    except (ValueError, UnknownLocaleError):
        return code
    return shown[:1].upper() + shown[1:]


def file_size(size: int, language: str) -> str:
    """ "240 KB", "1,2 MB": a file's size as the reader's locale writes numbers."""
    locale = language.replace("-", "_")
    if size < 1024 * 1024:
        return f"{format_decimal(max(1, round(size / 1024)), locale=locale)} KB"
    return f"{format_decimal(round(size / 1024 / 1024, 1), format='#,##0.0', locale=locale)} MB"


# ---------------------------------------------------------------------------
# Rendering


def frame_context(site: WebSite, page: str, language: str) -> dict[str, Any]:
    """What every page's frame (templates/web/_frame.html) needs: the clinic, the stylesheet,
    the logo, the way home, all linked relative to the page at address ``page``."""
    return {
        "language": language,
        "labels": site.renderer.labels.of(language),
        "brand": site.brand.config,
        "stylesheet": site.link(page, STYLESHEET),
        "logo": site.link(page, site.logo),
        "home": site.link(page, PAGE),
        "alternates": [],
        "other_languages": [],
    }


def render_page(site: WebSite, template: str, language: str, context: dict[str, Any]) -> bytes:
    """A page of the web edition from a template in templates/web/, in ``language``'s quotation marks."""
    from jinja2 import TemplateError

    renderer = site.renderer
    labels = renderer.labels.of(language)
    try:
        html = renderer.environment(labels["quotes"]).get_template(f"web/{template}").render(context)
    except TemplateError as exc:
        project = renderer.project
        where = getattr(exc, "filename", None) or display_path(project.templates / "web" / template, project.root)
        raise RenderError(
            Problem(where, f"web page not written: template error: {exc}", line=getattr(exc, "lineno", None))
        ) from None
    return html.encode("utf-8")


def handout_page(site: WebSite, item: HandoutFile, listed: Mapping[tuple[str, str], Listed]) -> bytes:
    """The page of one handout in one language (templates/web/handout.html)."""
    page = site.address(item.language, item.id)
    labels = site.renderer.labels.of(item.language)
    handout = item.content
    context = frame_context(site, page, item.language)
    translations = [h for (language, hid), h in listed.items() if hid == item.id]
    context["alternates"] = [{"language": h.language, "href": site.page_link(page, h.language, h.id)} for h in translations]
    context["other_languages"] = [
        {
            "language": h.language,
            "name": language_name(h.language),
            "title": h.title,
            "href": site.page_link(page, h.language, h.id),
        }
        for h in translations
        if h.language != item.language
    ]
    own = listed.get((item.language, item.id))
    review = review_view(handout, labels, item.language)
    context.update(
        doc_title=f"{handout.title} · {site.brand.config.name}",
        description=handout.subtitle or handout.title,
        handout=handout,
        wording=site.brand.wording(item.language),
        review=review,
        written_by=labels["written_by"].format(author=handout.review.author) if handout.review.author else "",
        edition=labels["edition"].format(edition=item.edition),
        words_to_know=words_to_know(item, site.renderer.glossaries.of(item.language)),
        related=[
            {"title": listed[(item.language, rid)].title, "href": site.page_link(page, item.language, rid)}
            for rid in handout.related
            if (item.language, rid) in listed
        ],
        pdfs=[_pdf_link(entry, labels, item.language) for entry in (own.pdfs if own else [])],
        asset=_asset_linker(site, page),
    )
    return render_page(site, "handout.html", item.language, context)


def _pdf_link(entry: Mapping[str, Any], labels: Mapping[str, str], language: str) -> dict[str, str]:
    """One PDF a page offers: its label, its file beside the page, its pages and size."""
    pages = int(entry.get("pages") or 0)
    facts = labels["web_pdf_one_page" if pages == 1 else "web_pdf_pages"].format(
        pages=pages, size=file_size(int(entry.get("bytes") or 0), language)
    )
    return {"label": labels[PDF_VARIANTS[str(entry["variant"])]], "href": Path(str(entry["path"])).name, "facts": facts}


def _asset_linker(site: WebSite, page: str) -> Callable[[str], str]:
    """The templates' ``asset()``: ``assets/x.svg`` as a link from the page to its copy in out/web/assets/."""

    def link(src: str) -> str:
        return site.link(page, src)

    return link


# ---------------------------------------------------------------------------
# Files beside the pages


def site_stylesheet(site: WebSite) -> bytes:
    """out/web/web.css: the brand's colours as custom properties, then styles/web.css."""
    colours = site.brand.config.colours
    lines = [f"  --{name}: {value};" for name, value in sorted(colours.model_dump().items())]
    head = "/* Made by Handout Press from the brand's colours and styles/web.css. */\n:root {\n" + "\n".join(lines) + "\n}\n"
    body = (site.renderer.project.styles / "web.css").read_bytes()
    return head.encode("utf-8") + body


def image_sources(item: HandoutFile) -> list[str]:
    """The pictures a handout shows (``assets/...``), in reading order."""
    return [part.image.src for s in item.content.sections for part in (s, *s.sections) if part.image]


def copy_shared_files(site: WebSite) -> list[Path]:
    """The stylesheet, the logo and every picture a page shows, copied into out/web/ (only what changed)."""
    project = site.renderer.project
    assets = (project.root / ASSETS).resolve()
    wanted: dict[str, Path] = {site.logo: site.brand.logo_path}
    for item in site.handouts:
        for src in image_sources(item):
            wanted[src] = project.root / src
    written = [site.root / STYLESHEET] if site.write(site.root / STYLESHEET, site_stylesheet(site)) else []
    for target, source in sorted(wanted.items()):
        real = source.resolve()
        # The loader allows pictures only from assets/; checked again here, after symlinks.
        if target != site.logo and not real.is_relative_to(assets):
            raise RenderError(Problem(display_path(source, project.root), "web page not written: picture outside assets/"))
        if site.write(site.root / target, real.read_bytes()):
            written.append(site.root / target)
    return written


def copy_pdfs(site: WebSite, language: str, handout_id: str, pdfs: list[Mapping[str, Any]]) -> list[Path]:
    """A handout's PDFs beside its page, so the page's download links work from any host: a second
    name for each PDF (a hard link, a copy where out/ cannot hold one, `files.atomic_link`);
    a copy the handout no longer makes (a new title, a variant gone) is removed."""
    folder = site.path_of(language, handout_id).parent
    written = []
    names = set()
    for entry in pdfs:
        source = site.out / str(entry["path"])
        names.add(source.name)
        try:
            changed = atomic_link(source, folder / source.name)
        except OSError:
            continue  # listed but gone: the build reports it; the page's link is still named
        if changed:
            written.append(folder / source.name)
    for old in sorted(folder.glob("*.pdf")):
        if old.name not in names:
            old.unlink()
    return written


def remove_pdf_copies(site: WebSite, listed: Mapping[tuple[str, str], Listed]) -> None:
    """The PDF copies of handouts that are gone follow their PDFs: deleted (edition pages stay)."""
    if not site.root.is_dir():
        return
    for old in sorted(site.root.glob("*/*/*.pdf")):
        language, handout_id = old.parent.parent.name, old.parent.name
        if (language, handout_id) not in listed:
            old.unlink()


# ---------------------------------------------------------------------------
# The front page, out/web/index.html: every handout by language and topic.
# Made from what the site has a page for, so a partial build still lists the
# whole library. Each language's part is in that language (its name, topics
# and titles, marked with lang); the words around them are English when the
# site has English.
def index_view(site: WebSite, listed: Mapping[tuple[str, str], Listed]) -> list[dict[str, Any]]:
    """Languages (English first), each with its topics in alphabetical order, each with its handouts.

    A handout is listed under every topic it has, so a reader finds it under any of them.
    """
    languages = sorted({language for language, _ in listed}, key=lambda code: (code != "en", code))
    view: list[dict[str, Any]] = []
    for language in languages:
        labels = site.renderer.labels.of(language)
        topics: dict[str, list[dict[str, str]]] = {}
        for (lang, handout_id), handout in listed.items():
            if lang != language:
                continue
            link = {"title": handout.title, "href": site.page_link("", language, handout_id)}
            for topic in handout.topics or (labels["web_other_topics"],):
                topics.setdefault(topic, []).append(link)
        view.append(
            {
                "language": language,
                "name": language_name(language),
                "topics": [
                    {"topic": topic, "handouts": sorted(links, key=lambda h: (h["title"].casefold(), h["href"]))}
                    for topic, links in sorted(topics.items(), key=lambda kv: kv[0].casefold())
                ],
            }
        )
    return view


def write_index(site: WebSite, listed: Mapping[tuple[str, str], Listed]) -> bool:
    """Write out/web/index.html (unless it already holds exactly this page)."""
    view = index_view(site, listed)
    language = view[0]["language"] if view else "en"
    context = frame_context(site, "", language)
    context.update(
        doc_title=f"{context['labels']['web_index_title']} · {site.brand.config.name}",
        description=context["labels"]["web_index_intro"].format(clinic=site.brand.config.name),
        languages=view,
        count=len(listed),
    )
    return site.write(site.root / PAGE, render_page(site, "index.html", language, context))


# ---------------------------------------------------------------------------
# The publisher


class Built(Protocol):
    """What a build hands its publishers (`batch.jobs.Publication` is one), as the web edition reads it."""

    @property
    def out(self) -> Path: ...
    @property
    def project(self) -> Project: ...
    @property
    def brand(self) -> Brand: ...
    @property
    def today(self) -> date: ...
    @property
    def handouts(self) -> tuple[HandoutFile, ...]: ...
    @property
    def entries(self) -> Mapping[str, Mapping[str, Any]]: ...


def web_edition(built: Built) -> list[dict[str, Any]]:
    """The build's web publisher: the web edition of what ``built`` holds, with a renderer of its own."""
    from handoutpress.render.html import Renderer

    site = WebSite(out=built.out, brand=built.brand, renderer=Renderer(built.project), handouts=built.handouts, today=built.today)
    return publish_web(site, built.entries)


def publish_web(site: WebSite, entries: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Write the web edition of this build into out/web/ and return its pages' manifest entries.

    ``entries``: the manifest's entries so far (the PDFs), by path. Pages of
    handouts this build did not load (a partial build) are left as they are.
    """
    listed = listed_handouts(site, entries)
    copy_shared_files(site)
    made: list[dict[str, Any]] = []
    for item in sorted(site.handouts, key=lambda h: (h.language, h.id)):
        data = handout_page(site, item, listed)
        path = site.path_of(item.language, item.id)
        site.write(path, data)
        own = listed[(item.language, item.id)]
        copy_pdfs(site, item.language, item.id, own.pdfs)
        made.append(
            web_entry(
                _base_entry(site, item, own), path=path.relative_to(site.out).as_posix(), size=len(data), digest=sha256(data)
            )
        )
    remove_pdf_copies(site, listed)
    write_index(site, listed)
    _publish_editions(site)
    return made


def _base_entry(site: WebSite, item: HandoutFile, own: Listed) -> Mapping[str, Any]:
    """The fields a page's manifest entry shares with its handout's PDFs: the first PDF's
    entry, or (when every PDF of a new handout failed) the same facts made here."""
    if own.pdfs:
        return own.pdfs[0]
    from handoutpress.checks.review import review_status
    from handoutpress.publish import manifest_entry

    return manifest_entry(
        item,
        path="",
        variant=WEB_VARIANT,
        inputs_sha256="",
        pages=0,
        size=0,
        digest="",
        review_status=review_status(item, site.today),
        reading={},
    )


def _publish_editions(site: WebSite) -> list[Path]:
    """The edition pages behind each printout's QR code (`web.editions`), after the current pages."""
    from handoutpress.web.editions import publish_editions

    return publish_editions(site)


__all__ = ["WEB", "web_edition", "publish_web", "handout_page", "listed_handouts", "frame_context", "render_page"]
