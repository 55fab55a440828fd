"""Detector stage: frames in, canonical-label detections out (DESIGN.md 2-3)."""

from edge.detector.types import Detection, Detector

__all__ = ["Detection", "Detector"]
