"""Shared fixtures: the real project, a built copy of its library, and small
throwaway projects for bad-input tests.

Building PDFs is the slow part, so the real library is built once per test
session (`built_library`) and inspected by many tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import ROOT, SEED_DAY
from support.project import GOOD_HANDOUT, MiniProject

from handoutpress.cli import main


@dataclass
class Built:
    out: Path
    status: int
    manifest: dict


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def built_library(tmp_path_factory) -> Built:
    """Every handout of the real project, built once with the default brand."""
    out = tmp_path_factory.mktemp("out")
    status = main(["--root", str(ROOT), "build", "--out", str(out), "--today", SEED_DAY, "--quiet"])
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return Built(out, status, manifest)


@pytest.fixture
def mini(tmp_path) -> MiniProject:
    return MiniProject(tmp_path / "project")


@pytest.fixture
def good_handout() -> str:
    return GOOD_HANDOUT
