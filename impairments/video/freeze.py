"""Freeze: the picture stops on one frame while the clock runs on.

Output frame ``start - 1`` is held for ``hold_frames`` ticks (the repeats, labelled 1). Then the
picture resumes either ``live`` (at the position the programme has reached meanwhile: the held
stretch of content is lost, as when a decoder stalls on a live feed) or ``delayed`` (where it
stopped: the programme runs late from there on, as when a playout server pauses). A freeze may
run to the end of the clip. Most onsets leave ``lead_s`` of normal motion before the first repeat
so the stop is visible in the clip; ``early_share`` of them start sooner.

Optionally the frozen clip is re-encoded with x264 (``reencode_share``): the repeats then decode
near-identical rather than bit-identical, as after any transcode downstream of the freeze.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.temporal import (
    DELAYED,
    FREEZE,
    LIVE,
    TemporalImpairment,
    draw_reencode,
    reencoded,
)

# Freeze length in seconds (severity 1: a short hitch, 5: several seconds).
_HOLD_S = {1: (0.2, 0.4), 2: (0.4, 0.8), 3: (0.8, 1.5), 4: (1.5, 2.5), 5: (2.5, 4.0)}


def freeze_schedule(n_frames: int, start: int, hold_frames: int, resume: str) -> np.ndarray:
    """Source frame shown at each output frame: ``start - 1`` held for ``hold_frames`` repeats."""
    index = np.arange(n_frames)
    stop = min(n_frames, start + hold_frames)
    index[start:stop] = start - 1
    if resume == DELAYED:
        index[stop:] -= hold_frames
    return index


@register
class Freeze(TemporalImpairment):
    """One held frame (see module docstring); labels exactly its repeats."""

    name = "freeze"
    label = FREEZE
    reencode_share = 0.5
    severity_ranges: ClassVar = {s: {"hold_s": hold} for s, hold in _HOLD_S.items()}

    FAMILIES = (LIVE, DELAYED)
    lead_s: ClassVar[float] = 0.4  # normal motion before the first repeat in most draws
    early_share: ClassVar[float] = 0.1  # draws that start anywhere from the second frame

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        hold_s = self.uniform(rng, "hold_s")
        hold_frames = self.frames_for(hold_s, fps)
        lead = min(self.frames_for(self.lead_s, fps), n_frames - 1)
        # The freeze fits in the clip when it can, and is often cut by the clip's end: starts
        # run up to the point where half of it still lies inside.
        latest = max(lead, n_frames - max(1, (hold_frames + 1) // 2))
        if rng.random() < self.early_share:
            start = int(rng.integers(1, max(2, lead + 1)))
        else:
            start = int(rng.integers(lead, latest + 1))
        start = min(max(1, start), max(1, n_frames - 1))
        return {
            "hold_s": round(hold_s, 4),
            "hold_frames": hold_frames,
            "start_frame": start,
            "held_frame": start - 1,
            "resume": str(self.pick(rng, self.families)),
            "reencode": draw_reencode(rng, self.reencode_share),
            "fps": fps,
        }

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_frames = len(frames)
        start = params["start_frame"]
        schedule = freeze_schedule(n_frames, start, params["hold_frames"], params["resume"])
        labels = np.zeros(n_frames, dtype=np.int8)
        labels[start : min(n_frames, start + params["hold_frames"])] = FREEZE
        labels[0] = 0  # a one-frame clip has nothing to repeat
        params["frames_in_clip"] = int(labels.astype(bool).sum())
        params["runs_to_end"] = start + params["hold_frames"] >= n_frames
        out = reencoded(frames[schedule], params["fps"], params["reencode"])
        return out, labels, schedule
