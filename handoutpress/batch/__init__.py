"""The batch: a build, from planning to the files in ``out/``, and `watch` on top.

`jobs` (options, jobs, results), `lock` (one build per ``out/``), `inputs`
(the digests that key each output), `loading` (the handouts of a batch),
`plan` (one job per output), `pipeline` (one output: render, typeset, stamp,
audit, in a `WorkerSession`), `workers` (the process pool), `run` (the
build, step by step) and `watch` (rebuild on save).
"""
