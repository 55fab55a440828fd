"""Maps a weights file's own class names onto canonical labels (DESIGN.md 3).

Third-party weights work by configuration alone: a model whose classes are `With Helmet` /
`Without Helmet` is usable once its config says which canonical label each name means.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from edge.labels import Label

log = logging.getLogger(__name__)


class ClassMapError(ValueError):
    """The weights cannot provide the labels a camera needs."""


@dataclass(frozen=True)
class ClassMap:
    """Which model class indices to keep, what each means, and its confidence floor."""

    labels: Mapping[int, Label]
    names: Mapping[int, str]
    thresholds: Mapping[Label, float]

    @property
    def indices(self) -> list[int]:
        return sorted(self.labels)

    @property
    def min_confidence(self) -> float:
        return min(self.thresholds.values(), default=1.0)


def resolve_class_map(model_names: Mapping[int, str], class_map: Mapping[str, Label | None],
                      conf: float, thresholds: Mapping[Label, float],
                      required: frozenset[Label] = frozenset(), weights: str = "weights") -> ClassMap:
    """Match `class_map` (weights' name -> label, None = ignore) against the weights' names.

    Classes the config does not mention are ignored with one warning. Raises ClassMapError
    when a configured name does not exist in the weights or a required label is not provided.
    """
    by_name = {name: idx for idx, name in model_names.items()}
    missing_names = sorted(set(class_map) - set(by_name))
    if missing_names:
        raise ClassMapError(f"{weights}: class_map names {missing_names} are not classes of these "
                            f"weights (they have {sorted(by_name)})")
    labels = {by_name[name]: label for name, label in class_map.items() if label is not None}
    unmapped = sorted(name for name in by_name if name not in class_map)
    if unmapped:
        log.warning("%s: ignoring classes not in the class map: %s", weights, ", ".join(unmapped))
    lacking = sorted(str(label) for label in required - set(labels.values()))
    if lacking:
        raise ClassMapError(f"{weights}: no class is mapped to the required label(s) {lacking}")
    floors = {label: thresholds.get(label, conf) for label in set(labels.values())}
    return ClassMap(labels=labels, names={i: model_names[i] for i in labels}, thresholds=floors)
