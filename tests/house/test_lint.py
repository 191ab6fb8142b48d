"""The code keeps the house rules: ruff's lint, mypy's types, and the shape the
house check measures (subpackages, module and function sizes, import cycles,
reaches into private names)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from support import ROOT

HOUSE_CHECK = ROOT.parent / "shared" / "tools" / "house_check.py"


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(str(ROOT / ".venv" / "bin" / name))
    if not found:
        pytest.skip(f"{name} is not installed (it comes with the test extra: pip install -e '.[test]')")
    return found


def test_ruff_finds_nothing():
    """`ruff check` reports no problem in the package, the tests or the benchmark."""
    done = subprocess.run(
        [_tool("ruff"), "check", "handoutpress", "tests", "benchmarks", "generate.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing():
    """mypy (configured in pyproject.toml) finds no type error in the package."""
    done = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr


def test_the_house_check_finds_nothing():
    """The house check (shared/tools/house_check.py) prints no finding for the package."""
    if not HOUSE_CHECK.is_file():
        pytest.skip(f"the house check is not beside this checkout ({HOUSE_CHECK.relative_to(ROOT.parent)})")
    done = subprocess.run([sys.executable, str(HOUSE_CHECK), "handoutpress"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("0 findings"), done.stdout
