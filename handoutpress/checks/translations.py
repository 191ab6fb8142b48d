"""Translations tracked against their source: current, stale or orphan.

A translation (``handouts/es/<id>.yaml``) carries a ``translation:`` block that
records which edition of its source (``handouts/en/<id>.yaml``) it was made
from, and a fingerprint of that edition: one short digest per piece of text
(``title``, ``sections[2].body``, ``faq[1].answer`` ...). Comparing the recorded
fingerprint with the source as it is now says not only *that* the source
changed but *what* changed, so the translator knows which parts to redo::

    handouts/es/x.yaml:212: translation: stale translation of handouts/en/x.yaml:
    the source changed since edition 2025.02-1a2b3c (now 2025.02-9f8e7d):
    sections[2].body changed (section 'Possible benefits of using both'), faq[5] added

`generate.py translation PATH --write` refreshes the block once the text is
brought up to date. Review dates are not part of the fingerprint: each
language has its own review, and re-reviewing the English without changing a
word does not make the Spanish wrong.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from handoutpress.errors import ContentError, Problem
from handoutpress.languages import LANGUAGE_RE
from handoutpress.load.content import Handout, HandoutFile, SubSection, display_path, load_handout

SOURCE, CURRENT, STALE, ORPHAN = "source", "current", "stale", "orphan"
DIGEST_LENGTH = 8
# How many changed parts a message lists before it says "and N more".
SHOWN_CHANGES = 8


# ---------------------------------------------------------------------------
# Fingerprints


def _digest(value: Any) -> str:
    canon = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canon.encode()).hexdigest()[:DIGEST_LENGTH]


_SECTION_PARTS = ("heading", "body", "table", "callout", "image")


def fingerprint(handout: Handout) -> dict[str, str]:
    """One digest per translatable piece of ``handout``, keyed by its field path, in reading order."""
    data = handout.model_dump(mode="json")
    out: dict[str, str] = {"title": _digest(data["title"])}
    if data.get("subtitle"):
        out["subtitle"] = _digest(data["subtitle"])
    out["kind"] = _digest(data["kind"])
    if data.get("topics"):
        out["topics"] = _digest(data["topics"])
    for i, text in enumerate(data.get("key_takeaways") or []):
        out[f"key_takeaways[{i}]"] = _digest(text)
    for i, section in enumerate(data.get("sections") or []):
        _section(out, f"sections[{i}]", section)
        for j, sub in enumerate(section.get("sections") or []):
            _section(out, f"sections[{i}].sections[{j}]", sub)
    for i, item in enumerate(data.get("faq") or []):
        out[f"faq[{i}].question"] = _digest(item["question"])
        out[f"faq[{i}].answer"] = _digest(item["answer"])
    for i, ref in enumerate(data.get("references") or []):
        out[f"references[{i}]"] = _digest(ref)
    if data.get("related"):
        out["related"] = _digest(data["related"])
    return out


def _section(out: dict[str, str], path: str, section: dict) -> None:
    for part in _SECTION_PARTS:
        if section.get(part) is not None:
            out[f"{path}.{part}"] = _digest(section[part])


_INDEXED = re.compile(r"^(.*?)\[(\d+)\](.*)$")


def _item_of(key: str) -> str:
    """``faq[3].answer`` -> ``faq[3]``; ``sections[1].sections[0].body`` -> ``sections[1].sections[0]``."""
    parts = key.split(".")
    while parts and not parts[-1].endswith("]"):
        parts.pop()
    return ".".join(parts) or key


def describe_changes(recorded: dict[str, str], current: dict[str, str], source: Handout | None = None) -> list[str]:
    """What changed between two fingerprints, in words an editor can act on.

    A whole item that appeared or disappeared is named once (``faq[5] added``);
    a changed piece is named by its field (``sections[2].body changed``), with
    the section's heading when the source is at hand.
    """
    changes: list[str] = []
    recorded_items = {_item_of(k) for k in recorded}
    current_items = {_item_of(k) for k in current}
    said: set[str] = set()
    for key, value in current.items():
        item = _item_of(key)
        if item != key and item not in recorded_items:
            if not any(item == o or item.startswith(o + ".") for o in said):
                said.add(item)
                changes.append(f"{item} added{_heading_hint(item, source)}")
        elif key not in recorded:
            changes.append(f"{key} added{_heading_hint(key, source)}")
        elif recorded[key] != value:
            changes.append(f"{key} changed{_heading_hint(key, source)}")
    for key in recorded:
        item = _item_of(key)
        if item != key and item not in current_items:
            if not any(item == o or item.startswith(o + ".") for o in said):
                said.add(item)
                changes.append(f"{item} removed")
        elif key not in current:
            changes.append(f"{key} removed")
    return changes


def _heading_hint(key: str, source: Handout | None) -> str:
    if source is None or not key.startswith("sections["):
        return ""
    m = re.match(r"^sections\[(\d+)\](?:\.sections\[(\d+)\])?", key)
    if m is None:
        return ""
    try:
        top = source.sections[int(m[1])]
        section: SubSection = top if m[2] is None else top.sections[int(m[2])]
    except IndexError:
        return ""
    return f" (section {section.heading!r})"


def _summary(changes: list[str]) -> str:
    shown = changes[:SHOWN_CHANGES]
    more = len(changes) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------
# Status of each handout


@dataclass(frozen=True)
class TranslationReport:
    """The translation status of every handout looked at, and the problems found."""

    status: dict[str, str]  # handout path -> source | current | stale | orphan
    problems: list[Problem]


def source_path(item: HandoutFile, root: Path) -> Path:
    """Where the source of translation ``item`` lives: ``handouts/<source>/<id>.yaml`` beside it."""
    assert item.content.translation is not None
    return item.source.parent.parent / item.content.translation.source / item.source.name


class _Library:
    """Handouts already loaded, plus any other file loaded on demand (once); each folder is
    resolved and listed once per run."""

    def __init__(self, handouts: Iterable[HandoutFile], root: Path):
        self.root = root
        self._folders: dict[Path, Path] = {}  # folder -> folder.resolve()
        self._languages: dict[Path, list[Path]] = {}  # handouts folder -> its language folders, sorted
        self.by_file: dict[Path, HandoutFile | None] = {self.key(h.source): h for h in handouts}

    def key(self, path: Path) -> Path:
        """``path.resolve()``, with its folder resolved once (a file that is a link itself is resolved whole)."""
        if path.name in ("", ".", "..") or path.is_symlink():
            return path.resolve()
        folder = path.parent
        if folder not in self._folders:
            self._folders[folder] = folder.resolve()
        return self._folders[folder] / path.name

    def siblings(self, item: HandoutFile) -> list[Path]:
        """Files with the same id in the other language folders next to ``item``'s."""
        folder = item.source.parent.parent
        if folder not in self._languages:
            self._languages[folder] = sorted(p for p in folder.iterdir() if p.is_dir() and LANGUAGE_RE.match(p.name))
        out = []
        for lang_dir in self._languages[folder]:
            if lang_dir != item.source.parent:
                for suffix in (".yaml", ".yml"):
                    candidate = lang_dir / f"{item.id}{suffix}"
                    if candidate.is_file():
                        out.append(candidate)
        return out

    def get(self, path: Path) -> HandoutFile | None:
        key = self.key(path)
        if key not in self.by_file:
            try:
                self.by_file[key] = load_handout(path, self.root)
            except ContentError:
                self.by_file[key] = None
        return self.by_file[key]


