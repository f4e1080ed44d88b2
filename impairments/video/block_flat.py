"""Runs of macroblocks painted one colour: what a decoder shows for blocks it never received.

Decoders fill missing blocks with whatever their concealment has: mid-grey (YUV 128), the green
of an all-zero YUV buffer, each block's own average (DC-only reconstruction: the picture turns
into a mosaic), or the colour of the block above (vertical concealment). Each is a family here;
the runs and their persistence follow :mod:`impairments.video.runs`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from impairments.registry import register
from impairments.video.base import MACROBLOCK, macroblock_grid
from impairments.video.runs import (
    RUN_SEVERITY_RANGES,
    RunImpairment,
    draw_run_geometry,
    paste_persisting,
    run_block_mask,
    run_pixel_mask,
)

FAMILIES = ("grey", "green", "block_mean", "above")
FIXED_COLOURS = {"grey": (128, 128, 128), "green": (0, 135, 0)}
COLOUR_JITTER = 6  # decoders differ a little in their exact fill; keep the detector from keying


def block_means(frame: np.ndarray) -> np.ndarray:
    """Average colour of each macroblock, ``(rows, cols, 3)`` float (edge blocks: real pixels)."""
    height, width = frame.shape[:2]
    rows, cols = macroblock_grid(height, width)
    padded = np.zeros((rows * MACROBLOCK, cols * MACROBLOCK, 4), dtype=np.float32)
    padded[:height, :width, :3] = frame
    padded[:height, :width, 3] = 1.0  # pixel count, so partial edge blocks average real pixels
    sums = padded.reshape(rows, MACROBLOCK, cols, MACROBLOCK, 4).sum(axis=(1, 3))
    return sums[..., :3] / sums[..., 3:]


def painted(frame: np.ndarray, blocks: np.ndarray, family: str, colour: list[int]) -> np.ndarray:
    """``frame`` with the ``blocks`` (``(rows, cols)`` bool) filled as ``family`` conceals."""
    height, width = frame.shape[:2]
    rows, cols = blocks.shape
    if family in FIXED_COLOURS:
        fill = np.broadcast_to(np.asarray(colour, np.float32), (rows, cols, 3)).copy()
    elif family == "block_mean":
        fill = block_means(frame)
    else:  # above: each block copies the (already filled) block above; the top row falls to grey
        fill = block_means(frame)
        for r in range(rows):
            above = fill[r - 1] if r > 0 else np.full((cols, 3), 128.0, np.float32)
            fill[r] = np.where(blocks[r, :, None], above, fill[r])
    image = fill.round().astype(np.uint8).repeat(MACROBLOCK, 0).repeat(MACROBLOCK, 1)
    return image[:height, :width]


@register
class BlockFlat(RunImpairment):
    """Runs of macroblocks filled with one colour each (see module docstring)."""

    name = "block_flat"
    severity_ranges: ClassVar = RUN_SEVERITY_RANGES

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        runs = []
        for _ in range(self.randint(rng, "runs")):
            family = str(self.pick(rng, self.families))
            run: dict[str, Any] = {"family": family, **draw_run_geometry(rng, self.ranges, shape)}
            if family in FIXED_COLOURS:
                jitter = rng.integers(-COLOUR_JITTER, COLOUR_JITTER + 1, size=3)
                colour = np.clip(np.asarray(FIXED_COLOURS[family]) + jitter, 0, 255)
                run["colour"] = [int(v) for v in colour]
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
            blocks = run_block_mask(run, height, width)
            damaged = painted(out[run["frame"]], blocks, run["family"], run.get("colour", []))
            paste_persisting(out, run, damaged, region)
            regions[run["frame"] : run["frame"] + run["persist_frames"]] |= region
        return out, self.labelled(frames, out, regions, params)
