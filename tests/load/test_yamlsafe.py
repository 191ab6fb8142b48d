"""Strict YAML on libyaml's parser: the same data, lines and messages as the pure-Python parser.

`read_yaml` reads the parser's events itself, from libyaml when PyYAML has it
and from the pure parser otherwise. These tests run both on the same files:
every YAML file of the project, the benchmark's generated library, and a set
of bad inputs whose one-line messages are part of the contract.
"""

from __future__ import annotations

import datetime
import importlib.util
from pathlib import Path

import pytest
import yaml
from support import ROOT

from handoutpress.load import yamlsafe
from handoutpress.load.yamlsafe import PURE_LOADER, LibyamlUnsure, YamlProblems, compose_text, read_yaml

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
PROJECT_FOLDERS = ("handouts", "glossary", "labels", "brands", "tests")


def outcome(path: Path, loader: type) -> tuple:
    """What `read_yaml` gives for ``path`` with ``loader``: the data and lines, or the messages."""
    try:
        doc = read_yaml(path, "x.yaml", loader)
    except YamlProblems as exc:
        return ("problems", [str(p) for p in exc.problems])
    return ("document", doc.data, doc.lines)


def messages(tmp_path: Path, text: str | bytes, loader: type) -> list[str]:
    path = tmp_path / "x.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    result = outcome(path, loader)
    assert result[0] == "problems", result
    return result[1]


def project_yaml_files() -> list[Path]:
    files = [p for folder in PROJECT_FOLDERS for p in sorted((ROOT / folder).rglob("*.y*ml"))]
    assert len(files) >= 8
    return files


def benchmark_library(root: Path, count: int) -> list[Path]:
    """The benchmark's generated handouts (benchmarks/run.py, `write_library`)."""
    spec = importlib.util.spec_from_file_location("handoutpress_benchmark", ROOT / "benchmarks" / "run.py")
    assert spec and spec.loader
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    return benchmark.write_library(root, count, 2026)


