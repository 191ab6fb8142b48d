"""The web edition: every handout as an accessible page, ``out/web/<language>/<id>/``,
with a page per edition behind each printout's QR code.

`site` (what every page of one build shares, and how a page is written),
`pages` (the handout pages and the index) and `editions` (the edition pages:
current, replaced or withdrawn, from the handout's history).
"""
