"""The hand-out record in SQLite and in a real PostgreSQL server: events written
and read back, WAL mode, the append-only table, the schema's migrations, and the
one-line errors at start."""

from __future__ import annotations

import ast
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from support import ROOT

from handoutpress.records import HandOut, RecordsError, open_records
from handoutpress.records.schema import MIGRATIONS, Migration, current_version, migrate
from handoutpress.records.target import make_engine, read_target


def test_events_are_written_and_read_back_as_given(backend) -> None:
    """Each recorded event is one row holding exactly its fields, under a unique id, with nothing else."""
    records = backend.open()
    events = [
        backend.event(),
        backend.event(channel="open", variant="large-print", language="es", selected_system="icd10cm", selected_code="F33.1"),
        backend.event(channel="personalised", count=3, day=date(2026, 1, 31)),
    ]
    assert records.record(events) is None
    assert records.record([]) is None
    rows = backend.rows()
    assert [HandOut(**{k: v for k, v in r.items() if k not in ("id", "event_uid")}) for r in rows] == events
    assert len({r["event_uid"] for r in rows}) == 3
    assert set(rows[0]) == {
        "id", "event_uid", "day", "desk", "handout_id", "language", "variant", "edition", "channel",
        "selected_system", "selected_code", "count",
    }  # fmt: skip
    assert records.pending() == 0


def test_the_default_record_is_a_sqlite_file_in_wal_mode_made_on_first_use(tmp_path: Path) -> None:
    """Without --records the events go to <root>/records/handed-out.sqlite3, made (folder too) in WAL mode."""
    root = tmp_path / "project"
    records = open_records(None, root, "front-desk")
    try:
        file = root / "records" / "handed-out.sqlite3"
        assert records.location == str(file)
        with sqlite3.connect(file) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert conn.execute("SELECT count(*) FROM handed_out").fetchone() == (0,)  # the probe was rolled back
    finally:
        records.close()


def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    """``sqlite:///PATH`` puts the record at PATH, making its folder."""
    file = tmp_path / "elsewhere" / "desk.sqlite3"
    records = open_records(f"sqlite:///{file}", tmp_path / "project", "front-desk")
    records.close()
    assert records.location == str(file) and file.is_file()


def test_the_table_refuses_update_and_delete(backend) -> None:
    """The database itself refuses to change or remove an event (triggers), so no path of the product can."""
    backend.open().record([backend.event()])
    engine = create_engine(backend.engine_url)
    statements = ["UPDATE handed_out SET count = 2", "DELETE FROM handed_out"]
    if backend.kind == "postgresql":
        statements.append("TRUNCATE handed_out")
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    assert len(backend.rows()) == 1


def test_no_code_of_the_package_updates_or_deletes_events() -> None:
    """Append-only for the product: nothing in handoutpress imports SQLAlchemy's update or delete, or writes them as SQL."""
    for path in (ROOT / "handoutpress").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                assert not {a.name for a in node.names} & {"update", "delete"}, path
            if isinstance(node, ast.Attribute) and node.attr in ("update", "delete") and "records" in path.parts:
                pytest.fail(f"{path}: .{node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                sql = " ".join(node.value.upper().split())
                assert "UPDATE HANDED_OUT" not in sql and "DELETE FROM HANDED_OUT" not in sql, path


def test_an_empty_database_gets_the_whole_schema(backend) -> None:
    """Opening an empty database creates the events table and notes schema version 1."""
    backend.open()
    engine = create_engine(backend.engine_url)
    try:
        with engine.connect() as conn:
            assert current_version(conn) == MIGRATIONS[-1].version == 1
            assert {"handed_out", "handoutpress_schema"} <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_an_older_schema_is_brought_up_to_date_and_its_events_kept(backend) -> None:
    """A database at an older version runs only the later migrations, keeping its events; a second run applies nothing."""
    backend.open().record([backend.event()])
    version_2 = Migration(
        2, "an index for the test", lambda conn: conn.execute(text("CREATE INDEX by_desk ON handed_out (desk)"))
    )
    engine = make_engine(read_target(backend.url, backend.root))
    try:
        with engine.begin() as conn:
            assert migrate(conn, (*MIGRATIONS, version_2)) == [2]
        with engine.begin() as conn:
            assert migrate(conn, (*MIGRATIONS, version_2)) == []
            assert current_version(conn) == 2
            assert "by_desk" in {i["name"] for i in inspect(conn).get_indexes("handed_out")}
    finally:
        engine.dispose()
    assert len(backend.rows()) == 1


def test_a_schema_from_a_newer_version_is_refused_in_one_line(backend) -> None:
    """A database migrated by a newer Handout Press is not guessed at: one line, at start."""
    backend.open()
    engine = create_engine(backend.engine_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO handoutpress_schema (version, applied_on) VALUES (7, '2030-01-01')"))
    finally:
        engine.dispose()
    with pytest.raises(RecordsError) as caught:
        backend.open()
    assert str(caught.value) == "--records: the database's schema is version 7, newer than this Handout Press knows (1)"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://clinic:s3cret@db/records", "--records: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE, got 'mysql://clinic:***@db/records'"),
        ("postgresql://clinic:s3cret@db:port/records", "--records: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE, got 'postgresql://clinic:***@db:port/records' (invalid literal for int() with base 10: 'port')"),
        ("postgresql://clinic:s3cret@db:5432", "--records: name the database: postgresql://USER@HOST:PORT/DATABASE, got 'postgresql://clinic:***@db:5432'"),
        ("sqlite://", "--records: an SQLite URL names a file: sqlite:///PATH, got 'sqlite://'"),
        ("records.sqlite3", "--records: expected sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE, got 'records.sqlite3'"),
    ],
)  # fmt: skip
def test_a_malformed_url_is_one_line_without_the_password(url: str, message: str, tmp_path: Path) -> None:
    """A --records URL that names no usable database is refused with one line, the password shown as ***."""
    with pytest.raises(RecordsError) as caught:
        open_records(url, tmp_path, "front-desk")
    assert str(caught.value) == message
    assert "s3cret" not in str(caught.value)


