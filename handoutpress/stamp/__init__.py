"""Stage 4, stamp: every page gets the disclaimer, crisis lines, review months,
page number and edition, as a pagination artifact.

`kit` (the band, typeset once per spec and kept in `StampKits`), `apply`
(stamping a document as an incremental update), `rewrite` (moving glyphs
between fonts) and `outside` (stamping a PDF the clinic did not make).
"""
