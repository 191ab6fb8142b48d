"""Real-browser helpers: Debian's chromium driven by Playwright, axe-core from
the project's ``node_modules``, and a plain static web server on 127.0.0.1.

Nothing here downloads a browser: Playwright is always given the system
chromium's path. `require_browser` skips a test module, with the reason, only
where there is no chromium binary or no Playwright for Python; a missing
axe-core is a failure that says how to install it (``./run.sh setup``).
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support import ROOT

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).is_file()), None) or shutil.which(
    "chromium"
)
# Flags that let chromium run headless here: no sandbox (root in a container),
# no GPU, and nothing that reaches out to the network on its own.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.0 and 2.1 success criteria at levels A and AA, as axe-core tags its rules.
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# What the keyboard can reach, in the order the DOM holds it.
FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea, summary, [tabindex]"


def require_browser() -> ModuleType:
    """Playwright's sync API; skips the calling test module when chromium or Playwright is missing."""
    if CHROMIUM is None:
        pytest.skip("no chromium binary (install the Debian package `chromium`)", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed (pip install playwright)")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian chromium, launched through Playwright (a fresh profile of its own), closed afterwards."""
    sync_api = require_browser()
    with sync_api.sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        except sync_api.Error as exc:  # the binary is there but cannot start here
            pytest.skip(f"chromium could not start: {str(exc).splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()


# ---------------------------------------------------------------------------
# axe-core


@functools.cache
def axe_source() -> str:
    """axe-core's script, from ``node_modules`` (``npm ci``, which ``./run.sh`` runs)."""
    if not AXE_SCRIPT.is_file():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `./run.sh setup` (or `npm ci`) to install axe-core from package-lock.json")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@dataclass(frozen=True)
class AxeResult:
    """What one axe run on one page found."""

    url: str
    violations: list[dict]
    rules_run: int  # rules that ran on the page: passed, violated, incomplete or not applicable
    version: str

    def lines(self) -> list[str]:
        """One line per violation and node: rule id, impact, the element's selector, axe's summary."""
        found = []
        for violation in self.violations:
            for node in violation["nodes"]:
                target = " ".join(str(t) for t in node.get("target", []))
                summary = " ".join((node.get("failureSummary") or "").split())
                found.append(f"{self.url}: {violation['id']} ({violation.get('impact')}) at {target}: {summary}")
        return found


def run_axe(page, tags: list[str] = WCAG_AA_TAGS) -> AxeResult:
    """Inject axe-core into ``page`` and run the rules of ``tags`` on the whole document."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            const ran = r.passes.length + r.violations.length + r.incomplete.length + r.inapplicable.length;
            return {violations: r.violations, ran: ran, version: r.testEngine.version};
        }""",
        tags,
    )
    return AxeResult(page.url, result["violations"], result["ran"], result["version"])


def axe_rule_ids(page, tags: list[str] = WCAG_AA_TAGS) -> list[str]:
    """The ids of every axe rule tagged with any of ``tags`` (what `run_axe` selects)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return sorted(page.evaluate("(tags) => axe.getRules(tags).map(r => r.ruleId)", tags))


# ---------------------------------------------------------------------------
# What a person at a keyboard, a phone or a zoomed screen meets


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: nothing scrolls sideways)."""
    return int(page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"))


def outside_viewport(page) -> list[str]:
    """Visible elements holding text whose box reaches past the viewport's sides, or that clip their own text."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth, bad = [];
            for (const el of document.body.querySelectorAll('*')) {
                const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
                if (!own) continue;
                const box = el.getBoundingClientRect(), style = getComputedStyle(el);
                if (!box.width || style.visibility === 'hidden') continue;
                const clips = ['hidden', 'clip'].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1;
                if (box.left < -1 || box.right > width + 1 || clips)
                    bad.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${el.textContent.trim().slice(0, 40)}"`);
            }
            return bad;
        }"""
    )


def heading_levels(page) -> list[int]:
    """The levels of the page's headings (h1 to h6), in document order."""
    return page.locator("h1, h2, h3, h4, h5, h6").evaluate_all("els => els.map(e => Number(e.tagName[1]))")


def skipped_levels(levels: list[int]) -> list[str]:
    """Where the heading outline skips: not starting at one h1, or going down more than one level at a time."""
    problems = []
    if not levels or levels[0] != 1:
        problems.append(f"the first heading is h{levels[0] if levels else '-'}, not h1")
    if levels.count(1) != 1:
        problems.append(f"{levels.count(1)} h1 headings")
    for before, after in zip(levels, levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"h{before} followed by h{after}")
    return problems


def reachable_in_dom_order(page) -> list[str]:
    """Describe every element the keyboard should reach, in DOM order (skipping the hidden and tabindex=-1)."""
    return page.locator(FOCUSABLE).evaluate_all(
        """els => els.filter(e => {
                if (e.tabIndex < 0 || e.closest('[inert], [hidden]')) return false;
                if (e.closest('details:not([open])') && e.tagName !== 'SUMMARY') return false;
                const box = e.getBoundingClientRect(), style = getComputedStyle(e);
                return style.visibility !== 'hidden' && style.display !== 'none' && (box.width > 0 || box.height > 0 || e.getClientRects().length > 0);
            }).map(e => e.outerHTML.slice(0, 120))"""
    )


def tab_through(page, limit: int) -> list[dict]:
    """Press Tab until focus leaves the page or comes back round; each stop's element and its focus indicator."""
    stops: list[dict] = []
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """() => {
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                const s = getComputedStyle(e);
                const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
                const shadow = s.boxShadow && s.boxShadow !== 'none';
                return {html: e.outerHTML.slice(0, 120), indicated: Boolean(outline || shadow),
                        outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, shadow: s.boxShadow};
            }"""
        )
        if stop is None or (stops and stop["html"] == stops[0]["html"]):
            break
        stops.append(stop)
    return stops


# ---------------------------------------------------------------------------
# A static web host on this computer


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class StaticSite:
    """A folder served as a plain static site on 127.0.0.1 (any free port), as any web host would serve it."""

    def __init__(self, folder: Path):
        self.folder = folder
        handler = functools.partial(_QuietFiles, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> StaticSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def url_of(self, page: Path) -> str:
        """The address of ``page`` (a file under the folder); an ``index.html`` is addressed by its folder."""
        rel = page.relative_to(self.folder).as_posix()
        return self.url + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)
