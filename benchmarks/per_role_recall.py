"""Helmet-model head recall per role on the checkpoint samples: who is the model failing?

The val set's mAP50 pools every head; a site's helmet rate hangs on the rare ones (bare
drivers and passengers), so this splits the clips' ground-truth heads by role and verdict:
helmeted drivers, bare drivers, helmeted passengers, bare passengers, and the heads of no
rider (pedestrians). A head counts when mostly visible and tall enough to judge (the same rule
as tests/test_shipped_models.py); it is "right" when a detection of its own label overlaps it.

    .venv/bin/python benchmarks/per_role_recall.py [--weights models/helmet.pt ...]
        [--clips checkpoint-day,checkpoint-night] [--step 3]

Each weights path runs with the site config's helmet settings (imgsz, class map, thresholds).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import cv2

if TYPE_CHECKING:
    from edge.synth.truth import SceneTruth

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
os.environ.setdefault("YOLO_OFFLINE", "1")

MIN_VISIBLE, MIN_HEAD_PX, MIN_IOU = 0.6, 12, 0.4
ROLES = ("helmeted driver", "bare driver", "helmeted passenger", "bare passenger", "no rider")


def head_roles(truth: SceneTruth) -> dict[int, str]:
    """Head track id -> role, from the clip's riders; heads of no rider are left out."""
    from edge.labels import Verdict

    roles: dict[int, str] = {}
    for rider in truth.riders:
        for occupant in rider.occupants:
            worn = "helmeted" if occupant.verdict == Verdict.HELMET else "bare"
            roles[occupant.head_track_id] = f"{worn} {occupant.role}"
    return roles


def main() -> int:
    from edge.analysers.geometry import iou
    from edge.config import load_site
    from edge.detector.yolo import YoloDetector
    from edge.labels import HEAD_LABELS
    from edge.synth.truth import SceneTruth

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, action="append",
                        help="weights to measure (repeatable; default models/helmet.pt)")
    parser.add_argument("--site", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--clips", default="checkpoint-day,checkpoint-night")
    parser.add_argument("--step", type=int, default=3, help="every n-th frame")
    args = parser.parse_args()
    config = load_site(args.site).models["helmet"]

    for weights in args.weights or [REPO / "models" / "helmet.pt"]:
        detector = YoloDetector.from_config(config.with_weights(weights))
        for clip in args.clips.split(","):
            truth = SceneTruth.read(REPO / "samples" / f"{clip}.json")
            roles = head_roles(truth)
            seen: Counter[str] = Counter()
            right: Counter[str] = Counter()
            cap = cv2.VideoCapture(str(REPO / "samples" / f"{clip}.mp4"))
            try:
                for index in range(truth.frame_count):
                    ok, frame = cap.read()
                    if not ok:
                        raise SystemExit(f"{clip}: frame {index} unreadable")
                    if index % args.step:
                        continue
                    found = detector.detect(frame)
                    for box in truth.frames[index].boxes:
                        if (box.label not in HEAD_LABELS or box.visible < MIN_VISIBLE
                                or box.xyxy[3] - box.xyxy[1] < MIN_HEAD_PX):
                            continue
                        role = roles.get(box.track_id, "no rider")
                        seen[role] += 1
                        right[role] += any(d.label == box.label and iou(d.xyxy, box.xyxy) >= MIN_IOU
                                           for d in found)
            finally:
                cap.release()
            cells = "  ".join(f"{role} {right[role] / seen[role]:.2f} of {seen[role]}"
                              if seen[role] else f"{role} -" for role in ROLES)
            print(f"{weights.name} {clip}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
