"""Stage 2, render: a validated handout, a brand and a variant become HTML.

Templates are autoescaped and any undefined name is an error. Markdown is
rendered with raw HTML switched off, so markup typed into content is shown as
text; links with unsafe schemes are dropped by the Markdown parser and were
already refused by the loader.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from markdown_it import MarkdownIt
from markupsafe import Markup

from handoutpress.errors import ContentError, Problem, RenderError
from handoutpress.load.brand import Brand
from handoutpress.load.content import Handout, HandoutFile, ReviewDate, display_path
from handoutpress.load.glossary import Glossaries, words_to_know
from handoutpress.load.project import Project
from handoutpress.load.yamlsafe import YamlProblems, read_yaml
from handoutpress.render.variants import PAPER, Variant, template_for

WORDS_PER_MINUTE = 200


# ---------------------------------------------------------------------------
# Labels (template words per language)


def load_labels(labels_dir: Path, language: str, english: dict[str, str] | None = None) -> dict[str, str]:
    """The template words for ``language``, read now; every key of English must be present.

    ``english``: the English labels when the caller has them already (`Labels` does).
    """
    file = labels_dir / f"{language}.yaml"
    shown = f"labels/{language}.yaml"
    if not file.is_file():
        raise ContentError(Problem(shown, f"no labels for language {language!r} (add labels/{language}.yaml)"))
    try:
        data = read_yaml(file, shown).data
    except YamlProblems as exc:
        raise ContentError(exc.problems) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ContentError(Problem(shown, "expected a mapping of label names to text"))
    if language != "en":
        reference = english if english is not None else load_labels(labels_dir, "en")
        missing = [k for k in reference if k not in data]
        if missing:
            raise ContentError([Problem(shown, f"missing label {k!r} for language {language!r}", field=k) for k in missing])
    # Typography that differs by language, checked here so a bad value is named, not guessed around.
    if "quotes" in data and len(data["quotes"]) != 4:
        raise ContentError(Problem(shown, f"expected 4 quotation marks (double open, close, single open, close), got {data['quotes']!r}", field="quotes"))
    if "hyphens" in data and data["hyphens"] not in ("auto", "manual"):
        raise ContentError(Problem(shown, f"expected auto or manual, got {data['hyphens']!r}", field="hyphens"))
    try:
        Locale.parse(language.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        raise ContentError(Problem(shown, f"language {language!r} is unknown to the locale library (Babel), so its dates cannot be written")) from None
    return data


class Labels:
    """The template words of one ``labels/`` folder, each language read once.

    A worker keeps one for the life of its inputs (`Renderer` owns it); every
    stage that needs words (render, the stamp kit, the audit, file names) asks it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._read: dict[str, dict[str, str]] = {}

    def of(self, language: str) -> dict[str, str]:
        """The words for ``language`` (a `ContentError` naming the file when they are missing or wrong)."""
        if language not in self._read:
            english = self.of("en") if language != "en" else None
            self._read[language] = load_labels(self.folder, language, english)
        return self._read[language]

    def has(self, language: str) -> bool:
        """Whether ``labels/<language>.yaml`` exists."""
        return (self.folder / f"{language}.yaml").is_file()


def month_year(value: ReviewDate, language: str) -> str:
    """ "February 2025", "febrero de 2025": the month as the reader's locale writes it."""
    return format_skeleton("yMMMM", value.first_day, locale=language.replace("-", "_"))


# ---------------------------------------------------------------------------
# Markdown


def short_url(url: str) -> str:
    """A URL as a person would type it: host and path, no scheme, no trailing slash."""
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/")
    text = host + path
    return text if len(text) <= 48 else text[:45] + "…"


class _Markdown:
    def __init__(self, quotes: str):
        self.md = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": quotes})
        self.md.enable(["replacements", "smartquotes"])

    def block(self, text: str, heading_level: int) -> Markup:
        tokens = self.md.parse(text)
        for tok in tokens:
            if tok.type in ("heading_open", "heading_close"):
                tok.tag = f"h{min(6, int(tok.tag[1]) + heading_level - 1)}"
        self._mark_links(tokens)
        return Markup(self.md.renderer.render(tokens, self.md.options, {}))

    def inline(self, text: str) -> Markup:
        tokens = self.md.parseInline(text)
        self._mark_links(tokens)
        return Markup(self.md.renderer.render(tokens, self.md.options, {}))

    @staticmethod
    def _mark_links(tokens) -> None:
        # Printed pages show where a link goes; the screen keeps it clickable.
        for tok in tokens:
            for child in [tok, *(tok.children or [])]:
                if child.type == "link_open":
                    href = child.attrGet("href") or ""
                    if href.startswith(("http://", "https://")):
                        child.attrSet("data-short", short_url(href))


# ---------------------------------------------------------------------------
# Templates


ENGLISH_QUOTES = "“”‘’"