def test_the_location_printed_at_start_never_shows_the_password(tmp_path: Path) -> None:
    """Where events go, as serve prints it, shows a URL's password (in the user part or the query) as ***."""
    assert read_target("postgres://desk:s3cret@db.clinic:5433/records", tmp_path).location == (
        "postgresql://desk:***@db.clinic:5433/records"
    )
    target = read_target("postgresql://desk@db.clinic/records?password=s3cret&sslmode=require", tmp_path)
    assert target.location == "postgresql://desk@db.clinic/records?password=***&sslmode=require"
    assert target.hide("FATAL: s3cret rejected") == "FATAL: *** rejected"


def test_an_unreachable_server_is_one_line_without_the_password(postgres_server, tmp_path: Path) -> None:
    """A PostgreSQL port where nothing listens is refused at start, in one line, the password masked."""
    port = postgres_server.port() + 1 if postgres_server.port() < 65535 else 1
    with pytest.raises(RecordsError) as caught:
        open_records(f"postgres://clinic:s3cret@127.0.0.1:{port}/records", tmp_path, "front-desk")
    line = str(caught.value)
    assert line.startswith(f"--records: cannot use postgresql://clinic:***@127.0.0.1:{port}/records: connection to server at")
    assert "Connection refused" in line and "\n" not in line and "s3cret" not in line


def test_a_missing_database_on_a_live_server_is_one_line(postgres_server, tmp_path: Path) -> None:
    """A server that answers but has no such database says so, in one line."""
    with pytest.raises(RecordsError) as caught:
        open_records(postgres_server.url("no_such_db"), tmp_path, "front-desk")
    assert str(caught.value).endswith('database "no_such_db" does not exist')


def test_a_sqlite_file_locked_by_another_program_is_one_line(tmp_path: Path) -> None:
    """A SQLite file another connection holds with BEGIN EXCLUSIVE is refused at start after a short wait."""
    file = tmp_path / "records" / "handed-out.sqlite3"
    open_records(None, tmp_path, "front-desk").close()
    holder = sqlite3.connect(file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RecordsError) as caught:
            open_records(None, tmp_path, "front-desk")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(caught.value) == f"--records: cannot use {file}: database is locked (another program holds the file)"


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    """A record whose folder cannot be made (a file is in the way) is one line at start."""
    (tmp_path / "records").write_text("not a folder", encoding="utf-8")
    with pytest.raises(RecordsError) as caught:
        open_records(None, tmp_path, "front-desk")
    assert str(caught.value) == f"--records: cannot make the folder {tmp_path / 'records'}: File exists"


def test_a_bad_desk_name_is_one_line(tmp_path: Path) -> None:
    """A desk name is an id, never free text: anything else is refused before the record is opened."""
    with pytest.raises(RecordsError) as caught:
        open_records(None, tmp_path, "Jane Doe, DOB 1970-01-01")
    assert str(caught.value).startswith("--desk: a desk name is 1 to 40 letters, digits, spaces or -_. characters")
    assert not (tmp_path / "records").exists()


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MiB tmpfs mounted for the test (needs root; skipped, saying why, where it cannot be mounted)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"a full disk needs a small tmpfs, and mounting one failed: {result.stderr.strip() or result.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(folder: Path) -> None:
    with (folder / "filler").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def test_a_full_disk_is_one_line_at_start(small_disk: Path, tmp_path: Path) -> None:
    """A SQLite record on a disk with no room left is refused at start with one line."""
    _fill(small_disk)
    with pytest.raises(RecordsError) as caught:
        open_records(f"sqlite:///{small_disk / 'handed-out.sqlite3'}", tmp_path, "front-desk")
    assert str(caught.value) == f"--records: the disk holding {small_disk} is full (0 KiB free)"


def test_a_disk_that_fills_while_serving_spools_and_loses_nothing(small_disk: Path, tmp_path: Path) -> None:
    """When the disk under the SQLite file fills while serving, record() answers with a notice and spools; freed, it writes back."""
    file = small_disk / "handed-out.sqlite3"
    records = open_records(f"sqlite:///{file}", tmp_path, "front-desk", retry_seconds=3600)
    try:
        _fill(small_disk)
        event = HandOut(
            date(2026, 11, 20), "front-desk", "sleep-and-mood", "en", "standard", "2026.06-aaaaaa", "print", None, None
        )
        notices = [records.record([event] * 50) for _ in range(20)]  # enough pages to need the disk
        assert any(n and n.startswith("records: the database could not be written (") for n in notices), notices
        waiting = records.pending()
        assert waiting > 0
        (small_disk / "filler").unlink()
        assert records.record([event]) is None and records.pending() == 0
    finally:
        records.close()
    with sqlite3.connect(file) as conn:
        assert conn.execute("SELECT count(*) FROM handed_out").fetchone() == (20 * 50 + 1,)
