"""Checkpoint Vision: edge pipeline for helmet-rule riders and straw-burning smoke."""

__version__ = "0.1.0"
