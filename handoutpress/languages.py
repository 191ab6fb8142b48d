"""Language codes as the project spells them: ``en``, ``es``, ``pt-BR``.

A language folder under ``handouts/`` is named by one; a region, when given,
refines the base language and never changes which rules apply to it.
"""

from __future__ import annotations

import re

LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def base_language(code: str) -> str:
    """The language without its region, lower-cased: ``es-MX`` -> ``es``."""
    return code.split("-")[0].lower()
