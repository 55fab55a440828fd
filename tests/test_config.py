"""Config layer: example files load, and each kind of mistake gets one precise message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from edge.config import (
    AggregatorConfig,
    BrokerConfig,
    CheckpointCamera,
    ConfigError,
    CountingLine,
    ModelConfig,
    SecretUnavailableError,
    SiteConfig,
    SmokeCamera,
    SourceConfig,
    check,
    load_any,
    load_camera,
    load_site,
    redact,
    summarize,
)
from edge.labels import Label

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "config"

HELMET_MODEL = """\
  helmet:
    weights: helmet.pt
    class_map: {two_wheeler: two_wheeler, head_helmet: head_helmet, head_no_helmet: head_no_helmet}
"""
CHECKPOINT = """\
  - kind: checkpoint
    id: cp-1
    name: Checkpoint 1
    source: {url: clip.mp4}
    model: helmet
    counting_line: {start_xy: [0, 0.6], end_xy: [1, 0.6], positive: southbound, negative: northbound}
"""


def site_yaml(models: str = HELMET_MODEL, cameras: str = CHECKPOINT, extra: str = "") -> str:
    return f"site: {{id: s1, name: Site 1}}\n{extra}models:\n{models}cameras:\n{cameras}"


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    code, lines = check(path)
    assert code == 2, lines
    return lines


# --- the example configs --------------------------------------------------------------------


def test_example_site_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    site = load_site("configs/site.yaml")
    assert site.site.id == "baizhang"
    assert site.site.timezone == "Asia/Shanghai"
    assert set(site.models) == {"helmet", "smoke"}
    assert site.models["helmet"].format == "openvino"
    assert site.models["smoke"].format == "pt"
    assert site.models["helmet"].labels == {Label.RIDER, Label.TWO_WHEELER, Label.HEAD_HELMET,
                                            Label.HEAD_NO_HELMET}
    checkpoint, smoke = site.cameras
    assert isinstance(checkpoint, CheckpointCamera)
    assert checkpoint.counting_line.count == ("southbound", "northbound")
    assert isinstance(smoke, SmokeCamera)
    assert len(smoke.presets) == 3
    assert sum(len(p.masks) for p in smoke.presets) == 1
    assert site.camera("smoke-tower-3") is smoke
    assert site.model_for(smoke) is site.models["smoke"]


def test_example_check_prints_summaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert check("configs/site.yaml") == (0, [
        "site baizhang (Asia/Shanghai): 2 cameras (1 checkpoint, 1 smoke), 2 models, broker localhost:1883"])
    assert check("configs/cameras/checkpoint-baizhang-south.yaml") == (0, [
        "checkpoint camera cp-baizhang-s: source samples/checkpoint-day.mp4, model helmet"])
    assert check("configs/cameras/smoke-tower-3.yaml") == (0, [
        "smoke camera smoke-tower-3: source rtsp://viewer:***@192.0.2.10:554/ch1, model smoke"])


def test_load_any_and_load_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert isinstance(load_any("configs/site.yaml"), SiteConfig)
    camera = load_camera("configs/cameras/smoke-tower-3.yaml")
    assert isinstance(camera, SmokeCamera)
    assert load_any("configs/cameras/smoke-tower-3.yaml") == camera
    with pytest.raises(ConfigError) as err:
        load_site("configs/cameras/smoke-tower-3.yaml")
    assert err.value.messages == ["configs/cameras/smoke-tower-3.yaml: this is a camera file (kind: smoke); "
                                  "expected a site file with a top-level `site` key"]


def test_summary_of_camera_with_credentials() -> None:
    camera = CheckpointCamera.model_validate({
        "kind": "checkpoint", "id": "cp-baizhang-s", "name": "x", "model": "helmet",
        "source": {"url": "rtsp://admin@10.0.0.5/stream1", "password_env": "CAM_PW"},
        "counting_line": {"start_xy": [0, 0.5], "end_xy": [1, 0.5], "positive": "a", "negative": "b"}})
    assert summarize(camera) == ("checkpoint camera cp-baizhang-s: source rtsp://admin:***@10.0.0.5/stream1, "
                                 "model helmet")


# --- one message per mistake ------------------------------------------------------------------


def test_valid_minimal_site(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml())
    assert check(path) == (0, ["site s1 (Asia/Shanghai): 1 camera (1 checkpoint, 0 smoke), 1 model, "
                               "broker localhost:1883"])


def test_unknown_key(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(extra="broker: {hots: example.org}\n"))
    assert problems(path) == [f"{path}: broker.hots: unknown key 'hots' (did you mean 'host'?)"]


def test_unknown_key_lists_allowed_keys(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(extra="aggregator: {colour: red}\n"))
    assert problems(path) == [f"{path}: aggregator.colour: unknown key 'colour' "
                              "(allowed: store, default_standard, min_riders, rates_interval_s)"]


def test_wrong_type(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(extra="broker: {port: lots}\n"))
    assert problems(path) == [f"{path}: broker.port: Input should be a valid integer, "
                              "unable to parse string as an integer"]


def test_out_of_range_inside_camera(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras=CHECKPOINT.replace("start_xy: [0, 0.6]", "start_xy: [0, 1.6]")))
    assert problems(path) == [f"{path}: cameras.0.counting_line.start_xy.1: "
                              "Input should be less than or equal to 1"]


def test_bad_id_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras=CHECKPOINT.replace("id: cp-1", "id: CP_1")))
    assert problems(path) == [f"{path}: cameras.0.id: use only lowercase letters, digits and '-'"]


def test_duplicate_camera_ids(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras=CHECKPOINT + CHECKPOINT))
    assert problems(path) == [f"{path}: cameras.1.id: duplicate camera id 'cp-1' (also cameras.0)"]


def test_model_missing_required_label(tmp_path: Path) -> None:
    models = HELMET_MODEL.replace(", head_no_helmet: head_no_helmet", "")
    path = write(tmp_path, site_yaml(models=models))
    assert problems(path) == [f"{path}: cameras.0.model: checkpoint camera 'cp-1' needs model 'helmet' "
                              "to map label(s) head_no_helmet in its class_map"]


def test_missing_referenced_model(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras=CHECKPOINT.replace("model: helmet", "model: helmets")))
    assert problems(path) == [f"{path}: cameras.0.model: model 'helmets' is not defined in the site's "
                              "models (defined: helmet)"]


def test_plain_password_key(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(extra="broker: {username: edge, password: hunter2, port: 0}\n"))
    lines = problems(path)
    assert lines == [
        f"{path}: broker.password: plain passwords are not allowed in config; use password_env "
        "(name of an environment variable) or password_file",
        f"{path}: broker.port: Input should be greater than or equal to 1"]
    assert "hunter2" not in "\n".join(lines)


def test_plain_password_never_in_exception_text() -> None:
    with pytest.raises(ValidationError) as err:
        BrokerConfig.model_validate({"password": "hunter2"})
    assert "hunter2" not in str(err.value)


def test_password_inside_source_url(tmp_path: Path) -> None:
    cameras = CHECKPOINT.replace("url: clip.mp4", "url: 'rtsp://admin:hunter2@10.0.0.5/stream1'")
    path = write(tmp_path, site_yaml(cameras=cameras))
    assert problems(path) == [f"{path}: cameras.0.source.url: a password inside the URL is not allowed; "
                              "put the user in the URL or `username` and the password in password_env "
                              "or password_file"]
    with pytest.raises(ValidationError) as err:
        SourceConfig(url="rtsp://admin:hunter2@10.0.0.5/stream1")
    assert "hunter2" not in str(err.value)


def test_unknown_camera_kind(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras="  - {kind: tank, id: t1}\n"))
    assert problems(path) == [f"{path}: cameras.0: unknown kind 'tank' (expected checkpoint or smoke)"]


def test_yaml_syntax_error_has_line_and_column() -> None:
    path = FIXTURES / "syntax-error.yaml"
    assert problems(path) == [f"{path}:4:7: expected ',' or ']', but got ':' "
                              "(while parsing a flow sequence, line 3)"]


def test_duplicate_yaml_key() -> None:
    path = FIXTURES / "duplicate-key.yaml"
    assert problems(path) == [f"{path}:7:3: duplicate key 'host' (first at line 5)"]


def test_error_inside_included_camera_names_that_file() -> None:
    path = FIXTURES / "include" / "site.yaml"
    camera = FIXTURES / "include" / "cameras" / "bad-line.yaml"
    assert problems(path) == [f"{camera}: counting_line.start_xy.1: Input should be less than or equal to 1"]


def test_cross_check_error_in_included_camera_names_that_file(tmp_path: Path) -> None:
    write(tmp_path, "kind: smoke\nid: sm-1\nname: S\nsource: {url: 'device:0'}\nmodel: helmet\n"
                    "heading_deg: 0\nlatitude: 30\nlongitude: 120\n"
                    "presets: [{id: p1, pan_deg: 0, tilt_deg: 0, hfov_deg: 60, dwell_s: 10}]\n",
          "cams/smoke.yaml")
    path = write(tmp_path, site_yaml(cameras="  - cams/smoke.yaml\n"))
    assert problems(path) == [f"{tmp_path / 'cams' / 'smoke.yaml'}: model: smoke camera 'sm-1' needs model "
                              "'helmet' to map label(s) smoke in its class_map"]


def test_missing_included_camera_file(tmp_path: Path) -> None:
    path = write(tmp_path, site_yaml(cameras="  - cams/nowhere.yaml\n"))
    assert problems(path) == [f"{path}: cameras.0: camera file 'cams/nowhere.yaml' not found "
                              f"({tmp_path / 'cams' / 'nowhere.yaml'})"]


def test_missing_file(tmp_path: Path) -> None:
    assert check(tmp_path / "nope.yaml") == (2, [f"{tmp_path / 'nope.yaml'}: file not found"])


@pytest.mark.parametrize(("text", "problem"), [
    ("", "file is empty (expected a site or camera mapping)"),
    ("- a\n- b\n", "expected a mapping of keys at the top level, got a list"),
    ("foo: 1\n", "not a site or camera config: expected a top-level `site` key (site file) "
                 "or `kind` key (camera file: checkpoint or smoke)"),
])
def test_unusable_documents(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text, "x.yaml")
    assert problems(path) == [f"{path}: {problem}"]


def test_camera_file_errors_drop_the_union_tag(tmp_path: Path) -> None:
    path = write(tmp_path, "kind: smoke\nid: sm-1\nname: S\nsource: {url: 'device:0'}\nmodel: smoke\n"
                           "heading_deg: 400\nlatitude: 30\nlongitude: 120\n"
                           "presets: [{id: p1, pan_deg: 0, tilt_deg: 0, hfov_deg: 60, dwell_s: 10,"
                           " masks: [[[0, 0], [1, 0]]]}]\n", "smoke.yaml")
    assert problems(path) == [
        f"{path}: heading_deg: Input should be less than or equal to 360",
        f"{path}: presets.0.masks.0: a polygon needs at least 3 points, got 2"]


# --- model rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(("weights", "fmt"), [
    ("m.pt", "pt"), ("m.onnx", "onnx"), ("models/helmet_openvino_model", "openvino")])
def test_model_format_inferred(weights: str, fmt: str) -> None:
    model = ModelConfig.model_validate({"weights": weights, "class_map": {"a": "smoke"}})
    assert model.format == fmt


def test_model_with_weights_infers_the_format_again_and_keeps_the_rest() -> None:
    site = load_site("configs/site.yaml").models["helmet"]
    assert site.format == "openvino"
    pt = site.with_weights(Path("models/helmet.pt"))
    assert (pt.weights, pt.format) == (Path("models/helmet.pt"), "pt")
    assert pt.model_dump(exclude={"weights", "format"}) == site.model_dump(exclude={"weights", "format"})
    with pytest.raises(ValidationError, match="cannot infer the format"):
        site.with_weights(Path("models/helmet.bin"))


def test_model_rules() -> None:
    with pytest.raises(ValidationError, match="cannot infer the format"):
        ModelConfig.model_validate({"weights": "m.bin", "class_map": {"a": "smoke"}})
    with pytest.raises(ValidationError, match="multiple of 32"):
        ModelConfig.model_validate({"weights": "m.pt", "imgsz": 100, "class_map": {"a": "smoke"}})
    with pytest.raises(ValidationError, match="threshold for fire, but no class"):
        ModelConfig.model_validate({"weights": "m.pt", "class_map": {"a": "smoke", "b": None},
                                    "thresholds": {"fire": 0.3}})
    model = ModelConfig.model_validate({"weights": "m.pt", "class_map": {"a": "smoke", "b": None}})
    assert model.labels == {Label.SMOKE}


def test_counting_line_rules() -> None:
    line = CountingLine.model_validate(
        {"start_xy": [0, 0.6], "end_xy": [1, 0.6], "positive": "southbound", "negative": "northbound"})
    assert line.count == ("southbound", "northbound")
    assert line.side_of(0.5, 0.9) > 0 > line.side_of(0.5, 0.1)  # positive: down the image here
    with pytest.raises(ValidationError, match="end_xy must differ"):
        CountingLine.model_validate({"start_xy": [0.5, 0.5], "end_xy": [0.5, 0.5], "positive": "a",
                                     "negative": "b"})
    with pytest.raises(ValidationError, match="'east' is not a direction"):
        CountingLine.model_validate({"start_xy": [0, 0], "end_xy": [1, 1], "positive": "a",
                                     "negative": "b", "count": ["east"]})


def test_smoke_camera_rules() -> None:
    camera = {"kind": "smoke", "id": "s", "name": "s", "source": {"url": "device:0"}, "model": "m",
              "heading_deg": 0, "latitude": 0, "longitude": 0, "confirm": {"k": 6},
              "presets": [{"id": "p", "pan_deg": 0, "tilt_deg": 0, "hfov_deg": 60, "dwell_s": 5}]}
    with pytest.raises(ValidationError, match=r"k \(6\) must not exceed n \(5\)"):
        SmokeCamera.model_validate(camera)
    with pytest.raises(ValidationError, match="at least one preset"):
        SmokeCamera.model_validate({**camera, "confirm": {}, "presets": []})
    with pytest.raises(ValidationError, match="duplicate preset id 'p'"):
        SmokeCamera.model_validate({**camera, "confirm": {}, "presets": camera["presets"] * 2})


def test_broker_topic_prefix_and_tls_pairs() -> None:
    for prefix in ("edge/#", "/edge", "edge/", "a/+/b"):
        with pytest.raises(ValidationError, match="topic_prefix"):
            BrokerConfig(topic_prefix=prefix)
    with pytest.raises(ValidationError, match="cert_file and key_file must be given together"):
        BrokerConfig.model_validate({"tls": {"cert_file": "c.pem"}})


def test_aggregator_store() -> None:
    assert AggregatorConfig().sqlite_path == Path("var/edge/aggregator.db")
    assert AggregatorConfig(store="postgresql://edge@db/edge").sqlite_path is None
    with pytest.raises(ValidationError, match="sqlite:///PATH or postgresql"):
        AggregatorConfig(store="mysql://db/edge")
    with pytest.raises(ValidationError, match="PGPASSWORD"):
        AggregatorConfig(store="postgresql://edge:pw@db/edge")


def test_timezone_validated() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        SiteConfig.model_validate({"site": {"id": "s", "name": "s", "timezone": "Mars/Olympus"}})


# --- broker URL and secrets -----------------------------------------------------------------------


def test_broker_from_url() -> None:
    plain = BrokerConfig.from_url("mqtt://broker.local")
    assert (plain.host, plain.port, plain.tls) == ("broker.local", 1883, None)
    secure = BrokerConfig.from_url("mqtts://edge@broker.local:9883")
    assert (secure.host, secure.port, secure.username) == ("broker.local", 9883, "edge")
    assert secure.tls is not None
    assert secure.tls.check_hostname
    assert BrokerConfig.from_url("mqtts://broker.local").port == 8883
    for bad in ("http://broker", "mqtt://u:p@broker", "mqtt://broker/topic", "mqtt://broker:99999"):
        with pytest.raises(ValueError, match="broker URL"):
            BrokerConfig.from_url(bad)


def test_broker_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = BrokerConfig(username="edge", password_env="EDGE_TEST_MQTT_PW")
    monkeypatch.delenv("EDGE_TEST_MQTT_PW", raising=False)
    with pytest.raises(SecretUnavailableError, match=r"EDGE_TEST_MQTT_PW .* is not set"):
        broker.password()
    monkeypatch.setenv("EDGE_TEST_MQTT_PW", "s3cret")
    assert broker.password() == "s3cret"
    assert BrokerConfig().password() is None


def test_broker_password_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt.pw"
    broker = BrokerConfig(username="edge", password_file=secret)
    with pytest.raises(SecretUnavailableError, match="not found"):
        broker.password()
    secret.write_text("s3cret\n", encoding="utf-8")
    assert broker.password() == "s3cret"
    with pytest.raises(ValidationError, match="not both"):
        BrokerConfig(password_env="X", password_file=secret)


def test_source_url_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    source = SourceConfig(url="rtsp://viewer@192.0.2.10:554/ch1", password_env="EDGE_TEST_CAM_PW")
    monkeypatch.setenv("EDGE_TEST_CAM_PW", "p@ss:w/rd")
    assert source.resolved_url() == "rtsp://viewer:p%40ss%3Aw%2Frd@192.0.2.10:554/ch1"
    assert source.redacted_url() == "rtsp://viewer:***@192.0.2.10:554/ch1"
    by_field = SourceConfig(url="rtsp://10.0.0.5/stream1", username="admin", password_env="EDGE_TEST_CAM_PW")
    assert by_field.redacted_url() == "rtsp://admin:***@10.0.0.5/stream1"
    assert SourceConfig(url="clip.mp4").resolved_url() == "clip.mp4"
    assert SourceConfig(url="device:2").device_index == 2
    with pytest.raises(ValidationError, match="a password needs a user"):
        SourceConfig(url="rtsp://10.0.0.5/stream1", password_env="EDGE_TEST_CAM_PW")
    with pytest.raises(ValidationError, match="only to network URLs"):
        SourceConfig(url="clip.mp4", password_env="EDGE_TEST_CAM_PW")


@pytest.mark.parametrize(("text", "expected"), [
    ("open rtsp://admin:hunter2@10.0.0.5/stream1 failed", "open rtsp://admin:***@10.0.0.5/stream1 failed"),
    ("a mqtt://u:p@h:1883 and rtsp://v:q@w/x", "a mqtt://u:***@h:1883 and rtsp://v:***@w/x"),
    ("rtsp://admin:p@ss@10.0.0.5/s", "rtsp://admin:***@10.0.0.5/s"),
    ("rtsp://viewer@10.0.0.5/s and rtsp://10.0.0.5:554/s", "rtsp://viewer@10.0.0.5/s and rtsp://10.0.0.5:554/s"),
    ("no urls here: a@b", "no urls here: a@b"),
])
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_camera_id_may_not_shadow_site_topics(tmp_path: Path) -> None:
    bad = tmp_path / "cam.yaml"
    text = Path("configs/cameras/checkpoint-baizhang-south.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("id: cp-baizhang-s", "id: alerts"), encoding="utf-8")
    code, lines = check(bad)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"{bad}: id: ")
    assert "reserved for site-wide topics" in lines[0]
