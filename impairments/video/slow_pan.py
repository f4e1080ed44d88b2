"""Hard negative: a still picture panned or zoomed by a fraction of a pixel per frame.

Rostrum-camera moves over photographs, slow drifts of a locked-off long lens and the "Ken Burns"
effect change each frame by a sub-pixel resampling only: consecutive frames differ by a level or
two on edges and not at all on flat areas. That is near-static content, not a freeze: the picture
keeps moving. Speed is the displacement at the frame's edge, 0.02-0.5 px per frame; severity is
difficulty (the higher, the slower). Every draw carries faint capture noise: without it OpenCV's
1/32-pixel resampling grid renders the slowest moves as bit-identical frames, a real repeat in a
clip labelled clean.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import cv2
import numpy as np

from impairments.registry import register
from impairments.video.static_noise import noise_field
from impairments.video.temporal import TemporalImpairment

FAMILIES = ("pan", "zoom")
_SPEED = {1: (0.3, 0.5), 2: (0.15, 0.3), 3: (0.08, 0.15), 4: (0.04, 0.08), 5: (0.02, 0.04)}
NOISE_SIGMA = (0.3, 1.5)


def pan_matrix(params: dict[str, Any], index: int, height: int, width: int) -> np.ndarray:
    """2x3 affine of frame ``index``: a translation, or a zoom about the centre whose edge moves
    ``px_per_frame``."""
    moved = params["px_per_frame"] * index
    if params["family"] == "pan":
        angle = math.radians(params["angle_deg"])
        return np.array([[1.0, 0.0, moved * math.cos(angle)], [0.0, 1.0, moved * math.sin(angle)]])
    scale = 1.0 + params["direction"] * moved / (max(height, width) / 2)
    centre_y, centre_x = (height - 1) / 2, (width - 1) / 2
    return np.array([[scale, 0.0, centre_x * (1 - scale)], [0.0, scale, centre_y * (1 - scale)]])


@register
class SlowPan(TemporalImpairment):
    """One frame of the clip, resampled along a very slow pan or zoom."""

    name = "slow_pan"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"px_per_frame": speed} for s, speed in _SPEED.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        family = str(self.pick(rng, self.families))
        params: dict[str, Any] = {
            "family": family,
            "px_per_frame": round(self.uniform(rng, "px_per_frame"), 5),
            "still_frame": int(rng.integers(shape[0])),
            "noise_sigma": round(float(rng.uniform(*NOISE_SIGMA)), 4),
        }
        if family == "pan":
            params["angle_deg"] = round(float(rng.uniform(0.0, 360.0)), 3)
        else:
            params["direction"] = int(self.pick(rng, (-1, 1)))  # out or in
        return params

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, None]:
        n_frames, height, width = frames.shape[:3]
        still = frames[params["still_frame"]].astype(np.float32)
        sigma = np.float32(params["noise_sigma"])
        out = np.empty_like(frames)
        for index in range(n_frames):
            moved = cv2.warpAffine(
                still,
                pan_matrix(params, index, height, width),
                (width, height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT101,
            )
            if sigma > 0:
                moved += sigma * noise_field(rng, still.shape, "gaussian", 0.0)
            out[index] = np.clip(moved + 0.5, 0, 255).astype(np.uint8)
        return out, np.zeros(n_frames, dtype=np.int8), None
