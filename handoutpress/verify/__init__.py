"""Verifying PDFs: the audit's rules (`audit`) on top of the PDF toolkit, with
the page's content scanned once (`content`), the marked-content walk
(`walk`) and the stamp's text (`stamptext`)."""
