"""The hand-out record: one event each time the front desk hands a document
out (which handout, edition, language and variant, how, by which desk, on
which day, selected by which code) and never anything about the patient.

Stage: after `batch`, before `frontdesk` (which records through it) and `cli`
(``serve --records URL``, ``report``). `events` is the event and its table,
`schema` creates or migrates it, `target` reads ``--records URL``, `spool`
keeps events while the database is away, `store` is what a desk opens, and
`report` counts what was handed out.
"""

from handoutpress.records.events import CHANNELS, DEFAULT_DESK, HandOut, RecordsError, utc_today
from handoutpress.records.store import Records, open_records

__all__ = ["CHANNELS", "DEFAULT_DESK", "HandOut", "RecordsError", "Records", "open_records", "utc_today"]