def as_editor_wrote_it(value):
    """PyYAML's own reading with dates kept as text, as `read_yaml` keeps them."""
    if isinstance(value, dict):
        return {str(k): as_editor_wrote_it(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_editor_wrote_it(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def test_the_parser_is_libyaml_when_pyyaml_has_it():
    """libyaml's parser is used when PyYAML was built with it, the pure one only when it was not."""
    assert yamlsafe.choose_loader(False) is yaml.SafeLoader
    if yaml.__with_libyaml__:
        assert yamlsafe.choose_loader(True) is yaml.CSafeLoader
        assert yamlsafe.LOADER is yaml.CSafeLoader
    else:
        assert yamlsafe.LOADER is yaml.SafeLoader


@pytest.mark.parametrize("path", project_yaml_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_project_files_read_the_same_with_both_parsers(path):
    """Every YAML file of the project gives the same data and line map, or the same messages, with either parser."""
    assert outcome(path, yamlsafe.LOADER) == outcome(path, PURE_LOADER)


@needs_libyaml
def test_project_handouts_take_the_fast_road():
    """The project's handouts, glossaries, labels and brand are read by libyaml alone, without a second reading."""
    for folder in ("handouts", "glossary", "labels", "brands"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            compose_text(path.read_text(encoding="utf-8-sig"), path.name, yaml.CSafeLoader)


def test_generated_library_reads_the_same_with_both_parsers(tmp_path):
    """The benchmark's generated handouts give the same data and lines with either parser, and PyYAML's own data."""
    files = benchmark_library(tmp_path, 12)
    for path in files:
        fast, pure = outcome(path, yamlsafe.LOADER), outcome(path, PURE_LOADER)
        assert fast == pure
        assert fast[0] == "document"
        assert fast[1] == as_editor_wrote_it(yaml.safe_load(path.read_text(encoding="utf-8")))
        lines = path.read_text(encoding="utf-8").splitlines()
        assert fast[2][("review", "reviewed")] == lines.index(f"  reviewed: {fast[1]['review']['reviewed']}") + 1
        assert fast[2][("sections",)] == lines.index("sections:") + 1  # a block list points at its key
        if yaml.__with_libyaml__:
            compose_text(path.read_text(encoding="utf-8"), path.name, yaml.CSafeLoader)


def test_line_map_points_where_an_editor_looks(tmp_path):
    """Each value's line is where it starts; a block mapping or list under a key points at the key."""
    text = "title: Sleep\nreview:\n  reviewed: 2025-02\n\nsections:\n  - heading: A\n    body: |\n      text\n"
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    for loader in (yamlsafe.LOADER, PURE_LOADER):
        doc = read_yaml(path, "x.yaml", loader)
        assert doc.data == {"title": "Sleep", "review": {"reviewed": "2025-02"}, "sections": [{"heading": "A", "body": "text\n"}]}
        assert doc.lines == {
            (): 1,
            ("title",): 1,
            ("review",): 2,
            ("review", "reviewed"): 3,
            ("sections",): 5,
            ("sections", 0): 6,
            ("sections", 0, "heading"): 6,
            ("sections", 0, "body"): 7,
        }
        assert doc.line_of(("sections", 0, "table", "rows")) == 6


BAD_INPUTS = {
    "duplicate key": ("title: A\ntopics: [a]\ntitle: B\n", ["x.yaml:3: title: duplicate key 'title' (first given on line 1)"]),
    "duplicate keys everywhere": (
        "review:\n  reviewed: 2025-02\n  reviewed: 2025-03\ntopics: [a]\ntopics:\n  - b\n",
        [
            "x.yaml:3: review.reviewed: duplicate key 'reviewed' (first given on line 2)",
            "x.yaml:5: topics: duplicate key 'topics' (first given on line 4)",
        ],
    ),
    "anchor": ("topics: &t [a, b]\nrelated: *t\n", ["x.yaml:1: YAML anchors are not allowed (&t)"]),
    "bare alias": ("title: A\ntopics: *t\n", ["x.yaml:2: YAML aliases are not allowed (*t)"]),
    "anchor inside a duplicate": ("title: A\ntitle: &x B\n", ["x.yaml:2: YAML anchors are not allowed (&x)"]),
    "anchor after a duplicate": ("a: 1\na: 2\nb: &x 3\n", ["x.yaml:3: YAML anchors are not allowed (&x)"]),
    "python tag": (
        "subtitle: !!python/object:os.system Simple\n",
        ["x.yaml:1: YAML tags are not allowed (tag:yaml.org,2002:python/object:os.system)"],
    ),
    "str tag": ("title: !!str 12\n", ["x.yaml:1: YAML tags are not allowed (tag:yaml.org,2002:str)"]),
    "local tag": ("title: A\nsections: !mine [a]\n", ["x.yaml:2: YAML tags are not allowed (!mine)"]),
    "tag directive": (
        "%TAG !e! tag:example.com,2000:\n---\ntitle: !e!x A\n",
        ["x.yaml:3: YAML tags are not allowed (tag:example.com,2000:x)"],
    ),
    "list as a key": ("title: A\n? [a, b]\n: c\n", ["x.yaml:2: keys must be plain words"]),
    "mapping as a nested key": ("review:\n  ? {a: 1}\n  : c\n", ["x.yaml:2: review: keys must be plain words"]),
    "unclosed flow list": (
        "title: A\ntopics: [Sleep, Mood\nreview: x\n",
        ["x.yaml:3: invalid YAML: expected ',' or ']', but got ':'"],
    ),
    "unclosed quote": ('title: "Sleep\n', ["x.yaml:2: invalid YAML: found unexpected end of stream"]),
    "bad indentation": ("title: A\n  topics: b\n", ["x.yaml:2: invalid YAML: mapping values are not allowed here"]),
    "two documents": ("title: A\n---\ntitle: B\n", ["x.yaml:2: invalid YAML: but found another document"]),
    "document end only": ("...\n", ["x.yaml:1: invalid YAML: expected the node content, but found '<document end>'"]),
    "tab in plain text": (
        "title: Sleep\tand mood\n",
        ["x.yaml:1: invalid YAML: found character '\\t' that cannot start any token"],
    ),
    "tab before a block": (
        "sections:\n  - body:\t|\n      text\n",
        ["x.yaml:2: invalid YAML: found character '\\t' that cannot start any token"],
    ),
    "question mark in a flow list": (
        "title: A\ntopics: [Why sleep?, Mood]\n",
        ["x.yaml:2: invalid YAML: expected ',' or ']', but got '?'"],
    ),
    "question mark in a duplicate's flow list": (
        "topics: [a]\ntopics: [Why?]\n",
        ["x.yaml:2: invalid YAML: expected ',' or ']', but got '?'"],
    ),
    "control character": ("title: A\nsubtitle: bell \x07 here\n", ["x.yaml:2: file contains a control character (#x0007)"]),
    "NUL character": ("title: A\x00\n", ["x.yaml:1: file contains a NUL character"]),
    "empty": ("", ["x.yaml: file is empty"]),
    "only comments": ("# title: A\n\n   # more\n", ["x.yaml: file is empty"]),
    "not UTF-8": (b"title: Caf\xe9\n", ["x.yaml:1: file is not UTF-8 text (byte 0xe9 at offset 10)"]),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gives_the_same_message_with_both_parsers(tmp_path, name):
    """Each bad input gets exactly its documented lines, whichever parser reads it."""
    text, expected = BAD_INPUTS[name]
    assert messages(tmp_path, text, PURE_LOADER) == expected
    assert messages(tmp_path, text, yamlsafe.LOADER) == expected


@needs_libyaml
def test_libyaml_syntax_errors_are_told_in_the_pure_parsers_words(tmp_path):
    """Where libyaml words a syntax error its own way, the editor still reads the message the tests know."""
    text = "title: A\ntopics: [Sleep, Mood\nreview: x\n"
    with pytest.raises(yaml.YAMLError) as raised:
        yaml.compose(text, Loader=yaml.CSafeLoader)
    assert "expected ',' or ']', but got ':'" not in str(raised.value)  # libyaml: "did not find expected ',' or ']'"
    assert messages(tmp_path, text, yaml.CSafeLoader) == ["x.yaml:3: invalid YAML: expected ',' or ']', but got ':'"]


@needs_libyaml
def test_libyaml_hands_over_where_the_parsers_disagree():
    """Text libyaml reads but the pure parser ends early (a '?' or ':' in a flow list) is left to the pure parser."""
    for text in ("topics: [Why sleep?]\n", "topics: [a:b]\n", "t: {x?: 1}\n", "a: [b]\na: [c?]\n"):
        with pytest.raises(LibyamlUnsure):
            compose_text(text, "x.yaml", yaml.CSafeLoader)
    doc = compose_text("topics: [Sleep, 'Why?', \"a:b\"]\nnote: Why? a:b\n", "x.yaml", yaml.CSafeLoader)
    assert doc.data == {"topics": ["Sleep", "Why?", "a:b"], "note": "Why? a:b"}


def test_plain_words_mean_what_yaml_says_and_dates_stay_text(tmp_path):
    """Numbers, yes/no and nothing are read as YAML reads them; dates and YAML 1.1's merge and value keys stay text."""
    text = "a: 12\nb: 1.5\nc: true\nd: ~\ne: 2025-02-14\nf: 2025-02\ng: <<\n<<: {h: 1}\ni: =\n'j': '12'\n"
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    expected = {"a": 12, "b": 1.5, "c": True, "d": None, "e": "2025-02-14", "f": "2025-02", "g": "<<", "<<": {"h": 1}}
    expected |= {"i": "=", "j": "12"}
    for loader in (yamlsafe.LOADER, PURE_LOADER):
        assert read_yaml(path, "x.yaml", loader).data == expected


def test_a_file_too_large_is_refused_unread(tmp_path):
    """A file over the size limit is refused with its size, before any parser sees it."""
    path = tmp_path / "x.yaml"
    path.write_text("title: A\n" + "#" * yamlsafe.MAX_YAML_BYTES, encoding="utf-8")
    with pytest.raises(YamlProblems) as raised:
        read_yaml(path, "x.yaml")
    assert [str(p) for p in raised.value.problems] == ["x.yaml: file is too large (1,000,009 bytes; the limit is 1,000,000)"]
