"""Matrices in PDF's row-vector convention, and how content streams write them.

A `Matrix` is the six numbers of a ``cm`` operator, ``(a, b, c, d, e, f)``:
a point ``(x, y)`` goes to ``(a x + c y + e, b x + d y + f)``. Nothing here
reads or writes a PDF object; the stamp uses these to set its band upright on
a turned page and to shrink a page's own content (and move its links) out of
the band's way, and `format_number` is the one way the stamp writes a number
into content it builds, so the same value always gives the same bytes.
"""

from __future__ import annotations

Matrix = tuple[float, float, float, float, float, float]
Box = tuple[float, float, float, float]  # (left, bottom, right, top)

IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def multiply(a: Matrix, b: Matrix) -> Matrix:
    """``a`` then ``b``, in PDF's row-vector convention."""
    return (
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    )


def invert(m: Matrix) -> Matrix:
    """The matrix that undoes ``m`` (which must not flatten the plane)."""
    a, b, c, d, e, f = m
    det = a * d - b * c
    return (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    """Where ``m`` takes the point ``(x, y)``."""
    return (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])


def as_matrix(values) -> Matrix:
    """The six operands of a ``cm`` (numbers of any kind) as a `Matrix`."""
    a, b, c, d, e, f = (float(v) for v in values)
    return (a, b, c, d, e, f)


def transformed_box(m: Matrix, box: Box) -> Box:
    """The upright box that holds ``box`` once ``m`` has moved its four corners."""
    x0, y0, x1, y1 = box
    corners = [apply(m, x, y) for x in (x0, x1) for y in (y0, y1)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return (min(xs), min(ys), max(xs), max(ys))


def scale_of(m: Matrix) -> float:
    """How much ``m`` shrinks or grows lengths (the square root of its area factor)."""
    return (abs(m[0] * m[3] - m[1] * m[2])) ** 0.5


def display_matrix(box: Box, rotate: int) -> tuple[Matrix, float, float]:
    """The matrix from displayed coordinates (origin bottom left of the page as
    shown, y up) to the page's user space, and the displayed width and height.

    ``/Rotate`` turns the page clockwise for display; this is its inverse.
    """
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if rotate == 90:  # shown (X, Y) is user (x0 + w - Y, y0 + X)
        return (0.0, 1.0, -1.0, 0.0, x0 + w, y0), h, w
    if rotate == 180:
        return (-1.0, 0.0, 0.0, -1.0, x0 + w, y0 + h), w, h
    if rotate == 270:  # shown (X, Y) is user (x0 + Y, y0 + h - X)
        return (0.0, -1.0, 1.0, 0.0, x0, y0 + h), h, w
    return (1.0, 0.0, 0.0, 1.0, x0, y0), w, h


def shrink_about(x: float, y: float, scale: float) -> Matrix:
    """Scaling by ``scale`` about the point ``(x, y)``, which stays where it is."""
    return (scale, 0.0, 0.0, scale, x * (1 - scale), y * (1 - scale))


def format_number(value: float) -> str:
    """A number as the stamp writes it in content: at most five decimals, no
    trailing zeros, never ``-0`` (so equal values give equal bytes)."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def cm_operator(m: Matrix) -> bytes:
    """``m`` as a ``cm`` operator line."""
    return (" ".join(format_number(v) for v in m) + " cm\n").encode()
