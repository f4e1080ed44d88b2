"""Hard negative: the clip slowed down 2-4x by frame blending, never by repeating frames.

Cheap slow motion (and many frame-rate converters) shows the content slower by blending the two
nearest source frames at each output tick. Motion per frame shrinks and goes soft, and every
second or third frame can be almost a source frame again: a cadence that resembles a stutter,
except that no picture is ever shown twice. Severity is the slow-down factor.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.temporal import TemporalImpairment

_FACTOR = {1: (2.0, 2.4), 2: (2.4, 2.8), 3: (2.8, 3.2), 4: (3.2, 3.6), 5: (3.6, 4.0)}


def content_positions(n_frames: int, first: float, factor: float) -> np.ndarray:
    """Fractional source position shown at each output frame."""
    return first + np.arange(n_frames, dtype=np.float64) / factor


@register
class SlowMotion(TemporalImpairment):
    """Blend-interpolated slow motion of a drawn factor from a drawn start position."""

    name = "slow_motion"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"factor": factor} for s, factor in _FACTOR.items()}

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        factor = self.uniform(rng, "factor")
        span = (n_frames - 1) / factor  # source frames the slowed clip walks through
        return {
            "factor": round(factor, 4),
            "first_position": round(float(rng.uniform(0.0, max(0.0, n_frames - 1 - span))), 4),
        }

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, None]:
        n_frames = len(frames)
        positions = content_positions(n_frames, params["first_position"], params["factor"])
        out = np.empty_like(frames)
        for index, position in enumerate(positions):
            low = min(int(np.floor(position)), n_frames - 1)
            high = min(low + 1, n_frames - 1)
            weight = np.float32(position - low)
            blend = (1 - weight) * frames[low].astype(np.float32) + weight * frames[high]
            out[index] = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
        return out, np.zeros(n_frames, dtype=np.int8), None
