"""Stage 5, publish: outputs reach ``out/`` whole or not at all.

Every file is written with `files.atomic_write` (a temporary file in its
destination folder, flushed and renamed into place), so a reader, or a build
killed halfway, only ever sees the old complete file or the new complete file.
The manifest is written last and lists what ``out/`` holds.

Where things live in ``out/`` is decided here too: the manifest, the shape of
its entries, and the thumbnails beside the PDFs (``thumbs/<sha256 of the
PDF>.png``), named by the PDF's digest so the batch and the front desk agree
on them without asking each other.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.files import atomic_write, sha256

if TYPE_CHECKING:
    from handoutpress.load.content import HandoutFile

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
THUMBS = "thumbs"
WEB_VARIANT = "web"  # the manifest's variant of a web edition page, web/<language>/<id>/index.html

_SHA256 = re.compile(r"[0-9a-f]{64}")

def patient_file_name(title: str, suffix: str = "") -> str:
    """A file name a patient understands: the title's words joined by hyphens.

    "Ketamine and Your Other Medications" -> "Ketamine-and-Your-Other-Medications.pdf".
    Accents are folded so the name survives any email client or file system.
    """
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.findall(r"[A-Za-z0-9]+", folded)
    stem = "-".join(words)[:80].rstrip("-") or "Handout"
    if suffix:
        stem = f"{stem}-{suffix}"
    return f"{stem}.pdf"


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of ``out`` or an empty one; a damaged manifest counts as empty."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"version": MANIFEST_VERSION, "outputs": []}
    if not isinstance(data, dict) or not isinstance(data.get("outputs"), list):
        return {"version": MANIFEST_VERSION, "outputs": []}
    return data


def write_manifest(out: Path, outputs: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    manifest = {"version": MANIFEST_VERSION, **(extra or {}), "outputs": sorted(outputs, key=lambda o: o["path"])}
    atomic_write(out / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def manifest_entry(
    item: HandoutFile,
    *,
    path: str,
    variant: str,
    inputs_sha256: str,
    pages: int,
    size: int,
    digest: str,
    review_status: str,
    reading: Mapping[str, Any],
) -> dict[str, Any]:
    """The manifest's entry for one output: what it is, what made it, its review and reading facts,
    and its clinical codes (``{"icd10cm": ["F33"], ...}``, only the systems it has; ``{}`` when none).

    Codes do not print, so they leave the PDF and its inputs key alone: the build
    makes a fresh entry from the loaded handout for an unchanged output too, and
    a change of codes alone reaches the manifest without typesetting anything.
    A manifest written before codes existed has entries without ``codes``; readers
    take a missing field as no codes (`entry_codes`).
    """
    review = item.content.review
    return {
        "path": path,
        "id": item.id,
        "title": item.content.title,
        "language": item.language,
        "kind": item.content.kind,
        "variant": variant,
        "topics": list(item.content.topics),
        "pages": pages,
        "bytes": size,
        "sha256": digest,
        "inputs_sha256": inputs_sha256,
        "source": item.path,
        "reviewed": str(review.reviewed),
        "next_review": str(review.next_review),
        "review_status": review_status,
        "edition": item.edition,
        "codes": item.codes.as_json(),  # what an EHR selects it by; a translation's are its source's
        "translation_of": item.content.translation.source if item.content.translation else None,  # its source's language
        **reading,
    }


def inherit_source_codes(entries: Mapping[str, dict[str, Any]], handouts: Iterable[HandoutFile]) -> None:
    """Give every translation's entry the codes its source, loaded in this build, has now.

    A build of some files only (``build handouts/en/x.yaml``) keeps the entries of
    the others as they were; a translation's codes are its source's, so they follow it.
    """
    codes = {(h.language, h.id): h.codes.as_json() for h in handouts if h.content.translation is None}
    for entry in entries.values():
        source = (entry.get("translation_of"), entry.get("id"))
        if source in codes:
            entry["codes"] = codes[source]


def entry_codes(entry: Mapping[str, Any]) -> dict[str, list[str]]:
    """A manifest entry's codes by system: ``{}`` for an entry without any (or an older manifest's)."""
    codes = entry.get("codes")
    if not isinstance(codes, Mapping):
        return {}
    return {str(s): [str(c) for c in v] for s, v in codes.items() if isinstance(v, list) and v}


def web_entry(pdf_entry: Mapping[str, Any], *, path: str, size: int, digest: str) -> dict[str, Any]:
    """The manifest's entry for a handout's web page, from the entry of its standard PDF (or FAQ sheet).

    The same fields where they apply: what it is, its review and reading facts
    and its edition; a page has no page count and is keyed by its own bytes.
    """
    entry = {k: v for k, v in pdf_entry.items() if k not in ("pages", "inputs_sha256", "stale")}
    return {**entry, "path": path, "variant": WEB_VARIANT, "bytes": size, "sha256": digest}


def is_web_page(rel: str) -> bool:
    """Whether ``rel`` names a handout's current web page, ``web/<language>/<id>/index.html``."""
    parts = rel.split("/")
    return len(parts) == 4 and parts[0] == "web" and parts[3] == "index.html" and ".." not in parts


def is_intact(path: Path, entry: Mapping[str, Any]) -> bool:
    """Whether the file at ``path`` is still the one ``entry`` describes (its size, then its digest)."""
    try:
        return path.stat().st_size == entry.get("bytes") and sha256(path.read_bytes()) == entry.get("sha256")
    except OSError:
        return False


def all_intact(out: Path, entries: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether every output the manifest lists is in ``out`` as listed, and none is stale."""
    return bool(entries) and all(not e.get("stale") and is_intact(out / path, e) for path, e in entries.items())


def is_owned(out: Path, rel: str) -> bool:
    """Whether ``rel`` names a PDF or a handout's current web page inside ``out`` (never the
    manifest): the only files a build may delete. Edition pages are never deleted."""
    target = (out / rel).resolve()
    if not target.is_relative_to(out.resolve()) or target.name == MANIFEST:
        return False
    return target.suffix == ".pdf" or is_web_page(target.relative_to(out.resolve()).as_posix())


def is_sha256(text: str) -> bool:
    """Whether ``text`` looks like a SHA-256 hex digest (a manifest's ``sha256`` field)."""
    return _SHA256.fullmatch(text) is not None


def thumbnail_path(digest: str) -> str:
    """Where the thumbnail of the PDF with this sha256 lives, relative to out/."""
    return f"{THUMBS}/{digest}.png"


def is_thumbnail_name(name: str) -> bool:
    """Whether a file in ``out/thumbs/`` is named like a thumbnail (the only ones ever deleted there)."""
    stem, dot, suffix = name.partition(".")
    return dot == "." and suffix == "png" and is_sha256(stem)
