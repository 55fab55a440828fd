"""Type aliases, colour helpers, time-of-day palettes and fractal noise shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]
RGB = tuple[float, float, float]

# A layer is hidden where the static surface is nearer than this fraction of its distance; the
# slack keeps the ground a fire stands on from hiding the fire itself.
OCCLUSION_SLACK = 0.95


@dataclass(frozen=True)
class Palette:
    """Colours and light levels of one time of day (before the sensor's own gain)."""

    sky_horizon: RGB
    sky_top: RGB
    ambient: float
    smoke_dark: RGB
    smoke_light: RGB
    glow: float  # how much the flame lights its surroundings


PALETTES: dict[str, Palette] = {
    "day": Palette((204, 214, 224), (118, 158, 212), 1.0, (116, 110, 102), (224, 220, 210), 0.0),
    "dusk": Palette((238, 184, 140), (118, 124, 168), 0.8, (112, 102, 96), (226, 206, 190), 0.5),
    "night": Palette((100, 104, 124), (40, 48, 74), 0.7, (70, 66, 62), (170, 164, 156), 1.0),
}


def smoothstep(x: F64 | float) -> Any:
    """Cubic ease from 0 to 1 on [0, 1], clamped outside."""
    c = np.clip(x, 0.0, 1.0)
    return c * c * (3.0 - 2.0 * c)


def mix(a: RGB, b: RGB, f: float) -> RGB:
    """Linear blend of two colours, f = 0 gives a."""
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def scale(c: RGB, k: float) -> RGB:
    return (c[0] * k, c[1] * k, c[2] * k)


def bgr(c: RGB) -> tuple[float, float, float]:
    """OpenCV wants BGR; every colour in this package is written RGB for readability."""
    return (c[2], c[1], c[0])


def fbm(rng: np.random.Generator, h: int, w: int, beta: float) -> F32:
    """Tileable fractal noise in [0, 1]: white noise shaped by 1/f^beta in the Fourier domain."""
    white = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.rfft2(white) / f**beta
    spec[0, 0] = 0.0
    n = np.fft.irfft2(spec, s=(h, w))
    n = 0.5 + 0.2 * (n - n.mean()) / (n.std() + 1e-9)
    out: F32 = np.clip(n, 0.0, 1.0).astype(np.float32)
    return out


def fbm_1d(rng: np.random.Generator, n: int, beta: float) -> F64:
    """Periodic 1-D fractal noise with zero mean and unit deviation."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = 1.0
    spec = spec / f**beta
    spec[0] = 0.0
    out = np.fft.irfft(spec, n=n)
    return np.asarray((out - out.mean()) / (out.std() + 1e-9), dtype=np.float64)


def signed_deg(d: float) -> float:
    """Wrap an angle difference into [-180, 180)."""
    return (d + 180.0) % 360.0 - 180.0
