"""The code passes the project's lint rules (ruff, configured in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from support import ROOT


def test_ruff_finds_nothing():
    """`ruff check` reports no problem in the package, the tests or the benchmark."""
    ruff = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if not shutil.which(ruff):
        pytest.skip("ruff is not installed (it comes with the test extra: pip install -e '.[test]')")
    done = subprocess.run(
        [ruff, "check", "handoutpress", "tests", "benchmarks", "generate.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
