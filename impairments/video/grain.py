"""Hard negative: sensor noise and film grain (clean class, empty mask).

Noise is high-frequency energy everywhere, as corrupted blocks are high-frequency energy in
places; a detector that flags noisy footage is useless on real low-light video. Three families:
``gaussian`` (white RGB noise), ``film`` (spatially correlated, strongest in the mid-tones as
silver grain is) and ``iso`` (sensor noise: luminance noise plus coarser chroma blotches). Noise is
drawn fresh every frame from the Generator: its values are texture, not labels, so only the
level and family are recorded. (Albumentations' noise transforms draw from their own seeded
state; a plain Generator keeps the one-seed-for-everything contract and is faster here.)
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from impairments.registry import register
from impairments.video.base import VideoImpairment

FAMILIES = ("gaussian", "film", "iso")
# Noise standard deviation in 8-bit levels.
_SIGMA = {1: (2.0, 4.0), 2: (4.0, 7.0), 3: (7.0, 11.0), 4: (11.0, 16.0), 5: (16.0, 24.0)}
FILM_GRAIN_SIZE = (0.5, 1.2)  # gaussian sigma (px) that correlates film grain
ISO_CHROMA_SHARE = (0.3, 0.7)  # chroma noise relative to luminance noise
ISO_CHROMA_SCALE = 4  # chroma noise lives on a grid this much coarser


def _film_noise(rng: np.random.Generator, shape: tuple[int, ...], grain: float) -> np.ndarray:
    """Unit-variance spatially correlated noise, one value per pixel shared by the channels."""
    white = rng.standard_normal(shape[:2], dtype=np.float32)
    blurred = cv2.GaussianBlur(white, (0, 0), grain)
    return blurred / max(float(blurred.std()), 1e-6)


def _iso_noise(rng: np.random.Generator, shape: tuple[int, ...], chroma_share: float) -> np.ndarray:
    height, width = shape[:2]
    luma = rng.standard_normal((height, width, 1), dtype=np.float32)
    small = (max(1, width // ISO_CHROMA_SCALE), max(1, height // ISO_CHROMA_SCALE))
    chroma = rng.standard_normal((small[1], small[0], 3), dtype=np.float32)
    chroma = cv2.resize(chroma, (width, height), interpolation=cv2.INTER_LINEAR)
    return luma + chroma_share * chroma.reshape(height, width, 3)


@register
class Grain(VideoImpairment):
    """Per-frame noise of one family at a recorded level."""

    name = "grain"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"sigma": sigma} for s, sigma in _SIGMA.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        family = str(self.pick(rng, self.families))
        params: dict[str, Any] = {"family": family, "sigma": round(self.uniform(rng, "sigma"), 3)}
        if family == "film":
            params["grain_px"] = round(float(rng.uniform(*FILM_GRAIN_SIZE)), 3)
        elif family == "iso":
            params["chroma_share"] = round(float(rng.uniform(*ISO_CHROMA_SHARE)), 3)
        return params

    def apply(
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty_like(frames)
        sigma = np.float32(params["sigma"])
        for index, frame in enumerate(frames):
            image = frame.astype(np.float32)
            if params["family"] == "gaussian":
                noise = rng.standard_normal(frame.shape, dtype=np.float32)
            elif params["family"] == "film":
                # Grain peaks in the mid-tones and fades toward black and white.
                luma = image.mean(axis=-1, keepdims=True) / 255.0
                weight = 0.4 + 2.4 * luma * (1.0 - luma)
                noise = _film_noise(rng, frame.shape, params["grain_px"])[..., None] * weight
            else:
                noise = _iso_noise(rng, frame.shape, params["chroma_share"])
            out[index] = np.clip(image + sigma * noise + 0.5, 0, 255).astype(np.uint8)
        return out, np.zeros(frames.shape[:3], dtype=bool)
