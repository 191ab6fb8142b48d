"""The front desk: the catalogue (``out/index.html`` with thumbnails) and
`serve` (that catalogue on this computer only, with one-off personalised copies,
print lists, the web edition and the Infobutton answer).

`serve` is the app; `library` is ``out/`` as it sees it (and the one job a
personalised copy needs), `forms` checks what the desk sends, `press` keeps
worker processes warm for personalised copies, `printlist` joins PDFs into
one job, and `recording` turns each document handed out into a hand-out event.
"""
