"""Strict, line-aware YAML reading shared by content and brand loading.

PyYAML's safe loader still accepts aliases (billion-laughs style expansion),
silently keeps the last of two duplicate keys and turns ``2025-02-14`` into a
date object. Content editors deserve an error for the first two and their own
text back for the third, so we read the parser's events ourselves and build
plain Python values from them, remembering the line of every value by its
field path.

The events come from libyaml's parser (``yaml.CSafeLoader``) when PyYAML was
built with it, and from PyYAML's pure-Python parser otherwise; both feed the
same `_Builder`, so refusals, duplicate keys and line numbers are the same
code whichever parser runs. libyaml words its syntax errors differently, so a
file it cannot parse is read again by the pure parser, whose message is the
one editors know (and the one the tests assert). Where the two parsers
disagree on what is allowed (a tab anywhere; a plain word holding '?' or ':'
inside ``[...]`` or ``{...}``), the pure parser decides too. Such files are
rare; the thousands of a library's rebuild take the fast road only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.reader import Reader

from handoutpress.errors import Problem

Path_ = tuple[str | int, ...]

MAX_YAML_BYTES = 1_000_000

# Scalars whose text is kept as the editor wrote it: dates (the schema parses
# them itself, so it can say exactly what was wrong: "2026-13"), and the merge
# key ``<<`` and value key ``=`` of YAML 1.1, which strict YAML gives no meaning.
_KEEP_TEXT = frozenset(
    ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value")
)


def choose_loader(with_libyaml: bool) -> type:
    """The PyYAML loader whose events we read: libyaml's when PyYAML has it, else the pure one."""
    return yaml.CSafeLoader if with_libyaml else yaml.SafeLoader


# The parser every `read_yaml` uses unless told otherwise.
LOADER: type = choose_loader(yaml.__with_libyaml__)
PURE_LOADER: type = yaml.SafeLoader


@dataclass(frozen=True)
class YamlDocument:
    """Plain data from one YAML file plus the line where each value starts."""

    data: Any
    lines: dict[Path_, int]
    sha256: str = ""  # of the file's bytes as read (empty for a document made in memory)

    def line_of(self, path: Path_) -> int | None:
        """The line of the value at ``path``, or of its nearest located parent."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


class YamlProblems(Exception):
    """Raised by `read_yaml` with every problem found in the file."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


class _Refused(Exception):
    def __init__(self, mark: Any, message: str):
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


def read_yaml(path: Path, display: str, loader: type | None = None) -> YamlDocument:
    """Read ``path`` as strict YAML; raise a list of `Problem` via `YamlProblems`.

    ``loader`` picks the parser (`LOADER` by default, `PURE_LOADER` for the
    pure-Python one); the result and every message are the same with either."""
    raw, text = _read_text(path, display)
    chosen = LOADER if loader is None else loader
    if "\t" in text:
        # The pure parser refuses a tab wherever YAML separates tokens (even
        # inside plain text); libyaml accepts some. A tab is rare in an
        # editor's file, so such a file is read the way it always was.
        chosen = PURE_LOADER
    doc = None
    if chosen is not PURE_LOADER:
        try:
            doc = compose_text(text, display, chosen)
        except (yaml.YAMLError, LibyamlUnsure):
            # libyaml could not parse it, or read text the pure parser may not:
            # the pure parser decides, in today's words.
            pass
    if doc is None:
        doc = compose_text(text, display, PURE_LOADER)
    return replace(doc, sha256=hashlib.sha256(raw).hexdigest())


def _read_text(path: Path, display: str) -> tuple[bytes, str]:
    """The file's bytes and text, or the one problem that stops it being YAML at all."""
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
    # Both parsers refuse control characters, each in its own words and the pure
    # one before reading a line; one message, with its line, for either.
    if bad := Reader.NON_PRINTABLE.search(text):
        line = text[: bad.start()].count("\n") + 1
        raise YamlProblems([Problem(display, f"file contains a control character (#x{ord(bad.group()):04x})", line=line)])
    return raw, text


