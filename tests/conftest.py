"""Shared fixtures: tests never download anything and never touch the user's files."""

from __future__ import annotations

import os

os.environ.setdefault("YOLO_OFFLINE", "1")
