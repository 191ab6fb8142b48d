"""Stage 3, typeset: HTML becomes a tagged PDF with WeasyPrint.

`session` (the `TypesetSession` a worker keeps: font configuration, images,
parsed stylesheets), `fetcher` (the only way WeasyPrint reads anything) and
`stylesheets` (the head's stylesheets, parsed once).
"""
