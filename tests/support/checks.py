"""What the check tests share: run `check --format json` and read its findings."""

from __future__ import annotations

import json
from pathlib import Path

from handoutpress.cli import main
from support import ROOT, TODAY


def run_json(root: Path, capsys, *extra: str) -> tuple[int, dict]:
    status = main(["--root", str(root), "check", "--today", TODAY, "--format", "json", *extra])
    return status, json.loads(capsys.readouterr().out)


def messages(report: dict, file: str) -> list[str]:
    return [
        f"{f['severity']}: {f['file']}:{f['line']}: {f['field'] + ': ' if f['field'] else ''}{f['message']}"
        for f in report["findings"]
        if f["file"] == file
    ]


def fixture_project(tmp_path: Path, fixtures: Path, language: str) -> Path:
    """A small project: the fixture handouts in handouts/<language>/ and the real glossaries."""
    import shutil

    (tmp_path / "handouts" / language).mkdir(parents=True)
    for f in fixtures.glob("*.yaml"):
        shutil.copy(f, tmp_path / "handouts" / language / f.name)
    shutil.copytree(ROOT / "glossary", tmp_path / "glossary")
    return tmp_path
