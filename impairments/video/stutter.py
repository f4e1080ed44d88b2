"""Stutter: an irregular cadence of repeated and skipped frames over a stretch of the clip.

Over the stretch the picture is shown in *holds*: each hold shows one source frame for one or
more ticks. Families draw the hold lengths:

- ``periodic``: every N-th frame is held twice (1-in-N repeats, a frame-rate conversion that
  repeats frames to fill the rate);
- ``judder``: a pulldown-like pattern of 2- and 3-tick holds (3:2 cadence) or 1- and 2-tick ones;
- ``irregular``: a hold of 2 to 4 ticks with a drawn probability at every frame (a struggling
  decoder or network player);
- ``single``: one isolated hitch, a single hold of 2 (or, at high severity, 3) ticks: the one
  duplicated frame of a cadence glitch or a player catching up, the commonest stutter of all and
  the hardest to place exactly (its label is one or two frames wide).

``live`` timing shows at each hold the frame the programme has reached (a repeat is followed by
a skip: the clock is kept); ``delayed`` advances one source frame per hold (repeats only: the
programme runs late after the stretch). Labels: the whole stretch where the cadence is broken.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.temporal import (
    DELAYED,
    LIVE,
    STUTTER,
    TemporalImpairment,
    draw_reencode,
    reencoded,
    stretch_labels,
)

FAMILIES = ("periodic", "judder", "irregular", "single")
# Judder cadences (ticks per hold), by severity: a long hold every few frames is worse.
JUDDER_PATTERNS = {
    1: ((1, 1, 1, 2), (1, 1, 2)),
    2: ((1, 1, 2), (1, 2)),
    3: ((1, 2), (2, 3)),
    4: ((2, 3), (2, 2, 3)),
    5: ((2, 3), (3, 2, 3), (2, 3, 3)),
}
IRREGULAR_HOLD = (2, 4)  # ticks of a long hold in the irregular family
SINGLE_HOLD = {1: (2, 2), 2: (2, 2), 3: (2, 3), 4: (2, 3), 5: (3, 3)}  # ticks of the one hitch
_BY_SEVERITY = {
    1: {"stretch_s": (0.4, 0.8), "period": (8.0, 12.0), "hold_probability": (0.06, 0.1)},
    2: {"stretch_s": (0.6, 1.2), "period": (6.0, 8.0), "hold_probability": (0.1, 0.16)},
    3: {"stretch_s": (0.8, 1.8), "period": (4.0, 6.0), "hold_probability": (0.16, 0.25)},
    4: {"stretch_s": (1.2, 2.4), "period": (3.0, 4.0), "hold_probability": (0.25, 0.35)},
    5: {"stretch_s": (1.6, 3.0), "period": (2.0, 3.0), "hold_probability": (0.35, 0.5)},
}


def holds_schedule(n_frames: int, start: int, holds: list[int], timing: str) -> np.ndarray:
    """Source frame shown at each output frame when ``holds`` (ticks each) begin at ``start``.

    Holds past the clip's end are cut. ``live``: a hold shows the frame due at its first tick;
    ``delayed``: hold ``k`` shows source ``start + k`` and the lag persists after the stretch.
    """
    index = np.arange(n_frames)
    tick = start
    for number, ticks in enumerate(holds):
        stop = min(n_frames, tick + ticks)
        index[tick:stop] = tick if timing == LIVE else start + number
        tick = stop
        if tick >= n_frames:
            break
    if timing == DELAYED and tick < n_frames:
        index[tick:] -= tick - (start + len(holds))
    return index


@register
class Stutter(TemporalImpairment):
    """Repeat/skip cadences over one stretch (see module docstring)."""

    name = "stutter"
    label = STUTTER
    reencode_share = 0.3
    severity_ranges: ClassVar = _BY_SEVERITY

    FAMILIES = FAMILIES
    TIMINGS: ClassVar[tuple[str, ...]] = (LIVE, DELAYED)

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        family = str(self.pick(rng, self.families))
        stretch_s = self.uniform(rng, "stretch_s")
        length = min(self.frames_for(stretch_s, fps, low=2), max(1, n_frames - 1))
        if family == "single":
            low, high = SINGLE_HOLD[self.severity]
            length = min(int(rng.integers(low, high + 1)), max(1, n_frames - 1))
            stretch_s = length / fps
        start = int(rng.integers(1, max(2, n_frames - length + 1)))
        params: dict[str, Any] = {
            "family": family,
            "stretch_s": round(stretch_s, 4),
            "start_frame": start,
            "stretch_frames": length,
            "timing": str(self.pick(rng, self.TIMINGS)),
        }
        if family == "periodic":
            period = self.randint(rng, "period")
            # The phase puts the first long hold inside the stretch.
            phase = int(rng.integers(0, max(1, min(period, length - 1))))
            pattern = [1] * (period - 1) + [2]
            holds = pattern[period - 1 - phase :] + pattern * (length // period + 1)
            params.update(period=period, phase=phase)
        elif family == "single":
            holds = [length]
        elif family == "judder":
            pattern = list(self.pick(rng, JUDDER_PATTERNS[self.severity]))
            holds = pattern * (length // len(pattern) + 1)
            params["pattern"] = pattern
        else:
            probability = self.uniform(rng, "hold_probability")
            holds = [
                int(rng.integers(IRREGULAR_HOLD[0], IRREGULAR_HOLD[1] + 1))
                if rng.random() < probability
                else 1
                for _ in range(length)
            ]
            if max(holds) == 1:  # a stutter repeats at least once
                holds[int(rng.integers(len(holds)))] = IRREGULAR_HOLD[0]
            params["hold_probability"] = round(probability, 4)
        params["holds"] = fit_holds(holds, length)
        if max(params["holds"]) < 2:  # the stretch cut every long hold: open with one
            params["holds"] = fit_holds([2, *holds], length)
        params["reencode"] = draw_reencode(rng, self.reencode_share)
        params["fps"] = fps
        return params

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        schedule = holds_schedule(
            len(frames), params["start_frame"], params["holds"], params["timing"]
        )
        out = reencoded(frames[schedule], params["fps"], params["reencode"])
        return out, stretch_labels(schedule, STUTTER), schedule


def fit_holds(holds: list[int], length: int) -> list[int]:
    """The holds that fill ``length`` ticks (the last one cut to fit)."""
    fitted: list[int] = []
    total = 0
    for ticks in holds:
        if total >= length:
            break
        fitted.append(min(int(ticks), length - total))
        total += fitted[-1]
    return fitted
