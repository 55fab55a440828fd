"""`edge broker-config`: accounts, password file and ACL from a site config; secrets never in clear."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from secure_site import (
    AGGREGATOR,
    CAM_A,
    CAM_B,
    ENV,
    OPERATOR,
    PASSWORDS,
    REPO,
    SITE,
    camera_yaml,
    write_site,
)

from edge.broker.accounts import Account, worker_broker
from edge.broker.acl import acl_text
from edge.cli import main
from edge.config import ConfigError, load_site

pytestmark = pytest.mark.skipif(not shutil.which("mosquitto_passwd"),
                                reason="mosquitto_passwd not installed (Debian package `mosquitto`)")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return write_site(tmp_path, 8883, tmp_path / "certs")


def test_writes_a_hashed_password_file_and_the_acl(site: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "etc"
    assert main(["broker-config", str(site), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"{out / 'passwd'}: 4 accounts (1 aggregator, 1 operator(s), 2 camera(s))")
    entries = dict(line.split(":", 1) for line in (out / "passwd").read_text().splitlines())
    assert sorted(entries) == sorted([AGGREGATOR, OPERATOR, f"{SITE}/{CAM_A}", f"{SITE}/{CAM_B}"])
    assert all(hashed.startswith("$7$") for hashed in entries.values())  # PBKDF2-SHA512 by mosquitto_passwd
    text = (out / "passwd").read_text() + (out / "acl").read_text()
    assert not any(password in text for password in PASSWORDS.values())
    assert (out / "passwd").stat().st_mode & 0o777 == 0o640
    acl = (out / "acl").read_text()
    assert "pattern write edge/v1/%u/rider" in acl
    assert f"user {OPERATOR}\ntopic read edge/v1/{SITE}/alerts/helmet/+" in acl


def test_a_missing_secret_is_one_clear_error_and_nothing_is_written(
        site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("EDGE_TEST_MQTT_OPS")
    assert main(["broker-config", str(site), "--out", str(tmp_path / "etc")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{site}: broker.operators.0: environment variable EDGE_TEST_MQTT_OPS (password_env) is not set"]
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(("change", "problem"), [
    (("username: aggregator", "username: baizhang/cp-x"),
     "broker.username: 'baizhang/cp-x' may not contain '/', '+', '#', ':' or spaces"),
    (("username: aggregator", "username: ops-zhang"),
     "broker.operators.0: username 'ops-zhang' is already used by broker"),
    (("    mqtt: {password_env: EDGE_TEST_MQTT_CP_A}\n", ""),
     "cameras.0.mqtt (camera cp-a): not set; each camera's worker needs its own account"),
    (("  password_env: EDGE_TEST_MQTT_AGGREGATOR\n", ""),
     "broker: give password_env or password_file for the aggregator's account"),
])
def test_accounts_that_cannot_be_written(site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         change: tuple[str, str], problem: str) -> None:
    text = site.read_text()
    assert change[0] in text
    site.write_text(text.replace(change[0], change[1], 1))
    assert main(["broker-config", str(site), "--out", str(tmp_path / "etc")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1
    assert errors[0].startswith(f"{site}: {problem}")


@pytest.mark.parametrize(("mqtt", "problem"), [
    ("{password: hunter2}", "cameras.0.mqtt.password: plain passwords are not allowed in config"),
    ("{}", "cameras.0.mqtt: give password_env or password_file"),
])
def test_a_camera_account_takes_its_password_from_env_or_file_only(tmp_path: Path, mqtt: str,
                                                                   problem: str) -> None:
    site = write_site(tmp_path, 8883, tmp_path, camera_yaml(CAM_A, mqtt))
    with pytest.raises(ConfigError) as err:
        load_site(site)
    assert err.value.messages[0].startswith(f"{site}: {problem}")
    assert "hunter2" not in str(err.value)


def test_an_operator_name_may_not_look_like_a_camera_account(site: Path) -> None:
    site.write_text(site.read_text().replace(f"username: {OPERATOR}", "username: baizhang/cp-a"))
    with pytest.raises(ConfigError) as err:
        load_site(site)
    problem = "broker.operators.0.username: String should match pattern"
    assert err.value.messages[0].startswith(f"{site}: {problem}")


def test_a_worker_logs_in_with_its_camera_account(site: Path) -> None:
    config = load_site(site)
    broker = worker_broker(config, config.camera(CAM_A))
    assert (broker.username, broker.password()) == (f"{SITE}/{CAM_A}", PASSWORDS[f"{SITE}/{CAM_A}"])
    assert broker.tls == config.broker.tls
    assert broker.operators == ()
    without = config.model_copy(update={"cameras": (config.camera(CAM_B).model_copy(update={"mqtt": None}),)})
    assert worker_broker(without, without.cameras[0]) is without.broker  # no account: the site broker's


def test_the_shipped_acl_example_is_what_the_generator_writes() -> None:
    def unused() -> str:
        raise AssertionError("no password is read for the ACL")

    accounts = [Account("aggregator", "aggregator", "broker", unused),
                Account("ops-command-room", "operator", "broker.operators.0", unused)]
    shipped = (REPO / "configs" / "mosquitto" / "acl.example").read_text(encoding="utf-8")
    assert shipped == acl_text("edge/v1", "baizhang", accounts)
