"""Ground-truth records written beside every rendered clip (one JSON document per clip)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edge.labels import Label, Verdict

TRUTH_SCHEMA = "edge.synth.truth/1"

XYXY = tuple[float, float, float, float]
Lighting = Literal["day", "dusk", "night"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TruthBox(_Frozen):
    """One labelled object in one frame; `visible` is the unoccluded fraction of its pixels."""

    track_id: int
    label: Label
    xyxy: XYXY
    visible: float = Field(1.0, ge=0.0, le=1.0)


class TruthFrame(_Frozen):
    index: int = Field(ge=0)
    t_s: float = Field(ge=0.0)
    boxes: list[TruthBox] = Field(default_factory=list)
    preset: str | None = None
    moving: bool = False


class OccupantTruth(_Frozen):
    """A person on a two-wheeler; `head_track_id` links to its head boxes."""

    head_track_id: int
    role: Literal["driver", "passenger"]
    verdict: Literal[Verdict.HELMET, Verdict.NO_HELMET]
    headwear: str


class RiderTruth(_Frozen):
    """A two-wheeler with its occupants; counted once when it crosses the counting line."""

    track_id: int
    vehicle: Literal["e_bike", "motorcycle", "bicycle"]
    direction: str
    crossing_frame: int | None
    occupants: list[OccupantTruth]


class OtherTruth(_Frozen):
    """Something that is not a rider and must never be counted as one."""

    track_id: int
    kind: Literal["pedestrian", "car", "parked_bike", "truck"]


class CountingLineTruth(_Frozen):
    """The line riders are counted at, in pixels, and the direction names used for crossings."""

    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    positive: str
    negative: str


class SmokeTruth(_Frozen):
    """A smoke plume: when and where it starts, as seen from the preset that first shows it."""

    track_id: int
    onset_frame: int
    onset_t_s: float
    preset: str
    region_xyxy: XYXY
    bearing_deg: float
    has_fire: bool


class PresetTruth(_Frozen):
    id: str
    pan_deg: float
    tilt_deg: float
    hfov_deg: float


class SceneTruth(_Frozen):
    """Everything known about one rendered clip."""

    schema_: str = Field(TRUTH_SCHEMA, alias="schema")
    kind: Literal["checkpoint", "smoke"]
    seed: int
    width: int
    height: int
    fps: float
    frame_count: int
    lighting: Lighting
    video: str
    counting_line: CountingLineTruth | None = None
    riders: list[RiderTruth] = Field(default_factory=list)
    others: list[OtherTruth] = Field(default_factory=list)
    heading_deg: float | None = None
    presets: list[PresetTruth] = Field(default_factory=list)
    smoke: list[SmokeTruth] = Field(default_factory=list)
    distractors: list[str] = Field(default_factory=list)
    frames: list[TruthFrame] = Field(default_factory=list)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(by_alias=True), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> SceneTruth:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
