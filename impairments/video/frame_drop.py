"""Frame drops: single missing frames replaced by a duplicate of a neighbour.

A player that loses a frame shows the previous picture again (``previous``: a repeat, then a
two-frame jump) or, when the next one is already decoded, shows that one early (``next``: a jump,
then a repeat). ``drops`` such frames are scattered over a span of the clip, at least two frames
apart so they stay single drops (a run of missing frames is a freeze). The clock is kept: the
frames around a drop are where they belong. Reported as a stutter: the span from the first to
the last affected frame is labelled 2.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.temporal import (
    STUTTER,
    TemporalImpairment,
    draw_reencode,
    reencoded,
    stretch_labels,
)

FAMILIES = ("previous", "next", "mixed")
_DROPS = {1: (1.0, 1.0), 2: (1.0, 2.0), 3: (2.0, 3.0), 4: (3.0, 5.0), 5: (5.0, 8.0)}
SPAN_S = (0.3, 2.0)  # the stretch the drops are scattered over
MIN_GAP = 3  # frames between drops (two apart: every drop keeps a normal frame on each side)


def drop_schedule(n_frames: int, drops: list[dict[str, Any]]) -> np.ndarray:
    """Source frame shown at each output frame: a dropped frame shows a neighbour instead."""
    index = np.arange(n_frames)
    for drop in drops:
        frame = drop["frame"]
        index[frame] = frame - 1 if drop["neighbour"] == "previous" else frame + 1
    return index


@register
class FrameDrop(TemporalImpairment):
    """Scattered single-frame drops (see module docstring)."""

    name = "frame_drop"
    label = STUTTER
    reencode_share = 0.3
    severity_ranges: ClassVar = {
        s: {"drops": drops, "span_s": SPAN_S} for s, drops in _DROPS.items()
    }

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        family = str(self.pick(rng, self.families))
        span_s = self.uniform(rng, "span_s")
        # Dropped frames need a neighbour on both sides: candidates are 1 .. n_frames - 2.
        span = min(self.frames_for(span_s, fps), max(1, n_frames - 2))
        wanted = self.randint(rng, "drops")
        span = max(span, min(n_frames - 2, (wanted - 1) * MIN_GAP + 1))
        first = int(rng.integers(1, max(2, n_frames - span)))
        slots = list(range(first, min(first + span, n_frames - 1), MIN_GAP))
        offset = int(rng.integers(0, MIN_GAP)) if len(slots) > wanted else 0
        candidates = [f + offset for f in slots if f + offset < n_frames - 1] or slots
        count = min(wanted, len(candidates))
        chosen = sorted(int(f) for f in rng.choice(candidates, size=count, replace=False))
        drops = [
            {
                "frame": frame,
                "neighbour": (
                    family if family != "mixed" else str(self.pick(rng, ("previous", "next")))
                ),
            }
            for frame in chosen
        ]
        return {
            "family": family,
            "span_s": round(span_s, 4),
            "drops": drops,
            "reencode": draw_reencode(rng, self.reencode_share),
            "fps": fps,
        }

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        schedule = drop_schedule(len(frames), params["drops"])
        out = reencoded(frames[schedule], params["fps"], params["reencode"])
        return out, stretch_labels(schedule, STUTTER), schedule
