"""The PDF toolkit every later stage shares, one job per module.

Reading: `syntax` (the lexical layer: names, strings, numbers and the one
content-stream tokenizer), `tounicode` (ToUnicode CMaps), `reader` (pypdf,
one object at a time). Writing: `update` (incremental updates), `fonts`
(embedded fonts), `geometry` (matrices). Looking: `thumbnail`.
"""
