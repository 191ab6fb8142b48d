"""The content checks: what `generate.py check` reports and the build records.

`run` (running them over a library; `CheckRun` for one build), `review`
(review dates), `reading` with `readability` and `syllables` (reading
grades), `prose` (the prose those are computed on), `plainlanguage`,
`pemat` (an automatic PEMAT-P subset), `links`, `translations` (stale and
orphan translations), `report` (the one report type) and `cache` (results
kept between builds).
"""
