"""Capped exponential backoff between reconnect attempts, with optional seedable jitter."""

from __future__ import annotations

import random


class Backoff:
    """Delays initial_s, 2*initial_s, 4*initial_s, ... capped at max_s; `reset()` after a success.

    With jitter j (0..1) each delay is drawn uniformly from [d*(1-j), d], so the cap still holds
    and many cameras that dropped together do not all retry in the same instant.
    """

    def __init__(self, initial_s: float, max_s: float, *, factor: float = 2.0, jitter: float = 0.0,
                 rng: random.Random | None = None) -> None:
        if not 0.0 < initial_s <= max_s:
            raise ValueError(f"need 0 < initial_s <= max_s, got {initial_s} and {max_s}")
        if factor < 1.0 or not 0.0 <= jitter <= 1.0:
            raise ValueError("factor must be >= 1 and jitter within [0, 1]")
        self.initial_s, self.max_s, self.factor, self.jitter = initial_s, max_s, factor, jitter
        self._rng = rng if rng is not None else random.Random()
        self._next_s = initial_s
        self.attempts = 0  # delays handed out since the last reset

    def next_delay_s(self) -> float:
        """The delay before the next attempt; each call grows the following one up to the cap."""
        delay_s = self._next_s
        self._next_s = min(self._next_s * self.factor, self.max_s)
        self.attempts += 1
        if self.jitter:
            delay_s *= 1.0 - self.jitter * self._rng.random()
        return delay_s

    def reset(self) -> None:
        self._next_s = self.initial_s
        self.attempts = 0
