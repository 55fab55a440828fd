"""Evidence images on the box: a JPEG of the frame and of the crop, referenced by path and sha256."""

from edge.evidence.store import EvidenceRef, EvidenceStore

__all__ = ["EvidenceRef", "EvidenceStore"]
