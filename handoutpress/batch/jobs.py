"""What a build is asked to do and what it reports: options, jobs, results, the report,
and the shapes of the callbacks a build is given (progress, publishers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from handoutpress.errors import Problem

if TYPE_CHECKING:
    from handoutpress.load.brand import Brand
    from handoutpress.load.content import HandoutFile
    from handoutpress.load.project import Project


LOCK_FILE = ".handoutpress.lock"
DEFAULT_TIME_LIMIT = 120.0  # seconds of typesetting per document
DEFAULT_PAGE_LIMIT = 40  # longer than this is a content mistake (large print of a long handout runs ~20)

# The folders of a project whose files shape outputs (besides the brand folder).
INPUT_FOLDERS = ("handouts", "templates", "styles", "assets", "labels", "glossary")
# Folders whose files every output may read; a change empties long-lived processes' caches.
SHARED_FOLDERS = ("templates", "styles", "labels", "glossary")


@dataclass(frozen=True)
class BuildOptions:
    """What one build is asked to do: plain values, the same whichever command asks."""

    root: Path
    out: Path
    brand_dir: Path
    paths: tuple[Path, ...] = ()
    jobs: int = 0  # 0: every core
    force: bool = False
    today: date = field(default_factory=date.today)
    strict: bool = False
    time_limit: float = DEFAULT_TIME_LIMIT
    page_limit: int = DEFAULT_PAGE_LIMIT
    wait: bool = True  # another build holds out/: wait for it (True) or fail at once
    cluster: str = ""  # "": the local pool; "local" or "tcp://HOST:PORT": a Dask cluster (batch.cluster)

    @property
    def project(self) -> Project:
        from handoutpress.load.project import Project

        return Project(self.root)


@dataclass(frozen=True)
class Job:
    """One output to make: a handout in one variant, and where it goes."""

    item: HandoutFile
    variant: str
    rel_path: str
    related_titles: tuple[str, ...]
    inputs_sha256: str


@dataclass
class JobResult:
    """What making one output gave: the stamped PDF, or the problems that stopped it."""

    job: Job
    pdf: bytes | None = None
    pages: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    worker: int = 0  # process id that made it
    peak_rss_mb: float = 0.0  # that process's peak resident memory so far
    thumbnail: bytes | None = None  # page 1 as PNG for the catalogue, made while the worker is warm


@dataclass
class BuildReport:
    """What a build did, output by output; the command line turns it into text (`cli.output`)."""

    built: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[Problem] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # outputs kept from an earlier build because theirs failed
    overdue: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    translations: list[Problem] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    checks: str = ""  # one line: the content checks' counts (checks.CheckReport.summary_line)
    workers: dict[int, float] = field(default_factory=dict)  # pid -> peak RSS in MB
    nothing_to_do: bool = False  # answered from the fingerprint without loading content

    @property
    def ok(self) -> bool:
        return not self.failed


# A progress callback gets (done, total, output path, "built" | "failed").
Progress = Callable[[int, int, str, str], None]

@dataclass(frozen=True)
class Publication:
    """What a build hands each of its publishers once its PDFs are written.

    ``handouts``: the handouts this build loaded and validated (a partial
    build's only). ``entries``: the manifest's entries so far, by path (every
    PDF, and what earlier publishers added).
    """

    out: Path
    project: Project
    brand: Brand
    today: date
    handouts: tuple[HandoutFile, ...]
    entries: Mapping[str, Mapping[str, Any]]


# A publisher is called, in order, after the PDFs are written and before the
# manifest is: the entries it returns (the web edition's pages) join the
# manifest and the next publishers' `Publication`. The web edition
# (`web.pages.publish_web`) and the front desk's catalogue
# (`frontdesk.catalogue.publish_catalogue`) are publishers; a publisher's
# `HandoutPressError` fails the build with its problems, and the manifest is
# still written.
Publisher = Callable[[Publication], "Iterable[dict[str, Any]] | None"]
