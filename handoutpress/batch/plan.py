"""Planning: one job per output (handout x variant), keyed by a digest of everything that shapes it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from handoutpress.batch.inputs import code_digest, font_files, fonts_digest, output_options, tree_digest
from handoutpress.batch.jobs import Job
from handoutpress.errors import Problem

if TYPE_CHECKING:
    from handoutpress.load.brand import Brand
    from handoutpress.load.content import HandoutFile
    from handoutpress.load.project import Project


def _image_sources(item: HandoutFile) -> list[str]:
    out = []
    for s in item.content.sections:
        for part in (s, *s.sections):
            if part.image:
                out.append(part.image.src)
    return out


def plan_jobs(handouts: list[HandoutFile], brand: Brand, project: Project) -> tuple[list[Job], list[Problem]]:
    """One job per output, each keyed by a hash of everything that shapes it.

    The key: the handout's validated content (its codes and its YAML's
    comments left out: they never print), its id and language (its QR code's
    address), the titles of related handouts it prints, the brand, the
    templates, the variant's stylesheets, the labels of its language, the
    images it shows, the fonts the brand resolves to, our code and the library
    versions, and the output options. Change one and exactly the outputs that
    read it are rebuilt.
    """
    from handoutpress.publish import patient_file_name
    from handoutpress.render.html import Labels
    from handoutpress.render.variants import VARIANTS

    # The catalogue's own template shapes out/index.html, not any PDF.
    templates = tree_digest(project.templates, [p.name for p in project.templates.glob("*.html") if p.name != "catalogue.html"])
    shared = "\0".join((code_digest(), fonts_digest(font_files(brand.config.font)), output_options(), brand.sha256, templates))
    titles = {(h.language, h.id): h.content.title for h in handouts}
    jobs: list[Job] = []
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    words = Labels(project.labels)
    for item in handouts:
        # The handout's validated content, not its file's bytes: a comment or a change of codes
        # (which select a handout and never print) leaves every output as it is.
        content = item.content_sha256
        labels = tree_digest(project.labels, {f"{item.language}.yaml", "en.yaml"})
        labels += tree_digest(project.root / "glossary", {f"{item.language}.yaml"})  # the "Words to know" box
        assets = hashlib.sha256(b"".join((project.root / src).read_bytes() for src in _image_sources(item))).hexdigest()
        related = tuple(titles[(item.language, r)] for r in item.content.related if (item.language, r) in titles)
        for variant in VARIANTS.values():
            if not variant.applies(item.content):
                continue
            # The suffix a patient sees is in their language (labels: file_large_print, file_faq_sheet).
            suffix = words.of(item.language)[f"file_{variant.name.replace('-', '_')}"] if variant.file_suffix else ""
            rel = f"{item.language}/{patient_file_name(item.content.title, suffix)}"
            if rel in taken:
                problems.append(
                    Problem(
                        item.path,
                        f"output {rel} would overwrite the one made from {taken[rel]}; give one of them another title",
                        field="title",
                        line=item.line_of("title"),
                    )
                )
                continue
            taken[rel] = item.path
            styles = tree_digest(project.styles, {*variant.stylesheets, "stamp.css"})
            key = "\0".join((shared, content, item.language, item.id, variant.name, styles, labels, assets, *related))
            jobs.append(Job(item, variant.name, rel, related, hashlib.sha256(key.encode()).hexdigest()))
    return jobs, problems


