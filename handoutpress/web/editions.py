"""The edition pages behind the QR codes: ``out/web/<language>/<id>/<edition>/``.

Every printout names its edition in its QR code and its printed address (see
`handoutpress.render.qr`), so a patient who scans a page printed long ago lands
on the page of exactly that text. That page says plainly where the printout
stands:

- **current**: this is the edition the clinic hands out today; an ordinary
  link leads to the handout's page (no refresh trick);
- **replaced**: the handout has changed since; the page says when, by which
  edition, and links to the current page, and never shows the old advice;
- **withdrawn**: the handout's YAML is gone; the page says so and links to the
  list of handouts.

The build knows every edition a handout has had from three places, merged:

1. the record of earlier builds, ``out/web/editions.json`` (what was replaced,
   when and by which edition), so history survives on a machine without git;
2. the edition folders already in ``out/web/``: an edition page once written is
   never deleted;
3. the git history of the handouts folder when the project is a git checkout:
   every committed version is loaded with the project's own strict loader (a
   version that no longer loads is skipped, with a note in the record), and
   the date of the commit that changed an edition is the day it was replaced.

What an earlier build recorded is never rewritten: a date first seen by a build
stays that date. An edition the record and git know nothing about the end of
was replaced on the day of this build (``--today``). Everything is written with
`WebSite.write`: atomically, and only when its bytes changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from babel.dates import format_date
from pydantic import ValidationError

from handoutpress.errors import ContentError
from handoutpress.languages import LANGUAGE_RE
from handoutpress.load.content import ID_RE, Handout, HandoutFile, ReviewDate, display_path
from handoutpress.load.schema import translate_errors
from handoutpress.load.yamlsafe import YamlProblems, read_yaml
from handoutpress.render.html import month_year
from handoutpress.web.site import PAGE, STYLESHEET, WebSite

RECORD = "editions.json"  # under out/web/
RECORD_FORMAT = 1
TEMPLATE = "web/edition.html"
EDITION_RE = re.compile(r"^(\d{4})\.(\d{2})-[0-9a-f]{6}$")
GIT_TIMEOUT = 60.0  # seconds for one git command; a slower git is treated as no git

CURRENT, REPLACED, WITHDRAWN = "current", "replaced", "withdrawn"


# ---------------------------------------------------------------------------
# What is known of each handout's editions


@dataclass
class Edition:
    """One edition of a handout and, once it has been replaced, when and by which."""

    name: str  # e.g. 2025.02-1a2b3c
    title: str | None = None  # the handout's title in this edition, when known
    replaced: date | None = None
    replaced_by: str | None = None

    def as_json(self) -> dict:
        return {
            "title": self.title,
            "replaced": self.replaced.isoformat() if self.replaced else None,
            "replaced_by": self.replaced_by,
        }


@dataclass
class History:
    """Every edition one handout (one id in one language) has had."""

    language: str
    handout_id: str
    source: str  # the YAML file, relative to the project, e.g. handouts/en/x.yaml
    editions: dict[str, Edition] = field(default_factory=dict)
    current: str | None = None  # the edition handed out today; None once withdrawn
    withdrawn: date | None = None
    deleted_in_git: date | None = None  # the day a commit removed the YAML

    @property
    def key(self) -> str:
        return f"{self.language}/{self.handout_id}"

    def edition(self, name: str, title: str | None = None) -> Edition:
        """The entry for ``name``, made when first seen; a title fills in one not yet known."""
        entry = self.editions.setdefault(name, Edition(name))
        if entry.title is None and title:
            entry.title = title
        return entry

    def replace(self, old: str, new: str, day: date) -> None:
        """``old`` gave way to ``new`` on ``day``, unless an earlier record already says when."""
        entry = self.edition(old)
        if entry.replaced is None:
            entry.replaced, entry.replaced_by = day, new
        self.edition(new)

    def as_json(self) -> dict:
        return {
            "source": self.source,
            "current": self.current,
            "withdrawn": self.withdrawn.isoformat() if self.withdrawn else None,
            "editions": {name: self.editions[name].as_json() for name in sorted(self.editions)},
        }


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_record(root: Path) -> tuple[dict[str, History], str | None]:
    """The histories an earlier build recorded in ``out/web/editions.json``, and the git commit it had read.

    A missing or unreadable record is an empty one: the edition folders and git
    still give the editions, and nothing is ever deleted because of it.
    """
    try:
        data = json.loads((root / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, None
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT:
        return {}, None
    histories: dict[str, History] = {}
    for key, item in (data.get("handouts") or {}).items():
        language, _, handout_id = key.partition("/")
        if not (isinstance(item, dict) and LANGUAGE_RE.match(language) and ID_RE.match(handout_id)):
            continue
        history = History(language, handout_id, str(item.get("source") or f"handouts/{key}.yaml"))
        history.current = item.get("current") if isinstance(item.get("current"), str) else None
        history.withdrawn = _day(item.get("withdrawn"))
        for name, entry in (item.get("editions") or {}).items():
            if EDITION_RE.match(name) and isinstance(entry, dict):
                edition = history.edition(name, entry.get("title") if isinstance(entry.get("title"), str) else None)
                edition.replaced = _day(entry.get("replaced"))
                by = entry.get("replaced_by")
                edition.replaced_by = by if isinstance(by, str) and EDITION_RE.match(by) else None
        histories[key] = history
    head = data.get("git_head")
    return histories, head if isinstance(head, str) else None


def editions_on_disk(root: Path) -> dict[str, set[str]]:
    """The edition pages already in ``out/web/``, by ``<language>/<id>``."""
    found: dict[str, set[str]] = {}
    for page in root.glob(f"*/*/*/{PAGE}"):
        edition, handout_id, language = page.parent.name, page.parent.parent.name, page.parent.parent.parent.name
        if EDITION_RE.match(edition) and ID_RE.match(handout_id) and LANGUAGE_RE.match(language):
            found.setdefault(f"{language}/{handout_id}", set()).add(edition)
    return found


# ---------------------------------------------------------------------------
# The git history of the handouts folder


@dataclass(frozen=True)
class Version:
    """One committed version of one handout file: the day, and its edition (None: the file was deleted)."""

    day: date
    edition: str | None
    title: str | None = None


@dataclass
class GitHistory:
    """What git knows of the handouts: each file's versions, oldest first, and the versions that did not load."""

    head: str | None = None  # None: not a git checkout, or no git
    versions: dict[str, list[Version]] = field(default_factory=dict)  # by <language>/<id>
    notes: list[str] = field(default_factory=list)


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    """Run git; its output, or None when git is missing, fails or takes too long (all normal)."""
    try:
        run = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout if run.returncode == 0 else None


