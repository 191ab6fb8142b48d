"""Stage 1, load: YAML becomes validated, frozen models, every problem located.

`yamlsafe` (strict, line-aware YAML), `schema` (what every input's schema
shares), `content` (handouts), `brand` (a clinic's look and wording),
`glossary` (medical terms and their plain definitions), `config` (the
project's settings) and `project` (where the project's folders are).
"""
