"""What every input's schema shares: the strict model, the text field, and the
one translation of pydantic's errors into lines an editor can act on.

Handouts, brands, glossaries and the project settings are each a pydantic
model built on `StrictModel`; when one fails, `translate_errors` turns every
error into a `Problem` naming the file, the line and the field path::

    handouts/en/x.yaml:14: review.next_review: expected YYYY-MM or YYYY-MM-DD, got '2026-13'

A rule that spans several fields but belongs to one of them raises `FieldError`
with that field's path, so its message points where the editor must look.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from handoutpress.errors import Problem
from handoutpress.load.yamlsafe import YamlDocument, field_name

# Text an editor must write: surrounding spaces are dropped, nothing left is an error.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class StrictModel(BaseModel):
    """Unknown keys are errors, values are never coerced, and a loaded model never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FieldError(ValueError):
    """A model-level rule that belongs to one field; carries that field's path."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def show_value(value: Any) -> str:
    """A value as an error message names what the editor wrote: ``'2026-13'``, ``a list``."""
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, (int, float)):
        return f"{value} (a number)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'title'?"`` for the closest of ``choices``, or nothing when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names allowed in the mapping at ``loc`` (for "did you mean")."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = _unwrap(current.model_fields[part].annotation)
        else:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """The model inside a field's type: ``list[Section] | None`` -> ``Section``."""
    while True:
        origin = get_origin(annotation)
        if origin in (list, tuple):
            annotation = get_args(annotation)[0]
        elif origin is Union or origin is types.UnionType:
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        elif origin is Annotated:
            annotation = get_args(annotation)[0]
        else:
            return annotation


_TYPE_WORDS = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "int_type": "a whole number",
    "bool_type": "yes or no",
}


def translate_errors(exc: ValidationError, doc: YamlDocument, shown: str, model: type[BaseModel]) -> list[Problem]:
    """Turn pydantic's errors for ``model`` into one-line problems with lines."""
    problems = []
    for err in exc.errors(include_url=False):
        # Validator and union labels in the location are pydantic's, not the editor's fields.
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and (p.startswith("function-") or "[" in p)))
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, FieldError):
            loc = loc + ctx_error.path
            message = ctx_error.message
        else:
            message = _message(err, loc, ctx_error, model)
        problems.append(Problem(shown, message, line=doc.line_of(loc), field=field_name(loc) or None))
    # Pydantic may report the same field twice through unions; keep one.
    unique: dict[str, Problem] = {}
    for p in problems:
        unique.setdefault(str(p), p)
    return list(unique.values())


def _message(err: Any, loc: tuple, ctx_error: object, model: type[BaseModel]) -> str:
    """The editor's words for one pydantic error at ``loc``."""
    etype = err["type"]
    value = err.get("input")
    if etype == "extra_forbidden":
        key = loc[-1]
        parent = loc[:-1]
        if key == "sections" and len([p for p in parent if p == "sections"]) >= 2:
            return "sections nest one level at most; move this list up a level"
        return f"unknown key {key!r}{did_you_mean(str(key), _fields_at(model, parent))}"
    if etype == "missing":
        return "required field is missing"
    if etype == "literal_error":
        expected = err["ctx"]["expected"].replace("'", "")
        return f"expected one of {expected}, got {show_value(value)}"
    if etype in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[etype]}, got {show_value(value)}"
    if etype in ("string_too_short", "too_short"):
        return "must not be empty"
    if etype == "string_pattern_mismatch":
        return f"expected a handout id (lower-case letters, digits, hyphens), got {show_value(value)}"
    if etype == "value_error":
        return str(ctx_error) if ctx_error else err["msg"].removeprefix("Value error, ")
    return err["msg"]
