"""The content checks: what `generate.py check` reports and the build records.

`run` (running them over a library; `CheckRun` for one build), `review`
(review dates), `reading` with `readability` and `syllables` (reading
grades), `prose` (the prose those are computed on, read from `markdown`),
`plainlanguage`, `pemat` (an automatic PEMAT-P subset), `links`,
`translations` (stale and orphan translations), `report` (the one report
type), `cache` (results kept between builds) and `memo` (the last check's
output, printed again when nothing changed).
"""