def check_translations(handouts: Iterable[HandoutFile], root: Path) -> TranslationReport:
    """Status and problems for ``handouts`` and for the translations of them found on disk.

    A source given alone still has its translations checked, so an editor who
    changes an English handout learns at once which Spanish one is now stale.
    """
    handouts = list(handouts)
    library = _Library(handouts, root)
    todo: dict[Path, HandoutFile] = {}
    for h in handouts:
        todo[library.key(h.source)] = h
        for sibling in library.siblings(h):
            other = library.get(sibling)
            if other is not None and other.content.translation is not None:
                todo.setdefault(library.key(sibling), other)
    status: dict[str, str] = {}
    problems: list[Problem] = []
    for item in todo.values():
        state, found = translation_status(item, library)
        status[item.path] = state
        problems.extend(found)
    return TranslationReport(status, problems)


def translation_status(item: HandoutFile, library: _Library) -> tuple[str, list[Problem]]:
    """The status of one handout and the problems that explain it."""
    meta = item.content.translation
    if meta is None:
        return SOURCE, _unmarked_translation(item, library)
    field = "translation"
    line = item.line_of("translation")
    src = source_path(item, library.root)
    src_shown = display_path(src, library.root)
    if meta.source == item.language:
        return ORPHAN, [
            Problem(
                item.path,
                f"translation.source is this file's own language ({meta.source!r})",
                line=item.line_of("translation", "source"),
                field="translation.source",
            )
        ]
    if not src.is_file():
        return ORPHAN, [
            Problem(
                item.path,
                f"orphan translation: its source {src_shown} no longer exists (translated from edition "
                f"{meta.source_edition}); remove this file or restore the source",
                line=line,
                field=field,
            )
        ]
    source = library.get(src)
    if source is None:
        return STALE, [
            Problem(
                item.path,
                f"cannot confirm this translation is current: its source {src_shown} has errors (fix them, then check again)",
                line=line,
                field=field,
                severity="warning",
            )
        ]
    if source.content.translation is not None:
        return ORPHAN, [
            Problem(
                item.path,
                f"translation of a translation: {src_shown} is itself translated from "
                f"{source.content.translation.source!r}; translate from the original",
                line=item.line_of("translation", "source"),
                field="translation.source",
            )
        ]
    problems = _shape_problems(item, meta.source_fingerprint, src_shown)
    changes = describe_changes(meta.source_fingerprint, fingerprint(source.content), source.content)
    if changes:
        problems.append(
            Problem(
                item.path,
                f"stale translation of {src_shown}: the source changed since edition {meta.source_edition} "
                f"(now {source.edition}): {_summary(changes)}; update the translation, then run "
                f"`generate.py translation {item.path} --write`",
                line=line,
                field=field,
            )
        )
        return STALE, problems
    return CURRENT, problems


