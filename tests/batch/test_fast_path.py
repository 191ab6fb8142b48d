"""The no-op fast path: a build with nothing to do, with or without PATHs, answers
from the manifest after reading file metadata, hashing only the files whose
metadata moved, parsing no YAML and starting no worker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from support import ROOT, TODAY
from support.batch import make_project

from handoutpress.batch.inputs import DIGESTS_FILE
from handoutpress.batch.jobs import BuildOptions
from handoutpress.batch.run import build

HEAVY = ("weasyprint", "pydantic", "jinja2", "pypdf", "yaml")

# Runs one `build()` in a fresh interpreter and prints, as JSON, what it
# reported, which heavy libraries it imported, whether it started any process,
# and every file it opened (an audit hook: Python's own record, no mock).
PROBE = """
import json, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and isinstance(args[0], str) else None)
from datetime import date
from pathlib import Path
from handoutpress.batch.jobs import BuildOptions
from handoutpress.batch.run import build
root, out, paths = Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
options = BuildOptions(root=root, out=out, brand_dir=root / "brands/default", paths=tuple(paths),
                       today=date.fromisoformat("TODAY"), jobs=2)
report = build(options)
import multiprocessing
print(json.dumps({
    "nothing_to_do": report.nothing_to_do,
    "unchanged": report.unchanged,
    "built": report.built,
    "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)),
    "processes": len(multiprocessing.active_children()),
    "opened": sorted(set(opened)),
}))
""".replace("TODAY", TODAY).replace("HEAVY", repr(HEAVY))


def probe(root: Path, out: Path, *paths: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(root), str(out), *map(str, paths)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def options(root: Path, out: Path, *paths: Path) -> BuildOptions:
    return BuildOptions(root=root, out=out, brand_dir=root / "brands/default", paths=paths, today=date.fromisoformat(TODAY), jobs=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The small project (two handouts, four PDFs) built once; returns (root, out)."""
    root = make_project(tmp_path_factory.mktemp("fast") / "project")
    out = root / "out"
    report = build(options(root, out))
    assert report.ok and len(report.built) == 4
    return root, out


@pytest.fixture
def project(built, tmp_path) -> tuple[Path, Path]:
    """A copy of the built project that a test may change (copied with its times, as a user's clone keeps them)."""
    root, _ = built
    copy = tmp_path / "project"
    shutil.copytree(root, copy)
    # The copy's out/ is another folder, so its first build is not a no-op: it
    # loads, finds every output unchanged and records the copy's fingerprint. A
    # copy has new inodes too: the next build hashes every file once and
    # remembers them (twice, in case a file and the memory share a clock tick).
    assert build(options(copy, copy / "out")).built == []
    for _ in range(2):
        assert build(options(copy, copy / "out")).nothing_to_do
    return copy, copy / "out"


def yaml_and_pdfs(opened: list[str], root: Path) -> list[str]:
    """The handout files and PDFs among the files a run opened, relative to the project."""
    return sorted(os.path.relpath(p, root) for p in opened if p.endswith((".yaml", ".pdf")) and p.startswith(str(root)))


def test_a_path_build_with_nothing_changed_answers_from_the_manifest(project):
    """`build PATH` with nothing changed lists that PATH's outputs as unchanged, and imports no heavy library, starts no worker."""
    root, out = project
    for path, sources in ((root / "handouts" / "en", 2), (root / "handouts" / "en" / "short-one.yaml", 1)):
        seen = probe(root, out, path)
        assert seen["nothing_to_do"] is True, seen
        assert seen["built"] == []
        assert len(seen["unchanged"]) == 2 * sources  # standard and large print of each handout
        assert seen["heavy"] == []
        assert seen["processes"] == 0


def test_nothing_changed_opens_no_handout_and_no_pdf(project):
    """With nothing changed, neither a handout's YAML nor any PDF is opened: metadata says they are as last built."""
    root, out = project
    seen = probe(root, out)
    assert seen["nothing_to_do"] is True
    assert yaml_and_pdfs(seen["opened"], root) == []
    assert len(seen["unchanged"]) == 4


def test_a_touched_file_is_read_again_and_only_it(project):
    """A file whose metadata moved (touched, same bytes) is hashed again, alone, and the build still has nothing to do."""
    root, out = project
    touched = root / "handouts" / "en" / "short-one.yaml"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns - 10**10))
    seen = probe(root, out)
    assert seen["nothing_to_do"] is True
    assert yaml_and_pdfs(seen["opened"], root) == ["handouts/en/short-one.yaml"]
    assert yaml_and_pdfs(probe(root, out)["opened"], root) == []  # remembered again


def test_new_bytes_behind_the_same_size_and_time_are_still_seen(project):
    """An edit that keeps the file's size and puts its modification time back is still found (its change time moved)."""
    root, out = project
    target = root / "handouts" / "en" / "short-one.yaml"
    before = target.stat()
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("Take your pill each morning.", "Take your pill each evening."), encoding="utf-8")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    report = build(options(root, out))
    assert not report.nothing_to_do
    assert sorted(report.built) == ["en/A-Short-Handout-Large-Print.pdf", "en/A-Short-Handout.pdf"]


def test_a_change_outside_the_paths_is_not_a_no_op_but_builds_nothing_of_theirs(project):
    """`build PATH` after an edit elsewhere in the library loads that PATH and finds its outputs unchanged."""
    root, out = project
    other = root / "handouts" / "en" / "long-one.yaml"
    other.write_text(other.read_text(encoding="utf-8").replace("Take your pill each morning.", "Take it each morning."), encoding="utf-8")
    report = build(options(root, out, root / "handouts" / "en" / "short-one.yaml"))
    assert not report.nothing_to_do
    assert report.built == []
    assert sorted(report.unchanged) == ["en/A-Short-Handout-Large-Print.pdf", "en/A-Short-Handout.pdf"]


def test_a_path_outside_the_library_or_missing_takes_the_real_build(project, tmp_path):
    """A PATH that is not a handout file of the library is left to the real build, which reports it."""
    root, out = project
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("title: x\n", encoding="utf-8")
    for path in (outside, root / "handouts" / "en" / "no-such-file.yaml"):
        report = build(options(root, out, path))
        assert not report.nothing_to_do
        assert report.failed and report.built == []


def test_a_damaged_or_lying_digest_memory_is_never_believed(project):
    """A damaged ``out/.cache/files.json`` is ignored; an entry whose metadata does not match the file is read again."""
    root, out = project
    memory = out / DIGESTS_FILE
    memory.write_text("{not json", encoding="utf-8")
    assert build(options(root, out)).nothing_to_do
    data = json.loads(memory.read_text(encoding="utf-8"))
    pdf = str(out / "en" / "A-Short-Handout.pdf")
    data["files"][pdf][4] = "0" * 64  # a wrong digest with the right metadata: believed, so the output looks changed
    data["files"][pdf][0] += 1  # ...unless the metadata does not match: then the file is read again
    memory.write_text(json.dumps(data), encoding="utf-8")
    report = build(options(root, out))
    assert report.nothing_to_do and len(report.unchanged) == 4


def test_a_changed_output_is_rebuilt(project):
    """An output edited in out/ is no longer intact: the build makes it again instead of answering from the manifest."""
    root, out = project
    pdf = out / "en" / "A-Short-Handout.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n% edited\n")
    report = build(options(root, out))
    assert not report.nothing_to_do
    assert report.built == ["en/A-Short-Handout.pdf"]
