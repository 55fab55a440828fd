"""Canonical labels (DESIGN.md section 3): every model's classes are mapped onto these."""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    """A canonical detection label, independent of any model's own class names."""

    RIDER = "rider"
    TWO_WHEELER = "two_wheeler"
    HEAD_HELMET = "head_helmet"
    HEAD_NO_HELMET = "head_no_helmet"
    SMOKE = "smoke"
    FIRE = "fire"


class Verdict(StrEnum):
    """Helmet verdict for one occupant of a two-wheeler."""

    HELMET = "helmet"
    NO_HELMET = "no_helmet"
    UNKNOWN = "unknown"


#: Labels a checkpoint (helmet) model must provide; `rider` is optional (DESIGN.md 3).
CHECKPOINT_LABELS: frozenset[Label] = frozenset(
    {Label.TWO_WHEELER, Label.HEAD_HELMET, Label.HEAD_NO_HELMET}
)
#: A head, whatever its verdict.
HEAD_LABELS: frozenset[Label] = frozenset({Label.HEAD_HELMET, Label.HEAD_NO_HELMET})
#: Labels that are rival verdicts on one object: a head is helmeted or bare, never both. A
#: detector's per-class NMS keeps one box of each, and on the sample clips a third of head boxes
#: had a rival twin on the same head (IoU > 0.7), which the rider counter took for a passenger.
RIVAL_LABELS: tuple[frozenset[Label], ...] = (HEAD_LABELS,)
#: Labels a smoke model must provide; `fire` is optional.
SMOKE_LABELS: frozenset[Label] = frozenset({Label.SMOKE})
