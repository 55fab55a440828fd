"""The `edge` command line: exit codes and messages a user sees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.cli import main


def test_config_check_valid_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "configs/site.yaml"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("site baizhang (Asia/Shanghai): 2 cameras")


def test_config_check_invalid_exits_2_naming_file_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "cam.yaml"
    text = Path("configs/cameras/checkpoint-baizhang-south.yaml").read_text()
    bad.write_text(text.replace("analysis_fps: 10", "analysis_fps: 600"))
    assert main(["config", "check", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"{bad}: analysis_fps: ")
    assert "60" in err[0]


def test_synth_checkpoint_writes_video_and_truth(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["synth", "checkpoint", "--seed", "5", "--duration-s", "2", "--width", "320",
                 "--height", "180", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert (tmp_path / "checkpoint-5.mp4").stat().st_size > 0
    assert (tmp_path / "checkpoint-5.json").stat().st_size > 0
    assert "two-wheelers cross the line" in capsys.readouterr().out


def _head_labels(data_yaml: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    for txt in (data_yaml.parent / "labels" / "train").glob("*.txt"):
        for line in txt.read_text().splitlines():
            counts[int(line.split()[0])] = counts.get(int(line.split()[0]), 0) + 1
    return counts


def test_synth_dataset_helmet_rate_sets_the_share_of_helmets(tmp_path: Path) -> None:
    # CHECKPOINT_CLASSES: 2 = head_helmet, 3 = head_no_helmet. Pedestrians are always bare and
    # a child passenger wears one at 0.4 whatever the rate, so compare shares on one seed.
    share = {}
    for rate in ("0", "1"):
        out = tmp_path / rate
        assert main(["synth", "dataset", "checkpoint", "--seeds", "4", "--frames-per-seed", "6",
                     "--duration-s", "8", "--positive-share", "1", "--val-fraction", "0",
                     "--helmet-rate", rate, "--out", str(out), "--quiet"]) == 0
        counts = _head_labels(out / "data.yaml")
        share[rate] = counts.get(2, 0) / (counts.get(2, 0) + counts.get(3, 0))
    assert share["0"] < 0.2 < 0.6 < share["1"]


@pytest.mark.parametrize("args", [
    ["synth", "dataset", "checkpoint", "--seeds", "1", "--out", "x", "--helmet-rate", "1.5"],
    ["synth", "checkpoint", "--seed", "1", "--duration-s", "-3", "--out", "x"],
    ["synth", "dataset", "checkpoint", "--seeds", "9:3", "--out", "x"],
    ["synth", "checkpoint", "--seed", "1", "--duration-s", "3", "--out", "x", "--helmet-rate", "2"],
    ["train", "data.yaml", "--name", "x", "--threads", "0"],
    ["train", "data.yaml", "--name", "x", "--threads", "-2"],
    ["tile", "data.yaml", "--out", "x", "--every", "0"],
    ["eval", "w.pt", "--frames", "two"],
])
def test_bad_arguments_exit_2_with_one_message(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "edge", *args], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("edge ")
    assert "error:" in proc.stderr