def git_head(project_root: Path) -> tuple[Path, str] | None:
    """The checkout's top folder and its HEAD commit, or None outside a git checkout."""
    out = _git(project_root, "rev-parse", "--show-toplevel", "HEAD")
    if out is None:
        return None
    lines = out.decode("utf-8", "replace").splitlines()
    return (Path(lines[0]), lines[1]) if len(lines) == 2 else None


def _changes(top: Path, folder: str) -> list[tuple[str, date, str, str]]:
    """Every change to a file under ``folder``, oldest first: (commit, day, status letter, path)."""
    out = _git(top, "log", "--reverse", "--no-renames", "--format=%x01%H %cs", "--name-status", "--", folder)
    changes: list[tuple[str, date, str, str]] = []
    commit, day = "", date.min
    for line in (out or b"").decode("utf-8", "replace").splitlines():
        if line.startswith("\x01"):
            commit, _, stamp = line[1:].partition(" ")
            day = _day(stamp) or date.min
        elif "\t" in line and commit:
            status, _, path = line.partition("\t")
            changes.append((commit, day, status[:1], path))
    return changes


def _blobs(top: Path, names: list[str]) -> list[bytes | None]:
    """The bytes of each ``<commit>:<path>``, read by one ``git cat-file --batch``."""
    if not names:
        return []
    out = _git(top, "cat-file", "--batch", stdin="".join(f"{n}\n" for n in names).encode())
    blobs: list[bytes | None] = []
    at = 0
    for _ in names:
        if out is None or at >= len(out):
            blobs.append(None)
            continue
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            blobs.append(out[at : at + size])
            at += size + 1  # the blob, then a newline
        else:
            blobs.append(None)  # "<name> missing"
    return blobs


def load_version(raw: bytes, language: str, handout_id: str, shown: str, scratch: Path) -> HandoutFile:
    """A committed version of a handout, loaded with the project's strict loader.

    Raises `ContentError` with the loader's one-line problems when that version
    does not load today (a key since renamed, a field since required).
    """
    path = scratch / language / f"{handout_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    try:
        doc = read_yaml(path, shown)
        content = Handout.model_validate(doc.data)
    except YamlProblems as exc:
        raise ContentError(exc.problems) from None
    except ValidationError as exc:
        raise ContentError(translate_errors(exc, doc, shown, Handout)) from None
    return HandoutFile(id=handout_id, language=language, path=shown, source=path, content=content, source_sha256="")


