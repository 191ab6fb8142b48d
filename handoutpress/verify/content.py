"""A page's content as the audit reads it: its content streams joined, as a
viewer draws them, and scanned once for the operators the page rules need.

The walk (`handoutpress.verify.walk`) and the stamp-text decoder
(`handoutpress.verify.stamptext`) both read a page's content; the scan is
most of their cost. The walk needs every stream of the page; the stamp's
text is, on a stamped page, all in the stream the stamp appended last, so
the audit first decodes that stream alone (`PageContent.last_stream`) and
scans the whole page for the text operators only when that is not enough.
Each reader passes over the operators it does not act on.
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
    def read(cls, page: Any, wanted: frozenset[bytes], streams: list[bytes] | None = None) -> PageContent:
        """The page's streams joined (as pypdf and viewers join them) and scanned for ``wanted``.

        ``streams``: the page's decoded streams (`content_streams`), when they were read already."""
        streams = content_streams(page) if streams is None else streams
        found = list(operations(b"\n".join(streams), wanted)) if streams else []
        return cls(resources_of(page), found)

    @classmethod
    def last_stream(cls, page: Any, wanted: frozenset[bytes], streams: list[bytes]) -> PageContent | None:
        """The last of the page's streams alone (where a stamp appends its own), scanned for ``wanted``,
        with the page's resources; None when the page has fewer than two streams.

        What this stream shows inside its artifacts the page shows inside
        artifacts too: it is drawn last, with the page's resources, and an
        artifact it opens is one whatever the streams before it left open."""
        if len(streams) < 2:
            return None
        return cls(resources_of(page), list(operations(streams[-1], wanted)))
