"""A page's content as the audit reads it: its content streams joined, as a
viewer draws them, and scanned once for every operator the page rules need.

The walk (`handoutpress.verify.walk`) and the stamp-text decoder
(`handoutpress.verify.stamptext`) both read a page's content; the scan is
most of their cost, so the audit scans each page once, for the union of the
operators they want, and hands the same `PageContent` to both. Each passes
over the operators it does not act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pypdf.generic import ArrayObject, DictionaryObject

from handoutpress.pdf.syntax import Operand, operations


def content_streams(page: Any) -> list[bytes]:
    """The decoded bytes of each of a page's content streams, in drawing order."""
    contents = page.get("/Contents")
    if contents is None:
        return []
    contents = contents.get_object()
    streams = contents if isinstance(contents, ArrayObject) else [contents]
    return [stream.get_object().get_data() for stream in streams]


def resources_of(holder: Any) -> Any:
    """A page's or a form's resource dictionary (an empty one where it has none)."""
    resources = holder.get("/Resources")
    return resources.get_object() if resources is not None else DictionaryObject()


def entry(holder: Any, key: str) -> Any:
    """The dictionary ``key`` of a resource dictionary (/Font, /XObject, /Properties), resolved;
    an empty one where it is missing."""
    return (holder.get(key) or DictionaryObject()).get_object()


def form_xobject(operands: Sequence[Operand], resources: Any) -> Any:
    """The form XObject a ``Do`` with these operands draws, or None (an image, or nothing)."""
    xobjects = entry(resources, "/XObject")
    if not operands or not isinstance(operands[0], str) or operands[0] not in xobjects:
        return None
    xobject = xobjects[operands[0]].get_object()
    return xobject if xobject.get("/Subtype") == "/Form" else None


@dataclass(frozen=True)
class PageContent:
    """One page's content, scanned once: its resources and the operations wanted, in order."""

    resources: Any  # the page's resource dictionary (an empty one where it has none)
    operations: list[tuple[Sequence[Operand], bytes]]

    @classmethod
    def read(cls, page: Any, wanted: frozenset[bytes]) -> PageContent:
        """The page's streams joined (as pypdf and viewers join them) and scanned for ``wanted``."""
        streams = content_streams(page)
        found = list(operations(b"\n".join(streams), wanted)) if streams else []
        return cls(resources_of(page), found)