def environment(templates_dir: Path, quotes: str = ENGLISH_QUOTES) -> Environment:
    """A new autoescaping, strict Jinja2 environment for a templates folder, with
    the Markdown filters for ``quotes`` (a `Renderer` keeps one per quotation style)."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    md = _Markdown(quotes)
    env.filters["md"] = lambda text, level=3: md.block(text, level)
    env.filters["inline_md"] = md.inline
    env.filters["short_url"] = short_url
    return env


def word_count(handout: Handout) -> int:
    texts = [handout.title, handout.subtitle or "", *handout.key_takeaways]
    for s in handout.sections:
        for part in (s, *s.sections):
            texts += [part.heading, part.body or "", part.callout.text if part.callout else ""]
            if part.table:
                texts += [*part.table.columns, *(c for row in part.table.rows for c in row)]
    for q in handout.faq:
        texts += [q.question, q.answer]
    return sum(len(re.findall(r"\w+", t)) for t in texts)


def review_view(handout: Handout, labels: dict[str, str], language: str) -> dict[str, str]:
    r = handout.review
    reviewed = labels["reviewed"].format(date=month_year(r.reviewed, language))
    next_review = labels["next_review"].format(date=month_year(r.next_review, language))
    by = labels["reviewed_by"].format(reviewer=r.reviewer) if r.reviewer else ""
    line = " · ".join(x for x in (reviewed, next_review, by) if x)
    return {"reviewed": reviewed, "next_review": next_review, "by": by, "line": line}


def qr_code(base_url, language, handout_id, alt, edition=None):
    from handoutpress.render.qr import qr_code as make

    return make(base_url, language, handout_id, alt, edition)


class Renderer:
    """Rendering for one project, kept warm: its labels, its glossaries and one
    Jinja environment per quotation style, read once and kept for as long as the
    renderer lives. A worker keeps one until the project's shared files change,
    then makes a new one; a one-off caller makes its own."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.labels = Labels(project.labels)
        self.glossaries = Glossaries(project.root)
        self._environments: dict[str, Environment] = {}

    def environment(self, quotes: str = ENGLISH_QUOTES) -> Environment:
        """The project's Jinja environment for a language's quotation marks."""
        if quotes not in self._environments:
            self._environments[quotes] = environment(self.project.templates, quotes)
        return self._environments[quotes]

    def html(
        self,
        item: HandoutFile,
        variant: Variant,
        brand: Brand,
        related_titles: tuple[str, ...] = (),
        extra: dict | None = None,
    ) -> str:
        """The complete HTML document for one output.

        ``extra``: more template values for a one-off copy (``given_to``, see
        serve.py); without it the HTML is exactly that of the normal build.
        """
        labels = self.labels.of(item.language)
        context = _handout_context(item, variant, brand, self.project, labels, self.glossaries, related_titles)
        template = template_for(variant, item.content)
        try:
            return self.environment(labels["quotes"]).get_template(template).render({**context, **(extra or {})})
        except TemplateError as exc:
            where = display_path(self.project.templates / template, self.project.root)
            line = getattr(exc, "lineno", None)
            raise RenderError(Problem(getattr(exc, "filename", None) or where, f"template error: {exc}", line=line)) from None

    def stamp_html(
        self,
        *,
        brand: Brand,
        language: str,
        variant: Variant,
        reviewed: ReviewDate | None,
        next_review: ReviewDate | None,
        widest_page: str,
        widest_edition: str | None,
        alphabet: str,
        page_size: tuple[float, float] | None = None,
    ) -> str:
        """HTML for the stamp's kit: the shared band, its two slots, its alphabet (see templates/stamp.html)."""
        labels = self.labels.of(language)
        wording = brand.wording(language)
        if page_size is None:
            _, width, height = PAPER[brand.config.paper]
        else:
            width, height = page_size
        meta = []
        if reviewed:
            meta.append(labels["reviewed"].format(date=month_year(reviewed, language)))
        if next_review:
            meta.append(labels["next_review"].format(date=month_year(next_review, language)))
        context = {
            "language": language,
            "colours": brand.config.colours,
            "font": brand.config.font,
            "band": variant.band,
            "page_size_css": f"{width}pt {height}pt",
            "page_height_css": f"{height - 0.5}pt",
            "stylesheet": (self.project.styles / "stamp.css").resolve().as_uri(),
            "crisis_stamp": wording.crisis_stamp,
            "disclaimer_short": wording.disclaimer_short,
            "review_line": " · ".join(meta),
            "widest_page": widest_page,
            "widest_edition": widest_edition,
            "alphabet": alphabet,
        }
        return self.environment(labels["quotes"]).get_template("stamp.html").render(context)


def _handout_context(
    item: HandoutFile,
    variant: Variant,
    brand: Brand,
    project: Project,
    labels: dict[str, str],
    glossaries: Glossaries,
    related_titles: tuple[str, ...],
) -> dict:
    """The template values of one output (see templates/handout.html)."""
    handout = item.content
    size_css, _, _ = PAPER[brand.config.paper]
    minutes = max(1, math.ceil(word_count(handout) / WORDS_PER_MINUTE))
    title = handout.title
    if variant.name == "faq-sheet":
        title = f"{handout.title}: {labels['questions_and_answers']}"
    elif variant.name == "large-print":
        title = f"{handout.title} ({labels['large_print']})"
    return {
        "language": item.language,
        "handout": handout,
        "brand": brand.config,
        "wording": brand.wording(item.language),
        "labels": labels,
        "variant": variant.name,
        "doc_title": title,
        "doc_subject": handout.subtitle or handout.title,
        "topics": handout.topics,
        "page_size_css": size_css,
        "stylesheets": [(project.styles / s).resolve().as_uri() for s in variant.stylesheets],
        "logo_url": brand.logo_path.resolve().as_uri(),
        "reading_time": labels["reading_time"].format(minutes=minutes),
        "review": review_view(handout, labels, item.language),
        "related": [{"title": t} for t in related_titles],
        "words_to_know": words_to_know(item, glossaries.of(item.language)),
        "page_one": variant.page_one,
        "qr_place": variant.qr_place,
        "qr": qr_code(brand.config.base_url, item.language, item.id, labels["qr_alt"], item.edition)
        if variant.name in ("standard", "large-print")
        else None,
        "md": None,
    }
