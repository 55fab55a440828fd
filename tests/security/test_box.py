"""Running a box: which cameras it runs, the supervisor's restarts and its single log stream."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from secure_site import CAM_A, CAM_B, camera_yaml, wait_for, write_site

from edge.box.cli import box_cameras, worker_argv
from edge.box.supervisor import Child, RestartPolicy, Supervisor
from edge.cli import main
from edge.config import ConfigError, load_site


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def test_a_dying_worker_is_restarted_with_capped_backoff_and_prefixed_lines() -> None:
    out = io.StringIO()
    crashing = Child("cp-crash", python("print('open rtsp://admin:hunter2@10.0.0.5/s'); raise SystemExit(3)"))
    steady = Child("cp-steady", python("import time; print('up', flush=True); time.sleep(60)"))
    policy = RestartPolicy(initial_s=0.05, max_s=0.2, healthy_s=60.0)
    supervisor = Supervisor([crashing, steady], out=out, policy=policy, stop_timeout_s=5.0).start()
    try:
        assert wait_for(lambda: supervisor.records["cp-crash"].starts >= 5)
        assert wait_for(lambda: "cp-steady | up" in out.getvalue())
    finally:
        supervisor.stop()
    crash, steady_record = supervisor.records["cp-crash"], supervisor.records["cp-steady"]
    assert set(crash.exit_codes[:4]) == {3}  # the last run may have been stopped by SIGTERM
    assert crash.delays_s[:4] == [0.05, 0.1, 0.2, 0.2]  # doubling, then held at the cap
    assert steady_record.starts == 1  # never restarted; stopped by SIGTERM at the end
    assert steady_record.exit_codes == [-15]
    lines = out.getvalue().splitlines()
    assert lines
    assert all(line.startswith(("cp-crash | ", "cp-steady | ")) for line in lines)
    assert "cp-crash | open rtsp://admin:***@10.0.0.5/s" in lines
    assert "hunter2" not in out.getvalue()


def test_no_restart_after_stop() -> None:
    supervisor = Supervisor([Child("cp-1", python("raise SystemExit(1)"))], out=io.StringIO(),
                            policy=RestartPolicy(initial_s=5.0, max_s=5.0)).start()
    assert wait_for(lambda: supervisor.records["cp-1"].delays_s == [5.0])
    started = time.monotonic()
    supervisor.stop()  # interrupts the 5 s wait
    assert time.monotonic() - started < 2.0
    assert supervisor.records["cp-1"].starts == 1


def test_cameras_are_assigned_to_boxes(tmp_path: Path) -> None:
    cameras = (camera_yaml(CAM_A, "{password_env: X}").replace("box: box-1", "box: box-2")
               + camera_yaml(CAM_B, "{password_env: Y}"))
    site = load_site(write_site(tmp_path, 8883, tmp_path, cameras))
    assert [c.id for c in box_cameras(site, "box-1")] == [CAM_B]
    assert [c.id for c in box_cameras(site, "box-2")] == [CAM_A]
    assert box_cameras(site, "box-3") == []
    argv = worker_argv(Path("site.yaml"), "baizhang", CAM_B, log_level=None, stats_interval_s=30,
                       outbox_dir=tmp_path)
    assert argv[1:] == ("-m", "edge", "worker", "site.yaml", "--camera", CAM_B, "--stats-interval-s", "30",
                        "--outbox", str(tmp_path / f"baizhang-{CAM_B}.db"))


def test_a_box_name_must_be_an_id(tmp_path: Path) -> None:
    site = write_site(tmp_path, 8883, tmp_path, camera_yaml(CAM_A, "{password_env: X}").replace(
        "box: box-1", "box: Box_1"))
    with pytest.raises(ConfigError) as err:
        load_site(site)
    assert err.value.messages == [f"{site}: cameras.0.box: use only lowercase letters, digits and '-'"]


def test_edge_run_refuses_an_unknown_box_and_missing_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path, 8883, tmp_path)
    assert main(["run", str(site), "--box", "nowhere"]) == 2
    assert capsys.readouterr().err.strip() == f"{site}: no camera has box 'nowhere' (boxes: box-1)"
    monkeypatch.setenv("EDGE_TEST_MQTT_CP_A", "set")
    monkeypatch.delenv("EDGE_TEST_MQTT_AGGREGATOR", raising=False)
    (tmp_path / "cp-b.pw").unlink()
    assert main(["run", str(site), "--box", "box-1"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{site}: camera {CAM_B}: mqtt: password file {tmp_path / 'cp-b.pw'} (password_file) not found"]
