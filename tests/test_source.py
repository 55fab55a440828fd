"""Frame sources: a file on its own clock, the live source's reconnect logic on a scripted fake
camera, and a real RTSP server (GStreamer) that is stopped, restarted and frozen under the reader."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rtsp_server import RtspServer, rtsp_unavailable

from edge.config import SourceConfig
from edge.source import Frame, SourceState
from edge.source.backoff import Backoff
from edge.source.fake import Connection, FakeCamera, fake_source, frame_mark
from edge.source.file import DEFAULT_REPLAY_START, FileSource
from edge.source.live import LiveSource
from edge.source.open import open_source
from edge.source.rtsp import OPEN_TIMEOUT_S

# 1280x720, 900 frames at 15 fps
SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "checkpoint-day.mp4"
START = datetime(2025, 1, 13, 8, 0, tzinfo=timezone(timedelta(hours=8)))
ONLINE, OFFLINE, ENDED = SourceState.ONLINE, SourceState.OFFLINE, SourceState.ENDED


class StateLog:
    """An `on_state` callback that records transitions and lets a test wait for them."""

    def __init__(self) -> None:
        self.events: list[tuple[SourceState, str, float]] = []
        self._changed = threading.Condition()

    def __call__(self, state: SourceState, detail: str) -> None:
        with self._changed:
            self.events.append((state, detail, time.monotonic()))
            self._changed.notify_all()

    @property
    def states(self) -> list[SourceState]:
        return [state for state, _, _ in self.events]

    def wait(self, predicate: Callable[[list[SourceState]], bool], timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.states), timeout=timeout_s)

    def wait_count(self, state: SourceState, count: int, timeout_s: float) -> bool:
        return self.wait(lambda states: states.count(state) >= count, timeout_s)


# An open that gets no picture gives up after OPEN_TIMEOUT_S and the source opens again, so the
# first frame of a (re)connection may come a full open timeout late (seen once from GStreamer's
# test server): the wait covers one failed open and a retry.
FRAME_WAIT_S = OPEN_TIMEOUT_S + 8.0


def read_n(source: FileSource | LiveSource, count: int, timeout_s: float = FRAME_WAIT_S) -> list[Frame]:
    """`count` frames, each within timeout_s; fails rather than returning fewer."""
    frames: list[Frame] = []
    while len(frames) < count:
        frame = source.read(timeout_s)
        assert frame is not None, f"no frame within {timeout_s} s after {len(frames)} (state {source.state})"
        frames.append(frame)
    return frames


def real_frame(frame: Frame, size_wh: tuple[int, int]) -> bool:
    """A decoded frame of the expected size, not a placeholder (None, empty or all black)."""
    return frame.image is not None and frame.size_wh == size_wh and bool(frame.image.any())


# --- file -------------------------------------------------------------------------------------


def test_file_source_uses_the_recording_clock() -> None:
    source = FileSource(SAMPLE, start=START)
    try:
        assert (source.fps, source.frame_count) == (15.0, 900)
        frames = read_n(source, 60)
    finally:
        source.close()
    assert [f.index for f in frames] == list(range(60))
    for i, frame in enumerate(frames):
        assert frame.pts_s == pytest.approx(i / 15.0, abs=1e-6)
        assert frame.captured_at == START + timedelta(seconds=frame.pts_s)
        assert real_frame(frame, (1280, 720))
    assert source.state is ENDED
    assert source.read(0.1) is None


def test_file_source_reads_every_frame_then_ends() -> None:
    log = StateLog()
    source = FileSource(SAMPLE, on_state=log)
    count, last = 0, None
    while (frame := source.read(1.0)) is not None:
        count, last = count + 1, frame
    assert count == 900
    assert last is not None
    assert last.captured_at == DEFAULT_REPLAY_START + timedelta(seconds=899 / 15)
    assert source.state is ENDED
    assert log.states == [ENDED]
    stats = source.stats()
    assert (stats.frames_in, stats.frames_out, stats.dropped_frames, stats.reconnects) == (900, 900, 0, 0)
    assert stats.covered_s == pytest.approx(60.0)
    source.close()


def test_file_source_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FileSource(SAMPLE, start=datetime(2025, 1, 13, 8))  # naive
    (tmp_path / "not-video.mp4").write_bytes(b"nothing here")
    with pytest.raises(OSError, match="cannot open"):
        FileSource(tmp_path / "not-video.mp4")


def test_realtime_file_skips_frames_it_is_late_for() -> None:
    now = [100.0]
    source = FileSource(SAMPLE, start=START, realtime=True, clock=lambda: now[0])
    try:
        first = source.read(1.0)
        assert first is not None
        assert first.pts_s == 0.0
        now[0] += 1.02  # the consumer took a second: frames 1..14 are more than a frame late
        frame = source.read(1.0)
        assert frame is not None
        assert frame.pts_s == pytest.approx(1.0)
        assert frame.index == 1
        assert source.dropped_frames == 14
        assert source.read(0.0) is None  # the next frame is not due yet: nothing, no placeholder
    finally:
        source.close()


# --- live source on the fake camera ----------------------------------------------------------


@pytest.fixture
def closing() -> Iterator[list[LiveSource]]:
    sources: list[LiveSource] = []
    yield sources
    for source in sources:
        source.close()


def test_camera_drop_out_reconnects_and_new_size_is_taken(closing: list[LiveSource],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="edge.source")
    camera = FakeCamera([Connection(frames=5), Connection(frames=None, size_wh=(80, 60))])
    log = StateLog()
    source = fake_source(camera, on_state=log)
    closing.append(source)
    frames: list[Frame] = []
    while not frames or frame_mark(frames[-1].image)[0] == 0:
        frames += read_n(source, 1)
    assert log.wait_count(ONLINE, 2, 5.0)
    assert log.states == [ONLINE, OFFLINE, ONLINE]
    assert "stream ended" in log.events[1][1]
    for frame in frames:
        assert real_frame(frame, (64, 48) if frame_mark(frame.image)[0] == 0 else (80, 60))
    marks = [frame_mark(f.image) for f in frames]
    assert marks == sorted(set(marks))  # each frame once, in order
    assert [f.index for f in frames] == list(range(len(frames)))
    assert source.size_wh == (80, 60)
    assert source.reconnects == 1
    assert [r.getMessage() for r in caplog.records if "resolution" in r.getMessage()] == [
        "fake-camera: resolution changed from 64x48 to 80x60"]
    source.close()
    assert source.state is ENDED
    assert log.states[-1] is ENDED
    assert source.read(0.0) is None


def test_stalled_stream_goes_offline_and_is_reopened(closing: list[LiveSource]) -> None:
    camera = FakeCamera([Connection(frames=3, ending="stall"), Connection(frames=None)], stall_s=2.0)
    log = StateLog()
    source = fake_source(camera, stall_timeout_s=0.3, on_state=log)
    closing.append(source)
    read_n(source, 3)
    assert log.wait_count(ONLINE, 2, 5.0)
    assert log.states == [ONLINE, OFFLINE, ONLINE]
    (_, _, online_at), (_, detail, offline_at) = log.events[0], log.events[1]
    assert detail.startswith("stalled: no frame for 0.3 s")
    assert 0.25 <= offline_at - online_at < 1.5
    frame = source.read(2.0)  # the new connection, while the stalled read still hangs
    assert frame is not None
    assert frame_mark(frame.image)[0] == 1


class RecordingBackoff(Backoff):
    def __init__(self, initial_s: float, max_s: float) -> None:
        super().__init__(initial_s, max_s)
        self.delays_s: list[float] = []

    def next_delay_s(self) -> float:
        delay_s = super().next_delay_s()
        self.delays_s.append(delay_s)
        return delay_s


def test_unreachable_camera_is_retried_with_capped_backoff(closing: list[LiveSource]) -> None:
    refused = [Connection(refuse=True)] * 5
    camera = FakeCamera([Connection(frames=2), *refused, Connection(frames=None)])
    backoff = RecordingBackoff(0.01, 0.04)
    log = StateLog()
    source = fake_source(camera, backoff=backoff, on_state=log)
    closing.append(source)
    assert log.wait_count(ONLINE, 2, 5.0)
    assert log.states == [ONLINE, OFFLINE, ONLINE]  # one OFFLINE for the whole outage
    assert backoff.delays_s == pytest.approx([0.01, 0.02, 0.04, 0.04, 0.04, 0.04])
    assert backoff.attempts == 0  # reset once frames flowed again
    assert source.reconnects == 6
    assert camera.opens == 7
    frame = source.read(2.0)
    assert frame is not None
    assert frame_mark(frame.image)[0] == 6


def test_slow_consumer_gets_the_newest_frame_and_drops_are_counted(closing: list[LiveSource]) -> None:
    camera = FakeCamera([Connection(frames=None)], fps=200.0)
    source = fake_source(camera)
    closing.append(source)
    first = read_n(source, 1)[0]
    _, sent_before = frame_mark(first.image)
    assert camera.wait_frames_sent(sent_before + 12, 5.0)
    newest = read_n(source, 1)[0]
    _, number = frame_mark(newest.image)
    assert number >= sent_before + 10  # no backlog: a frame at most a couple behind the camera
    assert newest.index == 1
    assert source.dropped_frames >= 9
    stats = source.stats()
    assert stats.frames_in >= stats.frames_out + stats.dropped_frames
    assert stats.covered_s > 0


def test_backoff_doubles_to_the_cap_with_seeded_jitter() -> None:
    plain = Backoff(1.0, 8.0)
    assert [plain.next_delay_s() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    plain.reset()
    assert plain.next_delay_s() == 1.0
    a, b = (Backoff(1.0, 8.0, jitter=0.5, rng=random.Random(7)) for _ in range(2))
    delays = [a.next_delay_s() for _ in range(6)]
    assert delays == [b.next_delay_s() for _ in range(6)]
    for delay, nominal in zip(delays, [1.0, 2.0, 4.0, 8.0, 8.0, 8.0], strict=True):
        assert nominal * 0.5 <= delay <= nominal
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(2.0, 1.0)


def test_open_source_picks_the_source_kind() -> None:
    replay = open_source(SourceConfig(url=str(SAMPLE)), start=START)
    assert isinstance(replay, FileSource)
    assert not replay.realtime
    assert replay.start == START
    replay.close()
    demo = open_source(SourceConfig(url=str(SAMPLE)), live=True)
    assert isinstance(demo, FileSource)
    assert demo.realtime
    demo.close()
    with pytest.raises(ValueError, match="live camera"):
        open_source(SourceConfig(url="rtsp://127.0.0.1:9/cam"), live=False)
    log = StateLog()
    absent = open_source(SourceConfig(url="device:63", reconnect_initial_s=5.0, reconnect_max_s=5.0),
                         on_state=log)
    try:
        assert isinstance(absent, LiveSource)
        assert log.wait_count(OFFLINE, 1, 10.0)
        assert "cannot open" in log.events[0][1]
        assert absent.read(0.0) is None
    finally:
        absent.close()


# --- a real RTSP server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clip")
    subprocess.run([sys.executable, "-m", "edge", "synth", "checkpoint", "--seed", "5", "--duration-s", "4",
                    "--width", "640", "--height", "360", "--out", str(out), "--quiet"],
                   check=True, timeout=120, capture_output=True)
    return next(out.glob("*.mp4"))


@pytest.mark.slow
def test_rtsp_camera_drops_out_stalls_and_comes_back(clip: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    reason = rtsp_unavailable()
    if reason is not None:
        pytest.skip(reason)
    caplog.set_level(logging.DEBUG)
    secret = "Cam-Secret-9731"
    monkeypatch.setenv("EDGE_TEST_CAMERA_PASSWORD", secret)
    server = RtspServer(clip, tmp_path / "rtsp.log")
    server.start()
    stall_s = 1.5
    config = SourceConfig(url=server.url.replace("rtsp://", "rtsp://viewer@"),
                          password_env="EDGE_TEST_CAMERA_PASSWORD", reconnect_initial_s=0.2,
                          reconnect_max_s=1.0, stall_timeout_s=stall_s)
    log = StateLog()
    source = open_source(config, on_state=log)
    assert isinstance(source, LiveSource)
    try:
        assert all(real_frame(f, (640, 360)) for f in read_n(source, 15))
        assert source.state is ONLINE
        # A first open lost to the server's wedge (see FRAME_WAIT_S) leaves one OFFLINE before.
        early = len(log.states)
        assert log.states in ([ONLINE], [OFFLINE, ONLINE])
        offline, online = log.states.count(OFFLINE), 1

        server.stop()  # the camera loses power: the stream ends
        stopped_at = time.monotonic()
        assert log.wait_count(OFFLINE, offline + 1, stall_s + 2.0)
        assert log.events[-1][2] - stopped_at < stall_s + 0.5
        source.read(0.0)  # perhaps the last frame before the drop
        assert source.read(0.5) is None  # then nothing, and never a placeholder

        server.start()
        assert log.wait_count(ONLINE, online + 1, FRAME_WAIT_S)
        assert all(real_frame(f, (640, 360)) for f in read_n(source, 5))

        server.pause()  # the connection stays open but nothing flows
        paused_at = time.monotonic()
        assert log.wait_count(OFFLINE, offline + 2, stall_s + 3.0)
        assert "stalled" in log.events[-1][1]
        assert log.events[-1][2] - paused_at < stall_s + 1.0
        server.resume()
        assert log.wait_count(ONLINE, online + 2, FRAME_WAIT_S)
        assert all(real_frame(f, (640, 360)) for f in read_n(source, 5))
        assert log.states[early - 1:] == [ONLINE, OFFLINE, ONLINE, OFFLINE, ONLINE]
        assert source.reconnects >= 2
        assert source.size_wh == (640, 360)
    finally:
        source.close()
        server.stop()
    assert "rtsp://viewer:***@127.0.0.1" in caplog.text
    assert secret not in caplog.text
    assert not any(secret in str(r.args) for r in caplog.records)