def _shape_problems(item: HandoutFile, recorded: dict[str, str], src_shown: str) -> list[Problem]:
    """A translation must have the same parts as the edition it was made from: nothing dropped, nothing added."""
    own = fingerprint(item.content)
    parts = [f"{k} missing" for k in _collapse(k for k in recorded if k not in own)]
    parts += [f"{k} not in the source" for k in _collapse(k for k in own if k not in recorded)]
    if not parts:
        return []
    return [
        Problem(
            item.path,
            f"translation does not follow the shape of its source {src_shown}: {_summary(parts)}",
            line=item.line_of("translation"),
            field="translation",
        )
    ]


def _collapse(keys: Iterable[str]) -> list[str]:
    """Field paths, with the parts of one item named once by the item (``faq[4]``)."""
    out: list[str] = []
    for key in keys:
        name = _item_of(key)
        if not any(name == o or name.startswith(o + ".") for o in out):
            out.append(name)
    return out


def _unmarked_translation(item: HandoutFile, library: _Library) -> list[Problem]:
    """Same id in another language, but no `translation:` block on either side: which is the source?"""
    siblings = [s for s in library.siblings(item) if s.parent.name < item.language]
    for sibling in siblings:
        other = library.get(sibling)
        if other is not None and other.content.translation is None:
            return [
                Problem(
                    item.path,
                    f"same id as {other.path} but no translation: block; a translation records its source "
                    f"(run `generate.py translation {item.path} --source {other.language} --write`)",
                    line=1,
                    field="translation",
                )
            ]
    return []


# ---------------------------------------------------------------------------
# Writing the block


def translation_block(source: HandoutFile, translated: date, translator: str | None) -> str:
    """The ``translation:`` block (YAML text) that records ``source`` as it is now."""
    lines = [
        "translation:",
        f"  source: {source.language}",
        f"  source_edition: {json.dumps(source.edition)}",
        f"  translated: {translated.year:04d}-{translated.month:02d}",
    ]
    if translator:
        lines.append(f"  translator: {json.dumps(translator, ensure_ascii=False)}")
    lines.append("  # One digest per part of the source edition, so `check` can say what changed.")
    lines.append("  source_fingerprint:")
    for key, value in fingerprint(source.content).items():
        lines.append(f'    "{key}": "{value}"')
    return "\n".join(lines) + "\n"


_TOP_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s*:")


def replace_block(text: str, block: str) -> str:
    """``text`` with its top-level ``translation:`` block replaced by ``block`` (or appended)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("translation:")), None)
    if start is None:
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + block
    end = start + 1
    while end < len(lines) and not _TOP_KEY.match(lines[end]):
        end += 1
    # Comments and blank lines just above the next key belong to it.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def record_translation(
    path: Path, root: Path, *, today: date, translator: str | None = None, source: str | None = None, write: bool = False
) -> str:
    """The up-to-date ``translation:`` block for translation ``path``; with ``write``, put it in the file.

    Run this after bringing a translation up to date with its source (or when
    first translating it, with ``source``): it records the source's edition and
    fingerprint as they are now, so `check` reports the next change.
    """
    shown = display_path(path, root)
    if not path.is_file():
        raise ContentError(Problem(shown, "no such file"))
    item = load_handout(path, root)
    meta = item.content.translation
    language = source or (meta.source if meta else None)
    if language is None:
        raise ContentError(
            Problem(
                shown, "no translation: block yet; say which language it was translated from with --source", field="translation"
            )
        )
    src = path.parent.parent / language / path.name
    if not src.is_file():
        raise ContentError(Problem(shown, f"its source {display_path(src, root)} does not exist", field="translation.source"))
    original = load_handout(src, root)
    if original.content.translation is not None:
        raise ContentError(
            Problem(shown, f"{original.path} is itself a translation; translate from the original", field="translation.source")
        )
    problems = _shape_problems(item, fingerprint(original.content), original.path)
    if problems:
        raise ContentError(problems)
    block = translation_block(original, today, translator or (meta.translator if meta else None))
    if write:
        from handoutpress.files import atomic_write

        atomic_write(path, replace_block(path.read_text(encoding="utf-8"), block).encode("utf-8"))
    return block
