"""Camera effects shared by every scene: lighting, sensor noise, blur, lens vignetting."""

from __future__ import annotations

import cv2
import numpy as np

from edge.synth.truth import Lighting

# Gain and colour cast per time of day, in BGR. Night keeps ~35% of daylight: street lamps and
# headlights, not darkness, which is what roadside cameras actually record after sunset.
_LIGHT_GAIN: dict[str, tuple[float, float, float]] = {
    "day": (1.0, 1.0, 1.0),
    "dusk": (0.70, 0.62, 0.72),
    "night": (0.42, 0.36, 0.32),
}
# Sensor noise sigma grows as light falls (the camera raises its gain).
_NOISE_SIGMA = {"day": 1.5, "dusk": 2.5, "night": 3.5}


class SensorModel:
    """Applies lighting, noise and blur to a rendered frame, deterministically for a seed.

    Noise comes from a pre-drawn tile offset at random per frame: drawing 2.7 M normal
    variates per 720p frame would cost more than the rest of the render.
    """

    def __init__(self, rng: np.random.Generator, width: int, height: int, lighting: Lighting,
                 blur_px: float = 0.0) -> None:
        self.rng = rng
        self.lighting = lighting
        self.gain = np.array(_LIGHT_GAIN[lighting], dtype=np.float32)
        sigma = _NOISE_SIGMA[lighting]
        self._tile = rng.normal(0.0, sigma, size=(height + 64, width + 64, 1)).astype(np.float32)
        self.width, self.height = width, height
        self.blur_px = blur_px
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        r2 = ((xx - width / 2) / (width / 2)) ** 2 + ((yy - height / 2) / (height / 2)) ** 2
        self._vignette = (1.0 - 0.18 * r2).clip(0.6, 1.0)[..., None].astype(np.float32)

    def apply(self, frame_bgr: np.ndarray) -> np.ndarray:
        img = frame_bgr.astype(np.float32) * self.gain * self._vignette
        dy, dx = (int(v) for v in self.rng.integers(0, 64, size=2))
        img += self._tile[dy:dy + self.height, dx:dx + self.width]
        out: np.ndarray = img.clip(0, 255).astype(np.uint8)
        if self.blur_px > 0.3:
            k = int(self.blur_px * 2) | 1
            out = np.asarray(cv2.GaussianBlur(out, (k, k), self.blur_px))
        return out
