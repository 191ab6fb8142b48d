"""Stage 2, render: a handout, a brand and a variant become HTML.

`html` (the `Renderer`: labels, glossaries, Jinja templates and Markdown),
`variants` (what each output is, as data) and `qr` (the QR code on page 1).
"""
