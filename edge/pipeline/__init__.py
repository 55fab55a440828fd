"""The worker: source -> detector -> tracker -> analysers -> events -> outbox (DESIGN.md 2)."""

from edge.pipeline.replay import ReplaySummary, run_replay
from edge.pipeline.sinks import MemorySink
from edge.pipeline.worker import Worker, WorkerReport, WorkerSettings

__all__ = ["MemorySink", "ReplaySummary", "Worker", "WorkerReport", "WorkerSettings", "run_replay"]
