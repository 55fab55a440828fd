"""Analysers: rider counting at a checkpoint line and smoke confirmation on pan/tilt presets."""

from edge.analysers.occupants import OccupantVerdict
from edge.analysers.presets import PresetProvider, PresetState, PresetView, TourPresets, TruthPresets
from edge.analysers.rider_counter import CounterSettings, RiderCounter, RiderCrossing
from edge.analysers.smoke_watch import SmokeSettings, SmokeUpdate, SmokeWatch

__all__ = [
    "CounterSettings",
    "OccupantVerdict",
    "PresetProvider",
    "PresetState",
    "PresetView",
    "RiderCounter",
    "RiderCrossing",
    "SmokeSettings",
    "SmokeUpdate",
    "SmokeWatch",
    "TourPresets",
    "TruthPresets",
]
