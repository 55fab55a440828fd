"""Small box and polygon helpers shared by the analysers (pixels unless a name says `_norm`)."""

from __future__ import annotations

from collections.abc import Sequence

XYXY = tuple[float, float, float, float]


def iou(a: XYXY, b: XYXY) -> float:
    """Intersection over union of two boxes; 0 when either is empty."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def centre(box: XYXY) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def contains(box: XYXY, x: float, y: float) -> bool:
    return box[0] <= x <= box[2] and box[1] <= y <= box[3]


def grow(box: XYXY, fraction: float) -> XYXY:
    """The box grown by `fraction` of its width and height on every side."""
    dx, dy = (box[2] - box[0]) * fraction, (box[3] - box[1]) * fraction
    return box[0] - dx, box[1] - dy, box[2] + dx, box[3] + dy


def union_box(a: XYXY, b: XYXY) -> XYXY:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def overlap_of_smaller(a: XYXY, b: XYXY) -> float:
    """Intersection over the smaller box's area: 1 when one box lies inside the other."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def border_sides(box: XYXY, width: int, height: int, margin_px: float) -> frozenset[str]:
    """Which image edges the box reaches (`left`, `top`, `right`, `bottom`): a box there is clipped."""
    sides = []
    if box[0] <= margin_px:
        sides.append("left")
    if box[1] <= margin_px:
        sides.append("top")
    if box[2] >= width - margin_px:
        sides.append("right")
    if box[3] >= height - margin_px:
        sides.append("bottom")
    return frozenset(sides)


def normalise(box: XYXY, width: int, height: int) -> XYXY:
    """Pixel box to 0..1 image coordinates, clipped to the image."""
    return (min(max(box[0] / width, 0.0), 1.0), min(max(box[1] / height, 0.0), 1.0),
            min(max(box[2] / width, 0.0), 1.0), min(max(box[3] / height, 0.0), 1.0))


def in_polygon(x: float, y: float, polygon: Sequence[tuple[float, float]]) -> bool:
    """Even-odd rule point-in-polygon test (any consistent units)."""
    inside = False
    n = len(polygon)
    for i in range(n):
        (x0, y0), (x1, y1) = polygon[i], polygon[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside
