"""The marked-content walk behind the audit's artifact rule: one pass over a
page's content that finds what is drawn outside both the structure tree and
an artifact, and which forms the artifacts draw (the stamp).

PDF/UA asks that every piece of content be either real content, in a
marked-content sequence with an MCID the structure tree points at, or an
artifact. A form XObject drawn inside an artifact or a tagged sequence
belongs to it; a form drawn outside both must mark its own content, so the
walk follows it (up to `MAX_FORM_DEPTH` forms deep, each form once on a path).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pypdf.generic import DictionaryObject

from handoutpress.pdf.syntax import INLINE_IMAGE, TEXT_SHOWING, Operand, PdfString, operations
from handoutpress.verify.content import PageContent, entry, form_xobject

MAX_FORM_DEPTH = 12
# What the walk acts on: marked content, shown text, XObjects and inline images.
WALKED = frozenset({b"BDC", b"BMC", b"EMC", b"Do", INLINE_IMAGE} | TEXT_SHOWING)


@dataclass
class Walk:
    """What one page draws, as the artifact rule and the stamp rule need it."""

    loose: list[str] = field(default_factory=list)  # drawn outside both tags and artifacts, described
    artifact_forms: list = field(default_factory=list)  # forms drawn inside artifacts (the stamp)
    inline_artifact_text: bool = False  # does an artifact show text itself (not only through forms)?


def walk_page(content: PageContent) -> Walk:
    """One pass over the page's content: what is loose, what the artifacts draw."""
    walk = Walk()
    _walk(content.operations, content.resources, walk, set(), 0)
    return walk


def _walk(found: Iterable[tuple[Sequence[Operand], bytes]], resources: Any, walk: Walk, forms: set[int], depth: int) -> None:
    resources = resources.get_object() if resources is not None else DictionaryObject()
    stack: list[str] = []  # per open sequence: "artifact", "tagged" or "other"
    for operands, operator in found:
        if operator not in WALKED:
            continue  # read for the stamp's text, on the same scan
        if operator == b"EMC":
            if stack:
                stack.pop()
        elif operator == b"BDC" or operator == b"BMC":
            stack.append(_kind(operands, resources, operator))
        elif "artifact" in stack:
            if operator == b"Do":
                form = form_xobject(operands, resources)
                if form is not None:
                    walk.artifact_forms.append(form)
            elif operator in TEXT_SHOWING:
                walk.inline_artifact_text = True
        elif "tagged" in stack:
            continue  # real content, in the structure tree
        elif operator == b"Do":
            _walk_xobject(operands, resources, walk, forms, depth)
        elif operator == INLINE_IMAGE:
            walk.loose.append("an inline image")
        elif _shows_ink(operands, operator):
            walk.loose.append(f"text {_sample(operands, operator)}")


def _kind(operands: Sequence[Operand], resources: Any, operator: bytes) -> str:
    """What a marked-content sequence opened with these operands is: "artifact", "tagged" or "other"."""
    if operands and operands[0] == "/Artifact":
        return "artifact"
    if operator == b"BDC" and len(operands) > 1:
        props = operands[1]
        if isinstance(props, str):  # a named property list in /Properties
            named = entry(resources, "/Properties")
            props = named.get(props)
            props = props.get_object() if props is not None else None
        if isinstance(props, dict) and "/MCID" in props:
            return "tagged"
    return "other"


def _walk_xobject(operands: Sequence[Operand], resources: Any, walk: Walk, forms: set[int], depth: int) -> None:
    """A form or image drawn outside both tags and artifacts: an image is loose, a form is walked."""
    xobjects = entry(resources, "/XObject")
    name = operands[0] if operands and isinstance(operands[0], str) else None
    ref = xobjects.raw_get(name) if name is not None and name in xobjects else None
    if ref is None:
        return
    xobject = ref.get_object()
    subtype = xobject.get("/Subtype")
    if subtype == "/Image":
        walk.loose.append(f"image {name}")
        return
    if subtype != "/Form":
        return
    key = getattr(ref, "idnum", id(xobject))
    if key in forms or depth >= MAX_FORM_DEPTH:
        return
    forms.add(key)
    try:
        _walk(operations(xobject.get_data(), WALKED), xobject.get("/Resources") or resources, walk, forms, depth + 1)
    finally:
        forms.discard(key)


def shown_strings(operands: Sequence[Operand], operator: bytes) -> list[PdfString]:
    """The strings a text-showing operator shows (a TJ array's strings; the last operand of the others)."""
    items = operands[0] if operator == b"TJ" and operands and isinstance(operands[0], list) else operands[-1:]
    return [item for item in items if isinstance(item, PdfString)]


def _shows_ink(operands: Sequence[Operand], operator: bytes) -> bool:
    return any(item.value() for item in shown_strings(operands, operator))


def _sample(operands: Sequence[Operand], operator: bytes) -> str:
    """The shown bytes as the finding quotes them: printable ASCII as text, anything else as hex."""
    raw = b"".join(item.value() for item in shown_strings(operands, operator))
    printable = raw.decode("latin-1") if raw.isascii() and raw.decode("latin-1").isprintable() else f"<{raw[:8].hex()}…>"
    return repr(printable[:30])
