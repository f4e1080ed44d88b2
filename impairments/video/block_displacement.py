"""Blocks of pixels in the wrong place: a decoder after a bad motion vector or a lost slice.

Three families, each as runs of macroblocks along a row (see :mod:`impairments.video.runs`):

- ``spatial_shift``: the run shows content from elsewhere in the same frame (a corrupted motion
  vector pointing far away);
- ``previous_frame``: the run shows an older frame, possibly slightly offset (a lost slice
  concealed by copying the reference picture, visible as stale blocks over moving content);
- ``row_smear``: the pixel row above the run is stretched down over it (concealment by vertical
  extrapolation, the "dripping" stripes of broken streams).

The damaged pixels are frozen for ``persist_frames`` frames, as they are when later frames keep
predicting from them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.base import MACROBLOCK
from impairments.video.runs import (
    RUN_SEVERITY_RANGES,
    RunImpairment,
    draw_run_geometry,
    paste_persisting,
    run_pixel_mask,
)

FAMILIES = ("spatial_shift", "previous_frame", "row_smear")
SHIFT_PX = (8, 96)  # magnitude of a spatial shift along each axis (a far-off motion vector)
PREVIOUS_LAG = (1, 5)  # how many frames back a concealment copy reaches
PREVIOUS_OFFSET_PX = 8  # up to this many pixels of extra offset on a previous-frame copy


def shifted(frame: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``frame`` read at ``(y + dy, x + dx)``, edges repeated (motion vectors may point outside)."""
    height, width = frame.shape[:2]
    ys = np.clip(np.arange(height) + dy, 0, height - 1)
    xs = np.clip(np.arange(width) + dx, 0, width - 1)
    return frame[ys][:, xs]


def smeared_down(frame: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Each macroblock row of ``region`` filled with the pixel row just above it, per column."""
    out = frame.copy()
    for top in range(0, frame.shape[0], MACROBLOCK):
        rows = slice(top, top + MACROBLOCK)
        if not region[rows].any():
            continue
        source_row = out[max(top - 1, 0)]
        out[rows] = np.where(region[rows, :, None], source_row[None], out[rows])
    return out


@register
class BlockDisplacement(RunImpairment):
    """Runs of macroblocks replaced by displaced or stale content (see module docstring)."""

    name = "block_displacement"
    severity_ranges: ClassVar = RUN_SEVERITY_RANGES

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        n_frames = shape[0]
        families = self.families
        if n_frames == 1 and families != ("previous_frame",):
            # A single frame has no predecessor to copy from.
            families = tuple(f for f in families if f != "previous_frame")
        runs = []
        for _ in range(self.randint(rng, "runs")):
            family = str(self.pick(rng, families))
            run: dict[str, Any] = {"family": family}
            first = 1 if family == "previous_frame" and n_frames > 1 else 0
            run.update(draw_run_geometry(rng, self.ranges, shape, first_frame=first))
            if family == "spatial_shift":
                magnitudes = rng.integers(SHIFT_PX[0], SHIFT_PX[1] + 1, size=2)
                signs = rng.choice((-1, 1), size=2)
                run["dy"], run["dx"] = (int(v) for v in magnitudes * signs)
            elif family == "previous_frame":
                run["lag"] = int(
                    min(rng.integers(PREVIOUS_LAG[0], PREVIOUS_LAG[1] + 1), run["frame"])
                )
                offset = rng.integers(-PREVIOUS_OFFSET_PX, PREVIOUS_OFFSET_PX + 1, size=2)
                run["dy"], run["dx"] = (int(v) for v in offset)
            runs.append(run)
        return {"runs": runs}

    def apply(
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        height, width = frames.shape[1:3]
        out = frames.copy()
        regions = np.zeros(frames.shape[:3], dtype=bool)
        for run in params["runs"]:
            region = run_pixel_mask(run, height, width)
            current = out[run["frame"]]
            if run["family"] == "spatial_shift":
                damaged = shifted(current, run["dy"], run["dx"])
            elif run["family"] == "previous_frame":
                damaged = shifted(out[run["frame"] - run["lag"]], run["dy"], run["dx"])
            else:
                damaged = smeared_down(current, region)
            paste_persisting(out, run, damaged, region)
            regions[run["frame"] : run["frame"] + run["persist_frames"]] |= region
        return out, self.labelled(frames, out, regions, params)
