"""Strict, line-aware YAML reading shared by content and brand loading.

PyYAML's safe loader still accepts aliases (billion-laughs style expansion),
silently keeps the last of two duplicate keys and turns ``2025-02-14`` into a
date object. Content editors deserve an error for the first two and their own
text back for the third, so we compose the node graph ourselves and build plain
Python values from it, remembering the line of every value by its field path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from handoutpress.errors import Problem

Path_ = tuple[str | int, ...]

MAX_YAML_BYTES = 1_000_000


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the line where each value starts."""

    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of the value at ``path``, or of its nearest located parent."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases, anchors and explicit tags."""

    def compose_node(self, parent, index):  # noqa: D401 - PyYAML hook
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"YAML aliases are not allowed (*{event.anchor})")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise _Refused(event.start_mark, f"YAML anchors are not allowed (&{anchor})")
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            raise _Refused(event.start_mark, f"YAML tags are not allowed ({tag})")
        return super().compose_node(parent, index)


class _Refused(Exception):
    def __init__(self, mark, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


def field_name(path: Path_) -> str:
    """Render a field path the way editors read it: ``sections[2].table.rows``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_yaml(path: Path, display: str) -> YamlDocument:
    """Read ``path`` as strict YAML; raise a list of `Problem` via `YamlProblems`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblems([Problem(display, f"cannot read file: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_YAML_BYTES:
        raise YamlProblems([Problem(display, f"file is too large ({len(raw):,} bytes; the limit is {MAX_YAML_BYTES:,})")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblems(
            [Problem(display, f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})", line=line)]
        ) from None
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise YamlProblems([Problem(display, "file is empty")])
    if "\x00" in text:
        raise YamlProblems([Problem(display, "file contains a NUL character", line=text[: text.index("\x00")].count("\n") + 1)])
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
    except _Refused as exc:
        raise YamlProblems([Problem(display, exc.message, line=exc.mark.line + 1)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "malformed YAML"
        raise YamlProblems([Problem(display, f"invalid YAML: {what}", line=mark.line + 1 if mark else None)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(display, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlProblems([Problem(display, "file is empty")])
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    data = _build(node, (), lines, problems, display)
    if problems:
        raise YamlProblems(problems)
    return YamlDocument(data=data, lines=lines)


class YamlProblems(Exception):
    """Raised by `read_yaml` with every problem found in the file."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


_SCALAR = _StrictLoader("")


def _scalar(node: yaml.ScalarNode) -> Any:
    # Dates stay the text the editor wrote; the schema parses them itself so it
    # can say exactly what was wrong ("2026-13").
    if node.tag in ("tag:yaml.org,2002:timestamp",):
        return node.value
    return _SCALAR.construct_object(node, deep=True)


def _build(node, path: Path_, lines: dict, problems: list[Problem], display: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(
                        display, "keys must be plain words", line=key_node.start_mark.line + 1, field=field_name(path) or None
                    )
                )
                continue
            key = str(_scalar(key_node))
            if key in out:
                problems.append(
                    Problem(
                        display,
                        f"duplicate key '{key}' (first given on line {lines[path + (key,)]})",
                        line=key_node.start_mark.line + 1,
                        field=field_name(path + (key,)),
                    )
                )
                continue
            out[key] = _build(value_node, path + (key,), lines, problems, display)
            # For a missing or null value point at the key, which is where the editor looks.
            if value_node.start_mark.line != key_node.start_mark.line and not isinstance(value_node, yaml.ScalarNode):
                lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), lines, problems, display) for i, item in enumerate(node.value)]
    return _scalar(node)
