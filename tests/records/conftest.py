"""Fixtures for the hand-out record's tests: a real PostgreSQL server for the
session (the one .ci/run started, or a throwaway cluster), and `backend`, one
fresh record per test in SQLite or in its own PostgreSQL database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from support.postgres import PostgresServer, postgres_for_tests

from handoutpress.records import HandOut, Records, open_records
from handoutpress.records.events import handed_out

BACKENDS = ("sqlite", "postgresql")
A_DAY = date(2026, 11, 20)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from postgres_for_tests()


@dataclasses.dataclass
class Backend:
    """One fresh hand-out record for a test: where it is, and ways to open and read it."""

    kind: str  # "sqlite" or "postgresql"
    root: Path  # the project folder (spool and default SQLite file under records/)
    url: str | None  # what --records would say (None: the default SQLite file)
    server: PostgresServer | None = None
    opened: list[Records] = dataclasses.field(default_factory=list)

    @property
    def engine_url(self) -> str:
        if self.url is None:
            return f"sqlite:///{self.root / 'records' / 'handed-out.sqlite3'}"
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def open(self, desk: str = "front-desk", **options: Any) -> Records:
        records = open_records(self.url, self.root, desk, **options)
        self.opened.append(records)
        return records

    def rows(self) -> list[dict[str, Any]]:
        """Every row of the events table, in id order, read by a connection of our own."""
        engine = create_engine(self.engine_url)
        try:
            with engine.connect() as conn:
                return [dict(r) for r in conn.execute(select(handed_out).order_by(handed_out.c.id)).mappings()]
        finally:
            engine.dispose()

    @staticmethod
    def event(**changes: Any) -> HandOut:
        """A valid event, with ``changes``."""
        fields: dict[str, Any] = {
            "day": A_DAY,
            "desk": "front-desk",
            "handout_id": "ketamine-and-your-other-medications",
            "language": "en",
            "variant": "standard",
            "edition": "2025.02-1d6016",
            "channel": "print",
            "selected_system": None,
            "selected_code": None,
        }
        fields.update(changes)
        return HandOut(**fields)


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Iterator[Backend]:
    """A fresh record in SQLite (the default file) and, in a second run, in PostgreSQL."""
    if request.param == "sqlite":
        made = Backend("sqlite", tmp_path / "project", None)
    else:
        made = _postgresql_backend(request, tmp_path)
    yield made
    for records in made.opened:
        records.close()
    if made.server is not None and made.url is not None:
        made.server.ensure_running()
        made.server.drop_database(made.url)


@pytest.fixture
def pg_backend(request, tmp_path) -> Iterator[Backend]:
    """A fresh record in its own PostgreSQL database (for tests that stop the server)."""
    made = _postgresql_backend(request, tmp_path)
    yield made
    assert made.server is not None and made.url is not None
    made.server.ensure_running()  # a test that stopped it and failed leaves it running for the next
    for records in made.opened:
        records.close()
    made.server.drop_database(made.url)


def _postgresql_backend(request, tmp_path: Path) -> Backend:
    server: PostgresServer = request.getfixturevalue("postgres_server")
    server.ensure_running()
    return Backend("postgresql", tmp_path / "project", server.new_database(), server)