def read_git_history(project_root: Path, handouts: Path) -> GitHistory:
    """The committed versions of every handout file ever under ``handouts``, loaded (no network)."""
    found = git_head(project_root)
    if found is None:
        return GitHistory()
    top, head = found
    try:
        folder = handouts.resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return GitHistory(head=head)
    history = GitHistory(head=head)
    changes = []
    for commit, day, status, path in _changes(top, folder):
        parts = path.rsplit("/", 2)
        if len(parts) == 3 and parts[2].endswith(".yaml") and LANGUAGE_RE.match(parts[1]) and ID_RE.match(parts[2][:-5]):
            changes.append((commit, day, status, path, parts[1], parts[2][:-5]))
    wanted = [f"{commit}:{path}" for commit, _, status, path, _, _ in changes if status != "D"]
    blobs = iter(_blobs(top, wanted))
    with tempfile.TemporaryDirectory(prefix="handoutpress-history-") as scratch:
        for commit, day, status, path, language, handout_id in changes:
            versions = history.versions.setdefault(f"{language}/{handout_id}", [])
            if status == "D":
                versions.append(Version(day, None))
                continue
            raw = next(blobs)
            shown = f"{path} at {commit[:7]}"
            if raw is None:
                history.notes.append(f"{shown}: skipped, git could not read it")
                continue
            try:
                loaded = load_version(raw, language, handout_id, shown, Path(scratch))
            except ContentError as exc:
                history.notes.append(f"{exc.problems[0]} (skipped: this old version no longer loads)")
                continue
            versions.append(Version(day, loaded.edition, loaded.content.title))
    return history


def apply_versions(history: History, versions: list[Version]) -> None:
    """Replay a file's committed versions: each change of edition is a replacement on that commit's day."""
    previous: str | None = None
    for version in versions:
        if version.edition is None:
            history.deleted_in_git = version.day  # the last edition stays the one a later version replaces
            continue
        history.deleted_in_git = None
        history.edition(version.edition, version.title)
        if previous is not None and version.edition != previous:
            history.replace(previous, version.edition, version.day)
        previous = version.edition


# ---------------------------------------------------------------------------
# One build's view: every history merged, then today's state applied


def known_histories(site: WebSite) -> tuple[dict[str, History], str | None, list[str]]:
    """Every handout's history from the record, the edition folders and git (see the module docstring).

    Returns the histories by ``<language>/<id>``, the git commit they include
    (None outside git) and the notes on committed versions that did not load.
    Git is read again only when HEAD has moved since the record was written.
    """
    project = site.renderer.project
    histories, recorded_head = read_record(site.root)
    notes = _recorded_notes(site.root)
    for key, names in sorted(editions_on_disk(site.root).items()):
        history = histories.setdefault(key, _new_history(key, site))
        for name in sorted(names):
            history.edition(name)
    found = git_head(project.root)
    head = found[1] if found else None
    if head is not None and head != recorded_head:
        git = read_git_history(project.root, project.handouts)
        for key, versions in sorted(git.versions.items()):
            apply_versions(histories.setdefault(key, _new_history(key, site)), versions)
        notes = git.notes
    return histories, head, notes


def _new_history(key: str, site: WebSite) -> History:
    language, _, handout_id = key.partition("/")
    project = site.renderer.project
    source = display_path(project.handouts / language / f"{handout_id}.yaml", project.root)
    return History(language, handout_id, source)


def _recorded_notes(root: Path) -> list[str]:
    try:
        notes = json.loads((root / RECORD).read_text(encoding="utf-8")).get("notes")
    except (OSError, ValueError, AttributeError):
        return []
    return [n for n in notes if isinstance(n, str)] if isinstance(notes, list) else []


def settle(histories: dict[str, History], site: WebSite) -> list[str]:
    """Apply this build's handouts to the histories; return the keys whose pages this build writes.

    A handout of this build: its edition is current, every other edition
    without an end was replaced by it today. A handout whose YAML is gone:
    withdrawn (on the day git removed it, else today). A handout outside this
    build whose YAML is still there (another PATH, or content that fails now)
    is left exactly as it was, like its PDFs.
    """
    project_root = site.renderer.project.root
    built = {f"{item.language}/{item.id}": item for item in site.handouts}
    keys = []
    for key, item in sorted(built.items()):
        history = histories.setdefault(key, History(item.language, item.id, item.path))
        history.source, history.current, history.withdrawn = item.path, item.edition, None
        current = history.edition(item.edition, item.content.title)
        current.title, current.replaced, current.replaced_by = item.content.title, None, None
        for other in history.editions.values():
            if other.name != item.edition and other.replaced is None:
                other.replaced, other.replaced_by = site.today, item.edition
        keys.append(key)
    for key, history in sorted(histories.items()):
        if key in built or (project_root / history.source).is_file():
            continue
        history.current = None
        history.withdrawn = history.withdrawn or history.deleted_in_git or site.today
        keys.append(key)
    return sorted(keys)


# ---------------------------------------------------------------------------
# The pages


