"""Stage 1, load (brands): a clinic's name, logo, colours, contact, crisis lines
and wording, validated like content and checked for readable contrast.

A brand is data in ``brands/<name>/brand.yaml`` beside its SVG logo; nothing
about a clinic is hard-coded in templates or code.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator

from handoutpress.errors import BrandError, Problem
from handoutpress.load.content import display_path
from handoutpress.load.schema import StrictModel, Text, translate_errors
from handoutpress.load.yamlsafe import YamlProblems, read_yaml

Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class Logo(StrictModel):
    src: Text
    alt: Text

    @field_validator("src")
    @classmethod
    def _svg_in_folder(cls, src: str) -> str:
        if "/" in src or "\\" in src or not src.lower().endswith(".svg"):
            raise ValueError(f"expected an SVG file name inside the brand folder, got {src!r}")
        return src


class Colours(StrictModel):
    primary: Colour  # title band, headings
    accent: Colour  # rules and box borders
    text: Colour
    muted: Colour  # secondary text
    background: Colour
    tint: Colour  # key-takeaways and table header background
    warning: Colour  # warning callout text and border


class Contact(StrictModel):
    phone: Text
    website: Text
    address: Text
    email: Text | None = None


class Wording(StrictModel):
    """Everything the brand says in one language."""

    disclaimer_short: Text
    disclaimer_full: Text
    crisis_stamp: Text  # e.g. "Emergency: 911 · Call or text 988"
    crisis_heading: Text
    crisis_lines: Annotated[list[Text], Field(min_length=1)]


class BrandModel(StrictModel):
    name: Text
    logo: Logo
    colours: Colours
    contact: Contact
    paper: Literal["letter", "A4"] = "letter"
    font: Text = "Open Sans"
    base_url: Text | None = None
    wording: dict[str, Wording]

    @field_validator("base_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(/\S*)?$", url):
            raise ValueError(f"expected an https:// web address, got {url!r}")
        return url


@dataclass(frozen=True)
class Brand:
    """A validated brand and the folder it came from."""

    folder: Path
    config: BrandModel
    sha256: str  # of every file in the brand folder, for rebuild decisions
    lines: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def logo_path(self) -> Path:
        return self.folder / self.config.logo.src

    def wording(self, language: str) -> Wording:
        try:
            return self.config.wording[language]
        except KeyError:
            raise BrandError(
                Problem(
                    display_path(self.folder / "brand.yaml", self.folder.parent.parent),
                    f"no wording for language {language!r} (add wording.{language} with the disclaimer and crisis lines)",
                    field=f"wording.{language}",
                )
            ) from None


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2.x contrast ratio between two #RRGGBB colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# Colour pairs that carry text in the templates: (text colour, background colour).
TEXT_PAIRS = (
    ("text", "background"),
    ("muted", "background"),
    ("primary", "background"),
    ("warning", "background"),
    ("text", "tint"),
    ("primary", "tint"),
    ("background", "primary"),  # white title text on the primary band
)


def load_brand(folder: Path, root: Path) -> Brand:
    """Load ``folder/brand.yaml``; raise `BrandError` with every problem."""
    file = folder / "brand.yaml"
    shown = display_path(file, root)
    if not file.is_file():
        raise BrandError(Problem(shown, "brand file not found (a brand is a folder holding brand.yaml and its logo)"))
    try:
        doc = read_yaml(file, shown)
    except YamlProblems as exc:
        raise BrandError(exc.problems) from None
    try:
        config = BrandModel.model_validate(doc.data)
    except ValidationError as exc:
        raise BrandError(translate_errors(exc, doc, shown, BrandModel)) from None
    problems = []
    if not (folder / config.logo.src).is_file():
        problems.append(Problem(shown, f"logo not found: {config.logo.src}", line=doc.line_of(("logo", "src")), field="logo.src"))
    c = config.colours
    for fg, bg in TEXT_PAIRS:
        ratio = contrast_ratio(getattr(c, fg), getattr(c, bg))
        if ratio < 4.5:
            problems.append(
                Problem(
                    shown,
                    f"text in {fg} {getattr(c, fg)} on {bg} {getattr(c, bg)} has contrast {ratio:.2f}:1; WCAG AA needs 4.5:1",
                    line=doc.line_of(("colours", fg)),
                    field=f"colours.{fg}",
                )
            )
    if problems:
        raise BrandError(problems)
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return Brand(folder=folder.resolve(), config=config, sha256=digest.hexdigest(), lines=doc.lines)
