"""Runs of macroblocks in raster order: the shape transmission errors leave in a picture.

A lost or damaged slice takes out consecutive macroblocks from where the error hit to the end of
the slice (the decoder resynchronises only at the next slice header), so the damage is a segment
along a macroblock row that may wrap onto the next rows. The damaged pixels then often persist
for a few frames, because later frames predict from them until an intra refresh.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impairments.video.base import (
    MACROBLOCK,
    macroblock_grid,
    macroblock_mean_abs_diff,
)
from impairments.video.visibility import (
    CONTRAST_MASKING,
    VisiblyLabelled,
    visible_damage,
)

# Per-channel mean absolute change below which a macroblock is not labelled: a block moved onto
# near-identical content (flat sky onto flat sky) is not visible damage.
VISIBLE_BLOCK_DIFF = 2.0

# Shared by every run-shaped impairment so severity means the same area everywhere: number of
# runs, run length as a share of a macroblock row (above 1 wraps onto following rows), and how
# many frames a damaged run persists. A lost slice usually takes out a good part of a row or more;
# severity 1 stays at a few percent of a 640x360 frame, severity 3 is about a tenth.
RUN_SEVERITY_RANGES = {
    1: {"runs": (1.0, 1.0), "run_rows": (0.25, 0.5), "persist_frames": (1.0, 1.0)},
    2: {"runs": (1.0, 2.0), "run_rows": (0.4, 1.0), "persist_frames": (1.0, 2.0)},
    3: {"runs": (2.0, 3.0), "run_rows": (0.6, 1.5), "persist_frames": (1.0, 4.0)},
    4: {"runs": (2.0, 4.0), "run_rows": (1.0, 2.5), "persist_frames": (2.0, 6.0)},
    5: {"runs": (3.0, 6.0), "run_rows": (1.5, 4.0), "persist_frames": (3.0, 10.0)},
}


def draw_run_geometry(
    rng: np.random.Generator,
    ranges: dict[str, tuple[float, float]],
    shape: tuple[int, int, int],
    first_frame: int = 0,
) -> dict[str, Any]:
    """Where one run sits: frame, persistence, first macroblock (raster index), length in blocks.

    ``first_frame`` lets a family that needs a predecessor (previous-frame copy) start later.
    """
    frames, height, width = shape
    rows, cols = macroblock_grid(height, width)
    share_low, share_high = ranges["run_rows"]
    share = float(rng.uniform(share_low, share_high)) if share_high > share_low else share_low
    low, high = (round(v) for v in ranges["persist_frames"])
    return {
        "frame": int(rng.integers(first_frame, frames)),
        "persist_frames": int(rng.integers(low, high + 1)),
        "start_block": int(rng.integers(rows * cols)),
        "length_blocks": max(1, round(share * cols)),
    }


def run_block_mask(run: dict[str, Any], height: int, width: int) -> np.ndarray:
    """``(rows, cols)`` bool: the run's macroblocks, clipped at the end of the picture."""
    rows, cols = macroblock_grid(height, width)
    flat = np.zeros(rows * cols, dtype=bool)
    flat[run["start_block"] : run["start_block"] + run["length_blocks"]] = True
    return flat.reshape(rows, cols)


def run_pixel_mask(run: dict[str, Any], height: int, width: int) -> np.ndarray:
    blocks = run_block_mask(run, height, width)
    return blocks.repeat(MACROBLOCK, 0).repeat(MACROBLOCK, 1)[:height, :width]


def affected_frames(run: dict[str, Any], n_frames: int) -> range:
    return range(run["frame"], min(n_frames, run["frame"] + run["persist_frames"]))


def paste_persisting(
    out: np.ndarray, run: dict[str, Any], damaged: np.ndarray, region: np.ndarray
) -> None:
    """Write the run's damaged pixels into its frame and keep them frozen while it persists."""
    rows = np.flatnonzero(region.any(axis=1))
    band = slice(int(rows[0]), int(rows[-1]) + 1)  # runs span a few block rows: touch only those
    keep = region[band, :, None]
    for index in affected_frames(run, len(out)):
        out[index, band] = np.where(keep, damaged[band], out[index, band])


def visible_mask(
    original: np.ndarray,
    out: np.ndarray,
    regions: np.ndarray,
    seams: bool = False,
    contrast_masking: float = CONTRAST_MASKING,
) -> np.ndarray:
    """Pixel mask of the damaged regions, keeping only macroblocks whose change is visible: a
    mean change of ``VISIBLE_BLOCK_DIFF`` and, with ``seams``, a seam or contrast change the
    damaged frame shows (:func:`impairments.video.visibility.visible_damage`)."""
    height, width = original.shape[1:3]
    mask = np.zeros_like(regions)
    hit = np.flatnonzero(regions.any(axis=(1, 2)))  # only damaged frames are worth comparing
    if len(hit):
        visible = macroblock_mean_abs_diff(original[hit], out[hit]) >= VISIBLE_BLOCK_DIFF
        if seams:
            visible = visible_damage(original[hit], out[hit], visible, contrast_masking)
        pixels = visible.repeat(MACROBLOCK, 1).repeat(MACROBLOCK, 2)[:, :height, :width]
        mask[hit] = regions[hit] & pixels
    return mask


class RunImpairment(VisiblyLabelled):
    """A run-shaped impairment (block displacement, flat blocks) and how it is labelled.

    ``label="visible"`` (the default) keeps a damaged macroblock whose mean changed by
    ``VISIBLE_BLOCK_DIFF`` (2 levels) only when the frame shows it: the seam or contrast change
    the visible codec label asks for. ``label="difference"`` (every build made before this
    default) keeps every block whose mean moved, including blocks nobody sees: a block moved
    inside a smooth gradient changes by a few levels and leaves a 2-level seam, and the one-stage
    detector missed exactly those (22 of its 23 missed displacements on the README split had an
    edge under 4 levels). The parameters record ``label`` (and ``contrast_masking``) only for
    ``visible``, so a build made with ``label=difference`` keeps its earlier bytes.
    """

    def labelled(
        self, frames: np.ndarray, out: np.ndarray, regions: np.ndarray, params: dict[str, Any]
    ) -> np.ndarray:
        """The pixel mask of ``regions`` under this impairment's label, recorded in ``params``."""
        seams = self.label == "visible"
        if seams:
            params["label"] = self.label
            params["contrast_masking"] = self.contrast_masking
        return visible_mask(frames, out, regions, seams, self.contrast_masking)