def reviewed_month(edition: str, language: str) -> str:
    """The review month an edition's name starts with, as the reader's locale writes it ("February 2025")."""
    m = EDITION_RE.match(edition)
    assert m is not None, edition
    return month_year(ReviewDate(int(m[1]), int(m[2])), language)


def status_of(history: History, entry: Edition) -> str:
    """current, replaced or withdrawn: what the page of this edition must say first."""
    if entry.name == history.current:
        return CURRENT
    return REPLACED if entry.replaced else WITHDRAWN


def long_date(day: date, language: str) -> str:
    """ "March 5, 2026", "5 de marzo de 2026": a day as the reader's locale writes it."""
    return format_date(day, "long", locale=language.replace("-", "_"))


def notice(site: WebSite, history: History, entry: Edition, status: str) -> dict[str, str | None]:
    """What the page says of its printout, in the handout's language: heading, text, and where to go next."""
    language = history.language
    labels = site.renderer.labels.of(language)
    words = {"edition": entry.name, "reviewed": reviewed_month(entry.name, language), "clinic": site.brand.config.name}
    if status == REPLACED and entry.replaced:
        words.update(date=long_date(entry.replaced, language), by=entry.replaced_by or "")
    withdrawn = None
    if history.withdrawn:
        withdrawn = labels["edition_withdrawn_text"].format(**{**words, "date": long_date(history.withdrawn, language)})
    newest = history.current
    current_is = None
    if status == REPLACED and newest and newest != entry.replaced_by:  # replaced more than once since
        current_is = labels["edition_current_is"].format(edition=newest, reviewed=reviewed_month(newest, language))
    if newest:
        link_text = labels["edition_current_link" if status == CURRENT else "edition_replaced_link"]
    else:
        link_text = labels["edition_withdrawn_link"]
    return {
        "heading": labels[f"edition_{status}_heading"].format(**words),
        "text": withdrawn if status == WITHDRAWN else labels[f"edition_{status}_text"].format(**words),
        "withdrawn_since": withdrawn if status == REPLACED else None,
        "current_is": current_is,
        "link_text": link_text,
    }


def edition_context(site: WebSite, history: History, entry: Edition) -> dict:
    """The template values of one edition page (see templates/web/edition.html)."""
    language = history.language
    labels = site.renderer.labels.of(language)
    status = status_of(history, entry)
    said = notice(site, history, entry, status)
    page = site.address(language, history.handout_id, entry.name)
    newest = history.current
    title = entry.title or (history.editions[newest].title if newest else None) or history.handout_id
    return {
        **said,
        "language": language,
        "labels": labels,
        "brand": site.brand.config,
        "wording": site.brand.wording(language),
        "status": status,
        "title": title,
        "doc_title": labels["edition_page_title"].format(title=title, edition=entry.name),
        "edition_line": labels["edition"].format(edition=entry.name),
        # The current page while there is one; the list of handouts once it is withdrawn.
        "link": site.page_link(page, language, history.handout_id) if newest else site.link(page, PAGE),
        # What the site's frame (templates/web/_frame.html) needs, linked from this page.
        "description": said["text"],
        "stylesheet": site.link(page, STYLESHEET),
        "logo": site.link(page, site.logo),
        "home": site.link(page, PAGE),
        "alternates": [],  # an edition page is in its handout's language only
        "other_languages": [],
    }


def render_edition(site: WebSite, history: History, entry: Edition) -> bytes:
    """The HTML of one edition page: autoescaped, no script, relative links only."""
    labels = site.renderer.labels.of(history.language)
    template = site.renderer.environment(labels["quotes"]).get_template(TEMPLATE)
    return template.render(edition_context(site, history, entry)).encode("utf-8")


def write_record(site: WebSite, histories: dict[str, History], head: str | None, notes: list[str]) -> bool:
    """Write ``out/web/editions.json`` (atomically, and only when it changed)."""
    data = {
        "format": RECORD_FORMAT,
        "git_head": head,
        "handouts": {key: histories[key].as_json() for key in sorted(histories)},
        "notes": sorted(set(notes)),
    }
    text = json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    return site.write(site.root / RECORD, text.encode("utf-8"))


def publish_editions(site: WebSite) -> list[Path]:
    """Write the page of every edition of every handout of this build, and of every withdrawn one.

    Called after the current pages are written. Returns the pages it wrote
    (an unchanged page is not written again, so a build that changed nothing
    returns none). No page is ever deleted; the record, ``out/web/editions.json``,
    is rewritten when it changed.
    """
    histories, head, notes = known_histories(site)
    written = []
    for key in settle(histories, site):
        history = histories[key]
        for name in sorted(history.editions):
            path = site.path_of(history.language, history.handout_id, name)
            if site.write(path, render_edition(site, history, history.editions[name])):
                written.append(path)
    write_record(site, histories, head, notes)
    return written
