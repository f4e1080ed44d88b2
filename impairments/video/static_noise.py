"""Hard negative: a still shot whose only change is fresh sensor noise or film grain every frame.

A locked-off camera on a still scene is the commonest static content there is, and its frames
differ only by noise, down to well below one 8-bit level (then most pixels repeat exactly and a
few flicker by one level). A freeze repeats the picture, noise included; a still shot never does.
Severity here is difficulty: the higher, the weaker the noise and the closer to a repeat.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from impairments.registry import register
from impairments.video.temporal import TemporalImpairment

FAMILIES = ("gaussian", "luma", "film")
# Noise standard deviation in 8-bit levels; severity 5 is the faintest.
_SIGMA = {1: (3.0, 6.0), 2: (1.5, 3.0), 3: (0.8, 1.5), 4: (0.4, 0.8), 5: (0.15, 0.4)}
FILM_GRAIN_PX = (0.5, 1.2)  # gaussian sigma (px) that correlates film grain


def noise_field(
    rng: np.random.Generator, shape: tuple[int, int, int], family: str, grain_px: float
) -> np.ndarray:
    """Unit-variance noise for one ``(H, W, 3)`` frame, float32."""
    height, width = shape[:2]
    if family == "gaussian":
        return rng.standard_normal((height, width, 3), dtype=np.float32)
    if family == "luma":
        return np.repeat(rng.standard_normal((height, width, 1), dtype=np.float32), 3, axis=2)
    white = rng.standard_normal((height, width), dtype=np.float32)
    grain = cv2.GaussianBlur(white, (0, 0), grain_px)
    grain /= max(float(grain.std()), 1e-6)
    return np.repeat(grain[..., np.newaxis], 3, axis=2)


def noisy_copies(
    still: np.ndarray,
    n_frames: int,
    sigma: float,
    family: str,
    rng: np.random.Generator,
    grain_px: float = 0.8,
) -> np.ndarray:
    """``n_frames`` copies of ``still`` (``(H, W, 3)`` uint8), each with fresh noise."""
    base = still.astype(np.float32) + 0.5
    out = np.empty((n_frames, *still.shape), dtype=np.uint8)
    for index in range(n_frames):
        noise = noise_field(rng, still.shape, family, grain_px)
        out[index] = np.clip(base + np.float32(sigma) * noise, 0, 255).astype(np.uint8)
    return out


@register
class StaticNoise(TemporalImpairment):
    """One frame of the clip held as a still shot, with fresh noise of a drawn level per frame."""

    name = "static_noise"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"sigma": sigma} for s, sigma in _SIGMA.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        family = str(self.pick(rng, self.families))
        params: dict[str, Any] = {
            "family": family,
            "sigma": round(self.uniform(rng, "sigma"), 4),
            "still_frame": int(rng.integers(shape[0])),
        }
        if family == "film":
            params["grain_px"] = round(float(rng.uniform(*FILM_GRAIN_PX)), 3)
        return params

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, None]:
        out = noisy_copies(
            frames[params["still_frame"]],
            len(frames),
            params["sigma"],
            params["family"],
            rng,
            params.get("grain_px", 0.8),
        )
        return out, np.zeros(len(frames), dtype=np.int8), None
