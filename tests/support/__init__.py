"""What the tests share: the project's folder, the days the tests pretend it is,
and (in the modules beside this one) the small projects, PDFs and servers they
build. Test modules import from here, never from ``conftest``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A day on which the seed handouts in handouts/ are current (reviewed 2025-02,
# next review 2026-02): review statuses stay stable whatever day the tests run.
SEED_DAY = "2025-06-01"
# The day the tests' own small projects are checked on (their content is
# reviewed in 2025 and 2026).
TODAY = "2026-11-20"
TODAY_DATE = date.fromisoformat(TODAY)


def pdf_outputs(manifest: dict) -> list[dict]:
    """The manifest's PDF outputs: every entry but the web edition's pages (variant ``web``)."""
    return [o for o in manifest["outputs"] if o.get("variant") != "web"]
