"""Project settings: ``handoutpress.yaml`` at the project's root (optional).

A clinic sets its own reading-grade target there; everything has a default,
so a project without the file behaves as documented::

    # handoutpress.yaml
    checks:
      target_grade: 8        # Flesch-Kincaid grade the prose should not exceed (1-16)

Unknown keys are errors, with the file, line and a "did you mean" hint, like
every other input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, ValidationError

from handoutpress.errors import ContentError, Problem
from handoutpress.load.schema import StrictModel, translate_errors
from handoutpress.load.yamlsafe import YamlProblems, read_yaml

CONFIG_FILE = "handoutpress.yaml"
DEFAULT_TARGET_GRADE = 8


class _Checks(StrictModel):
    target_grade: int = Field(default=DEFAULT_TARGET_GRADE, ge=1, le=16)


class _ProjectFile(StrictModel):
    checks: _Checks = _Checks()


@dataclass(frozen=True)
class ProjectConfig:
    target_grade: int = DEFAULT_TARGET_GRADE


def load_project_config(root: Path) -> ProjectConfig:
    """The settings in ``root/handoutpress.yaml``, or the defaults when it is absent."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return ProjectConfig()
    try:
        doc = read_yaml(path, CONFIG_FILE)
    except YamlProblems as exc:
        raise ContentError(exc.problems) from None
    if doc.data is None:
        return ProjectConfig()
    if not isinstance(doc.data, dict):
        raise ContentError(Problem(CONFIG_FILE, "expected a mapping of settings", line=1))
    try:
        parsed = _ProjectFile.model_validate(doc.data)
    except ValidationError as exc:
        raise ContentError(_plain_messages(translate_errors(exc, doc, CONFIG_FILE, _ProjectFile))) from None
    return ProjectConfig(target_grade=parsed.checks.target_grade)


def _plain_messages(problems: list[Problem]) -> list[Problem]:
    out = []
    for p in problems:
        message = p.message
        if message.startswith("Input should be greater than or equal to") or message.startswith("Input should be less than"):
            message = "expected a grade from 1 to 16"
        out.append(Problem(p.file, message, line=p.line, field=p.field))
    return out
