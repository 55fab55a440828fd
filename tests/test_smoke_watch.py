"""Smoke watch: k-of-n confirmation per preset, masks, movement, one incident per plume (DESIGN.md 1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from edge.analysers import PresetState, PresetView, SmokeUpdate, SmokeWatch, TourPresets, TruthPresets
from edge.config import SmokeConfirm, load_site
from edge.detector import Detection
from edge.labels import Label
from edge.source import Frame
from edge.synth.smoke import view_bearing_deg
from edge.synth.truth import SceneTruth

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2025, 10, 20, 14, 0, tzinfo=UTC)
IMAGE = np.zeros((720, 1280, 3), np.uint8)
STEP_S = 0.5  # 2 fps analysis
VIEW = PresetView("p1", heading_deg=90.0, pan_deg=30.0, hfov_deg=60.0,
                  masks=(((0.8, 0.5), (1.0, 0.5), (1.0, 1.0), (0.8, 1.0)),))
STILL = PresetState(VIEW, False)
MOVING = PresetState(None, True)
PLUME = (600.0, 300.0, 680.0, 400.0)


def smoke(box: tuple[float, float, float, float] = PLUME, conf: float = 0.7) -> Detection:
    return Detection(Label.SMOKE, conf, box, "smoke")


Timeline = list[tuple[float, SmokeUpdate]]


def run(script: Iterable[tuple[PresetState, list[Detection]]], *, k: int = 3, n: int = 5,
        quiet_close_s: float = 60.0, settle_s: float = 0.0) -> tuple[Timeline, SmokeWatch]:
    watch = SmokeWatch(SmokeConfirm(k=k, n=n, quiet_close_s=quiet_close_s), settle_s)
    out: Timeline = []
    for i, (state, detections) in enumerate(script):
        frame = Frame(IMAGE, i, i * STEP_S, START + timedelta(seconds=i * STEP_S))
        updates = watch.expire(frame)
        if watch.should_analyse(frame, state):
            updates += watch.update(detections, frame, state)
        out += [(i * STEP_S, u) for u in updates]
    return out, watch


def phases(out: Timeline) -> list[str]:
    return [u.phase for _, u in out]


def test_k_of_n_frames_open_an_incident() -> None:
    two_of_five = [[smoke()], [], [smoke()], [], [], [smoke()], [], []]
    assert phases(run((STILL, d) for d in two_of_five)[0]) == []
    three_of_five = [[smoke()], [], [smoke()], [], [smoke()], []]
    out, watch = run((STILL, d) for d in three_of_five)
    assert [(t, u.phase) for t, u in out] == [(2.0, "opened")]
    assert watch.opened == 1
    assert out[0][1].first_seen_at == START + timedelta(seconds=2.0)


def test_smoke_inside_a_mask_is_ignored() -> None:
    chimney = smoke((1100.0, 400.0, 1180.0, 600.0))  # centre and base in the mask on the right
    assert run((STILL, [chimney]) for _ in range(10))[0] == []


def test_nothing_is_analysed_while_moving_or_settling() -> None:
    script: list[tuple[PresetState, list[Detection]]] = [(STILL, [])] + [(MOVING, [smoke()])] * 6
    script += [(STILL, [smoke()])] * 10
    out, _ = run(script, settle_s=2.0)
    # Still again at 3.5 s; settled at 5.5 s; the third analysed frame with smoke opens at 6.5 s.
    assert [(t, u.phase) for t, u in out] == [(6.5, "opened")]


def test_a_new_preset_without_a_moving_flag_also_waits_to_settle() -> None:
    other = PresetState(PresetView("p2", 90.0, 90.0, 60.0), False)
    script: list[tuple[PresetState, list[Detection]]] = [(STILL, [])] * 2 + [(other, [smoke()])] * 8
    out, _ = run(script, settle_s=1.0)
    assert [(t, u.phase, u.preset) for t, u in out] == [(3.0, "opened", "p2")]


def test_one_incident_per_plume_and_another_for_a_second_plume() -> None:
    frames = []
    for i in range(140):  # 70 s of a growing plume; a second one starts far away after 20 s
        grow = 2.0 * i
        dets = [smoke((600 - grow / 2, 300 - grow, 680 + grow / 2, 400))]
        if i >= 40:
            dets.append(smoke((100, 200, 160, 280)))
        frames.append((STILL, dets))
    out, watch = run(frames)
    assert watch.opened == 2
    first = [u for _, u in out if u.plume_id == out[0][1].plume_id]
    assert [u.phase for u in first] == ["opened", "updated", "updated"]  # every 30 s of recording time


def test_closes_after_the_quiet_period_of_recording_time() -> None:
    script = [(STILL, [smoke()])] * 6 + [(STILL, [])] * 30
    out, _ = run(script, quiet_close_s=10.0)
    assert [(t, u.phase) for t, u in out] == [(1.0, "opened"), (12.5, "closed")]
    closed = out[-1][1]
    assert closed.captured_at == START + timedelta(seconds=2.5)  # when it was last seen
    assert closed.evidence_image is None


def test_bearing_from_heading_pan_and_box_position_and_flame_from_fire() -> None:
    fire = Detection(Label.FIRE, 0.6, (610.0, 380.0, 630.0, 398.0), "fire")
    out, _ = run((STILL, [smoke(), fire]) for _ in range(3))
    (_, opened) = out[0]
    assert opened.bearing_deg == pytest.approx(view_bearing_deg(90.0, 30.0, 60.0, 620 / 1280), abs=1e-3)
    assert opened.flame
    assert opened.box_norm == pytest.approx((600 / 1280, 300 / 720, 680 / 1280, 400 / 720))
    assert opened.preset == "p1"


def test_flames_appearing_later_are_reported_at_once() -> None:
    fire = Detection(Label.FIRE, 0.6, (630.0, 380.0, 650.0, 398.0), "fire")
    out, _ = run([(STILL, [smoke()])] * 4 + [(STILL, [smoke(), fire])])
    assert [(u.phase, u.flame) for _, u in out] == [("opened", False), ("updated", True)]


def test_truth_presets_follow_the_clip_and_keep_config_masks() -> None:
    truth = SceneTruth.read(ROOT / "samples" / "smoke-fire.json")
    provider = TruthPresets(truth)
    states = [provider.at(Frame(IMAGE, f.index, f.t_s, START)) for f in truth.frames]
    assert states[0].view is not None
    assert states[0].view.id == "p1"
    assert any(s.moving for s in states)
    onset = truth.smoke[0]
    view = states[onset.onset_frame].view
    assert view is not None
    assert view.id == onset.preset
    assert view.heading_deg == truth.heading_deg


def test_tour_presets_follow_the_configured_dwell_times() -> None:
    camera = load_site(ROOT / "configs" / "site.yaml").camera("smoke-tower-3")
    assert camera.kind == "smoke"
    tour = TourPresets(camera)
    ids = []
    for t_s in (0.0, 19.9, 20.0, 45.0, 69.9, 70.0):
        state = tour.at(Frame(IMAGE, 0, t_s, START + timedelta(seconds=t_s)))
        assert state.view is not None
        ids.append(state.view.id)
    assert ids == ["east", "east", "south-east", "south", "south", "east"]
