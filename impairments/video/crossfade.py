"""Hard negative: a dissolve between two shots, or a dip toward black and back.

During a slow dissolve every pixel changes by a small, smooth, global amount per frame while the
shot's own motion fades out or in: frame differences shrink toward a uniform brightness drift,
which a naive difference threshold reads as "nothing moves". The second shot is the clip itself
played backwards and mirrored (another moving picture of the same material); a dip fades the
picture toward a dark level and back while it keeps moving (never to a held black, which would
be a repeat). Severity is the fade's length (longer: smaller change per frame).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.temporal import TemporalImpairment

FAMILIES = ("dissolve", "dip")
_DURATION_S = {1: (0.3, 0.6), 2: (0.5, 0.9), 3: (0.8, 1.2), 4: (1.1, 1.6), 5: (1.5, 2.0)}
DIP_LEVEL = (0.05, 0.4)  # brightness at the bottom of a dip


def fade_weights(n_frames: int, start: int, length: int) -> np.ndarray:
    """Weight of the incoming picture per frame: 0 before ``start``, a linear ramp, then 1."""
    ramp = (np.arange(n_frames, dtype=np.float32) - start + 1) / (length + 1)
    return np.clip(ramp, 0.0, 1.0)


@register
class Crossfade(TemporalImpairment):
    """A dissolve to a second shot, or a dip, of drawn length and position."""

    name = "crossfade"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"duration_s": d} for s, d in _DURATION_S.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        duration_s = self.uniform(rng, "duration_s")
        length = min(self.frames_for(duration_s, fps), n_frames)
        params: dict[str, Any] = {
            "family": str(self.pick(rng, self.families)),
            "duration_s": round(duration_s, 4),
            "start_frame": int(rng.integers(0, max(1, n_frames - length + 1))),
            "fade_frames": length,
        }
        if params["family"] == "dip":
            params["dip_level"] = round(float(rng.uniform(*DIP_LEVEL)), 4)
        return params

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, None]:
        n_frames = len(frames)
        start, length = params["start_frame"], params["fade_frames"]
        weights = fade_weights(n_frames, start, length)
        out = np.empty_like(frames)
        for index in range(n_frames):
            image = frames[index].astype(np.float32)
            weight = float(weights[index])
            if params["family"] == "dissolve":
                other = frames[n_frames - 1 - index, :, ::-1].astype(np.float32)
                image = (1.0 - weight) * image + weight * other
            else:  # down to the dip level at the middle of the fade, back up at its end
                depth = 1.0 - abs(2.0 * weight - 1.0) if 0.0 < weight < 1.0 else 0.0
                image *= 1.0 - (1.0 - params["dip_level"]) * depth
            out[index] = np.clip(image + 0.5, 0, 255).astype(np.uint8)
        return out, np.zeros(n_frames, dtype=np.int8), None
