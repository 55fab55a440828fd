"""Synthetic scenes with exact ground truth: the project's own test footage and training data."""
