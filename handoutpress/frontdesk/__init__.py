"""The front desk: the catalogue (``out/index.html`` with thumbnails) and
`serve` (that catalogue on this computer only, with one-off personalised copies).
"""