def compose_text(text: str, display: str, loader_class: type) -> YamlDocument:
    """Build the document in ``text`` from ``loader_class``'s parser; raise `YamlProblems`.

    With the pure parser every problem is a `YamlProblems`. With libyaml's, a
    syntax error escapes as `yaml.YAMLError` and text the pure parser may read
    differently as `LibyamlUnsure`: `read_yaml` then asks the pure parser."""
    loader = loader_class(text)
    builder = _Builder(loader, display, pure=loader_class is PURE_LOADER)
    try:
        data = builder.document()
    except _Refused as exc:
        raise YamlProblems([Problem(display, exc.message, line=exc.mark.line + 1)]) from None
    except yaml.MarkedYAMLError as exc:
        if loader_class is not PURE_LOADER:
            raise
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "malformed YAML"
        raise YamlProblems([Problem(display, f"invalid YAML: {what}", line=mark.line + 1 if mark else None)]) from None
    except yaml.YAMLError as exc:
        if loader_class is not PURE_LOADER:
            raise
        raise YamlProblems([Problem(display, f"invalid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if data is _NOTHING:
        raise YamlProblems([Problem(display, "file is empty")])
    if builder.problems:
        raise YamlProblems(builder.problems)
    return YamlDocument(data=data, lines=builder.lines)


_NOTHING = object()  # a stream with no document in it
_UNTAGGED = (None, "!")  # no tag, or the "non-specific" tag that means none


class LibyamlUnsure(Exception):
    """libyaml read something the pure parser may read differently or refuse (see `compose_text`)."""


class _Builder:
    """Plain values and their lines, straight from one parser's events.

    Aliases, anchors and explicit tags stop the file at the first one met, as
    a syntax error does; duplicate keys and non-scalar keys are collected so
    an editor sees all of them at once."""

    def __init__(self, loader: Any, display: str, *, pure: bool):
        self.next_event = loader.get_event
        self.resolve = loader.resolve
        self.constructor = SafeConstructor()
        self.display = display
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        # Inside [...] and {...} the pure parser ends plain text at '?' and at
        # some ':' where libyaml reads on; only the pure parser's reading counts.
        self.doubt_flow_text = not pure
        self.flow_depth = 0
        self.plain_tags: dict[str, str] = {}  # what each plain word resolved to, in this file

    def document(self) -> Any:
        """The one document of the stream (`_NOTHING` when there is none)."""
        self.next_event()  # stream start
        start = self.next_event()
        if isinstance(start, StreamEndEvent):
            return _NOTHING
        data = self.value(self.next_event(), ())
        self.next_event()  # document end
        after = self.next_event()
        if not isinstance(after, StreamEndEvent):
            raise ComposerError(
                "expected a single document in the stream", start.start_mark, "but found another document", after.start_mark
            )
        return data

    def value(self, event: Any, path: Path_) -> Any:
        """The value that ``event`` starts, at ``path``."""
        if event.anchor is not None or event.tag not in _UNTAGGED:  # an alias has an anchor
            _refuse(event)
        self.lines[path] = event.start_mark.line + 1
        kind = type(event)
        if kind is ScalarEvent:
            return self.scalar(event)
        flow = bool(event.flow_style)
        self.flow_depth += flow
        if kind is MappingStartEvent:
            out: Any = self.mapping(path)
        else:
            out = []
            event = self.next_event()
            while type(event) is not SequenceEndEvent:
                out.append(self.value(event, path + (len(out),)))
                event = self.next_event()
        self.flow_depth -= flow
        return out

    def mapping(self, path: Path_) -> dict[str, Any]:
        """The mapping whose start was just read, at ``path``."""
        out: dict[str, Any] = {}
        key_event = self.next_event()
        while type(key_event) is not MappingEndEvent:
            if key_event.anchor is not None or key_event.tag not in _UNTAGGED:
                _refuse(key_event)
            key_line = key_event.start_mark.line + 1
            if type(key_event) is not ScalarEvent:
                self.problems.append(
                    Problem(self.display, "keys must be plain words", line=key_line, field=field_name(path) or None)
                )
                self.skip(key_event)
                self.skip(self.next_event())
            else:
                key = str(self.scalar(key_event))
                value_event = self.next_event()
                where = path + (key,)
                if key in out:
                    message = f"duplicate key '{key}' (first given on line {self.lines[where]})"
                    self.problems.append(Problem(self.display, message, line=key_line, field=field_name(where)))
                    self.skip(value_event)
                else:
                    out[key] = self.value(value_event, where)
                    # For a missing or null value point at the key, which is where the editor looks.
                    if value_event.start_mark.line + 1 != key_line and type(value_event) is not ScalarEvent:
                        self.lines[where] = key_line
            key_event = self.next_event()
        return out

    def scalar(self, event: Any) -> Any:
        """A scalar's value: text as written, or what a plain word means (number, yes/no, nothing)."""
        value = event.value
        tag = event.tag
        if tag in _UNTAGGED:
            if not event.implicit[0]:
                return value  # quoted or block text is text
            if self.flow_depth and self.doubt_flow_text and ("?" in value or ":" in value):
                raise LibyamlUnsure
            tag = self.plain_tags.get(value)
            if tag is None:
                tag = self.plain_tags[value] = self.resolve(yaml.ScalarNode, value, (True, False))
        if tag in _KEEP_TEXT:
            return value
        node = yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, event.style)
        return self.constructor.construct_object(node, deep=True)

    def skip(self, event: Any) -> None:
        """Read past the value ``event`` starts, refusing what the file may not hold but keeping nothing."""
        depth = 0
        flow_depth = self.flow_depth
        while True:
            if isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
                flow_depth -= bool(flow_depth > self.flow_depth)
            else:
                _refuse(event)
                if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                    depth += 1
                    flow_depth += bool(event.flow_style)
                elif flow_depth and self.doubt_flow_text and event.implicit[0] and ("?" in event.value or ":" in event.value):
                    raise LibyamlUnsure
            if not depth:
                return
            event = self.next_event()


def _refuse(event: Any) -> None:
    """Stop at an alias, an anchor or an explicit tag (``!`` alone, "no tag", is allowed)."""
    if type(event) is AliasEvent:
        raise _Refused(event.start_mark, f"YAML aliases are not allowed (*{event.anchor})")
    if event.anchor is not None:
        raise _Refused(event.start_mark, f"YAML anchors are not allowed (&{event.anchor})")
    tag = getattr(event, "tag", None)
    if tag is not None and tag != "!":
        raise _Refused(event.start_mark, f"YAML tags are not allowed ({tag})")
