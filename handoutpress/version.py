"""The version of Handout Press, and of the libraries whose behaviour shapes its outputs."""

from __future__ import annotations

import os
import sys

__version__ = "0.1.0"


def distribution_version(name: str) -> str:
    """The installed distribution's ``.dist-info`` folder name (its name and version),
    or ``"absent"``; found on ``sys.path`` without importlib.metadata, which is slow.

    ``name`` is the distribution as its folder spells it, lower-cased (``pyyaml``,
    ``markdown_it_py``); a folder spelled with other case is found too.
    """
    prefix = name.lower() + "-"
    for entry in sys.path:
        if os.path.isdir(entry):
            found = sorted(n for n in os.listdir(entry) if n.endswith(".dist-info") and n.lower().startswith(prefix))
            if found:
                return found[0]
    return "absent"
