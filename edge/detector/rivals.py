"""One box per object across rival labels: NMS that treats `head_helmet` and `head_no_helmet` as one class.

YOLO's NMS is per class, so a head the model is unsure about comes out twice, boxed as helmeted
and as bare. Downstream a rider is counted by heads, so the twin would be a phantom passenger
with the opposite verdict; the more confident box is the model's call.
"""

from __future__ import annotations

import torch
from torchvision.ops import batched_nms

from edge.detector.types import Detection
from edge.labels import RIVAL_LABELS, Label


def _group(label: Label) -> int:
    """NMS group of a label: rivals share one, every other label has its own."""
    for i, rivals in enumerate(RIVAL_LABELS):
        if label in rivals:
            return i
    return len(RIVAL_LABELS) + list(Label).index(label)


def suppress_rivals(detections: list[Detection], iou: float) -> list[Detection]:
    """Drop each box that overlaps a more confident box of a rival label by more than `iou`."""
    if not any(d.label in rivals for d in detections for rivals in RIVAL_LABELS):
        return detections
    boxes = torch.tensor([d.xyxy for d in detections], dtype=torch.float32)
    scores = torch.tensor([d.confidence for d in detections], dtype=torch.float32)
    groups = torch.tensor([_group(d.label) for d in detections])
    keep = sorted(batched_nms(boxes, scores, groups, iou).tolist())
    return [detections[i] for i in keep]
