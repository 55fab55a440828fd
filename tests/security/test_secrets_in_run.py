"""`edge run` end to end against the secured broker: the camera URL's password never shows in a log
line or a payload, while the worker logs in with its own account and reports the camera away."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

from broker import free_port
from secure_site import AGGREGATOR, CAM_A, CAM_B, PASSWORDS, REPO, SITE, SecureSite, camera_yaml, write_site

CAMERA_PASSWORD = "Cam-URL-pw-4d1b9e"


def test_camera_password_appears_in_no_log_line_or_payload(secure: SecureSite) -> None:
    closed_port = free_port()  # nothing listens: the worker keeps retrying the camera
    rtsp = f"{{url: 'rtsp://viewer@127.0.0.1:{closed_port}/ch1', password_env: EDGE_TEST_CAM_PW}}"
    cam_b = camera_yaml(CAM_B, f"{{password_file: {secure.folder / 'cp-b.pw'}}}").replace("box-1", "box-2")
    cameras = camera_yaml(CAM_A, "{password_env: EDGE_TEST_MQTT_CP_A}", source=rtsp) + cam_b
    site = write_site(secure.folder, secure.broker.port, secure.certs, cameras)  # same accounts as before
    watcher = secure.probe(AGGREGATOR)  # reads every camera's topics
    assert watcher.connect(), watcher.refusal
    watcher.subscribe("#")

    env = {**os.environ, "EDGE_TEST_CAM_PW": CAMERA_PASSWORD, "YOLO_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen([sys.executable, "-m", "edge", "run", str(site), "--box", "box-1",
                            "--outbox-dir", str(secure.folder / "outbox"), "--stats-interval-s", "1"],
                           cwd=secure.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    assert run.stdout is not None
    lines = run.stdout
    reader = threading.Thread(target=lambda: output.extend(line.decode(errors="replace") for line in lines),
                              daemon=True)
    reader.start()

    def statuses() -> list[tuple[str, str]]:
        return [(json.loads(p)["state"], json.loads(p)["details"]) for t, p in watcher.messages
                if t.endswith(f"/{SITE}/{CAM_A}/status")]

    try:
        away = watcher.wait_for(lambda _: any(d.startswith("camera offline") for _, d in statuses()), 90.0)
        assert away, "".join(output)[-3000:]
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, "".join(output)[-3000:]
        reader.join(10)
    assert watcher.wait_for(lambda _: ("stopped" in {s for s, _ in statuses()}), 10.0), statuses()
    watcher.close()

    text = "".join(output)
    assert f"rtsp://viewer:***@127.0.0.1:{closed_port}/ch1" in text  # the URL is logged, redacted
    assert all(line.startswith(f"{CAM_A} | ") for line in output if "edge.pipeline" in line)
    payloads = b"".join(p for _, p in watcher.messages).decode()
    for secret in (CAMERA_PASSWORD, *PASSWORDS.values()):
        assert secret not in text
        assert secret not in payloads
