"""Evidence store: JPEG frame + crop with sha256, deterministic names, retention by age and size."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.evidence import EvidenceStore

AT = datetime(2025, 5, 6, 8, 30, tzinfo=UTC)


def image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)


def test_writes_frame_and_crop_with_their_hashes(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "ev")
    ref = store.save("event-1", image(), (100.0, 50.0, 160.0, 170.0), AT)
    assert ref.path == (tmp_path / "ev" / "2025-05-06" / "event-1.jpg").resolve()
    assert ref.sha256 == hashlib.sha256(ref.path.read_bytes()).hexdigest()
    assert ref.crop_sha256 == hashlib.sha256(ref.crop_path.read_bytes()).hexdigest()
    crop = cv2.imread(str(ref.crop_path))
    assert crop is not None
    assert crop.shape[:2] == (194 - 26, 172 - 88)  # the box and 20% of its size around it
    assert ref.uri == str(ref.path)
    assert not list(ref.path.parent.glob("*.tmp"))


def test_same_input_gives_the_same_file_and_hash(tmp_path: Path) -> None:
    a = EvidenceStore(tmp_path / "a").save("x", image(1), (10.0, 10.0, 50.0, 50.0), AT)
    b = EvidenceStore(tmp_path / "b").save("x", image(1), (10.0, 10.0, 50.0, 50.0), AT)
    assert a.sha256 == b.sha256


def test_size_cap_deletes_oldest_first(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=10**9)
    refs = [store.save(f"e{i}", image(i), (10.0, 10.0, 200.0, 200.0), AT) for i in range(4)]
    for age, ref in zip((400, 300, 200, 100), refs, strict=True):  # e0 oldest
        for path in (ref.path, ref.crop_path):
            os.utime(path, (time.time() - age, time.time() - age))
    pair = refs[0].path.stat().st_size + refs[0].crop_path.stat().st_size
    capped = EvidenceStore(tmp_path, max_bytes=store.total_bytes - pair)  # re-reads the folder
    assert capped.prune() == 2
    assert not refs[0].path.exists()
    assert not refs[0].crop_path.exists()
    assert all(r.path.exists() for r in refs[1:])


def test_files_past_the_age_limit_are_deleted(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_age_days=7)
    old = store.save("old", image(), (0.0, 0.0, 20.0, 20.0), AT)
    new = store.save("new", image(), (0.0, 0.0, 20.0, 20.0), AT)
    assert store.prune(now=time.time() + 3 * 86400) == 0
    for path in (old.path, old.crop_path):
        os.utime(path, (time.time() - 8 * 86400,) * 2)
    fresh = EvidenceStore(tmp_path, max_age_days=7)
    assert fresh.prune() == 2
    assert new.path.exists()
    assert not old.path.exists()


def test_unsafe_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="safe file name"):
        EvidenceStore(tmp_path).save("../escape", image(), (0.0, 0.0, 5.0, 5.0), AT)
