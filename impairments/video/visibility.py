"""Which differing macroblocks a single frame actually shows as damaged.

Decoder damage is labelled by comparing the damaged decode with the clean decode, but "differs"
is not "visible". When a lost slice is concealed from the wrong reference inside a noise texture,
the block decodes as more of the same texture; when a dropped picture makes a smooth scene predict
from an older one, the whole picture drifts coherently. Both differ from the clean decode by tens
of levels and neither shows anything in the frame itself, so a single-frame detector trained on
them learns to guess. (The project measured it: codec damage inside noise textures was found
0.02-0.25 of the time, while 40% of those labelled blocks kept their mean and contrast.)

A differing block counts as visible when the frame itself carries evidence of the damage, judged
the way perceptual metrics judge distortions, against what the surrounding picture masks:

* a **seam**: the jump across one of its four macroblock borders grew by more than the block's own
  texture masks: its mean step between neighbouring pixels, its contrast (grey-level standard
  deviation) times ``contrast_masking``, and at least ``SEAM_LEVELS``; the staircase edges of
  misplaced blocks, smeared objects and garbage slices. In fine noise a block copied from
  elsewhere adds a step of about the texture's own contrast at its borders, which the eye does
  not pick out of the noise; the same step on a smooth picture is a plain edge;
* a **contrast change**: its standard deviation changed by more than ``CONTRAST_SHARE`` of the
  clean block's (and by at least ``CONTRAST_LEVELS``); texture flattened to a colour, or a smooth
  area filled with garbage.

Blocks whose difference is below the plain threshold are never visible. What this leaves
unlabelled is damage that only a comparison with the clean decode reveals (coherent drift,
texture replaced by look-alike texture, a whole picture concealed as flat grey: that is a
frame-level failure for a black/grey-frame check, not block damage).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from impairments.video.base import (
    MACROBLOCK,
    VideoImpairment,
    macroblock_grid,
    macroblock_sums,
)

# A seam must add this many levels (mean over the 16 pixels of the border, over channels).
SEAM_LEVELS = 4.0
# A seam must also exceed the block's grey-level standard deviation times this (contrast
# masking). 0 judges seams against the mean step alone (the first visible label, used by the
# block_cpu_visible build): on a noise-texture scene it kept 21% of the differing blocks against
# 9% with masking, most of the difference scattered blocks where no damage shows.
CONTRAST_MASKING = 1.0
# A contrast change must reach this many levels of standard deviation ...
CONTRAST_LEVELS = 4.0
# ... and this share of the clean block's standard deviation.
CONTRAST_SHARE = 0.3

# How an impairment labels its damage: "visible" (a seam or contrast change, visible_damage)
# or "difference" (every block that changed).
LABELS = ("visible", "difference")


class VisiblyLabelled(VideoImpairment):
    """A block impairment whose label is ``visible`` (the default) or ``difference``.

    The one place that reads and checks ``label`` and ``contrast_masking``, so codec damage and
    the run impairments refuse the same bad values with the same messages. What each records in
    its parameters stays with it: builds made before each label change keep their bytes.
    """

    def __init__(
        self,
        severity: int = 3,
        *,
        label: str = "visible",
        contrast_masking: float = CONTRAST_MASKING,
        **overrides: Any,
    ) -> None:
        super().__init__(severity, **overrides)
        self.label = self.subset("label", (label,), LABELS)[0]
        if not 0.0 <= float(contrast_masking) < float("inf"):
            raise ValueError(
                f"{self.name}: contrast_masking must be a finite number >= 0, "
                f"got {contrast_masking!r}"
            )
        self.contrast_masking = float(contrast_masking)


def _padded(frame: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``(H, W, C)`` -> float32 ``(rows*16, cols*16, C)``, partial blocks filled by edge copies."""
    height, width = frame.shape[:2]
    pad = ((0, rows * MACROBLOCK - height), (0, cols * MACROBLOCK - width), (0, 0))
    return np.pad(frame.astype(np.float32), pad, mode="edge")


def _blocks(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``(rows*16, cols*16)`` -> ``(rows, cols, 16, 16)`` views of each macroblock."""
    return values.reshape(rows, MACROBLOCK, cols, MACROBLOCK).swapaxes(1, 2)


def border_jumps(frame: np.ndarray) -> np.ndarray:
    """Mean absolute step across each macroblock border of a padded ``(H, W, C)`` frame, averaged
    over the border's 16 pixels and the channels: ``(rows, cols, 4)`` for the left, right, top and
    bottom borders (0 on the frame's edge, which has no neighbour)."""
    height, width = frame.shape[:2]
    rows, cols = height // MACROBLOCK, width // MACROBLOCK
    out = np.zeros((rows, cols, 4), dtype=np.float32)
    if cols > 1:
        first, last = frame[:, MACROBLOCK::MACROBLOCK], frame[:, MACROBLOCK - 1 : -1 : MACROBLOCK]
        across = np.abs(first - last)  # first column of each block minus last of its left one
        per_border = across.mean(axis=2).reshape(rows, MACROBLOCK, cols - 1).mean(axis=1)
        out[:, 1:, 0] = per_border
        out[:, :-1, 1] = per_border
    if rows > 1:
        first, last = frame[MACROBLOCK::MACROBLOCK], frame[MACROBLOCK - 1 : -1 : MACROBLOCK]
        across = np.abs(first - last)
        per_border = across.mean(axis=2).reshape(rows - 1, cols, MACROBLOCK).mean(axis=2)
        out[1:, :, 2] = per_border
        out[:-1, :, 3] = per_border
    return out


def texture_activity(frame: np.ndarray) -> np.ndarray:
    """Mean absolute step between neighbouring pixels inside each macroblock (both directions,
    over channels) of a padded ``(H, W, C)`` frame: ``(rows, cols)``. The seam a texture masks."""
    horizontal = np.abs(np.diff(frame, axis=1)).mean(axis=2)
    vertical = np.abs(np.diff(frame, axis=0)).mean(axis=2)
    # Steps that cross a block border belong to the seam, not to the texture: zero them.
    horizontal[:, MACROBLOCK - 1 :: MACROBLOCK] = 0.0
    vertical[MACROBLOCK - 1 :: MACROBLOCK] = 0.0
    steps = np.stack([np.pad(horizontal, ((0, 0), (0, 1))), np.pad(vertical, ((0, 1), (0, 0)))])
    per_block = macroblock_sums(steps)  # (2, rows, cols): both directions
    inside = MACROBLOCK * (MACROBLOCK - 1)  # steps per block in each direction
    return (per_block[0] + per_block[1]) / (2 * inside)


def block_contrast(frame: np.ndarray) -> np.ndarray:
    """Standard deviation of the grey level inside each macroblock: ``(rows, cols)``."""
    height, width = frame.shape[:2]
    grey = frame.mean(axis=2)
    return _blocks(grey, height // MACROBLOCK, width // MACROBLOCK).std(axis=(2, 3))


def visible_damage(
    clean: np.ndarray,
    damaged: np.ndarray,
    differs: np.ndarray,
    contrast_masking: float = CONTRAST_MASKING,
) -> np.ndarray:
    """The blocks of ``differs`` (``(T, rows, cols)`` bool) that show a seam or a contrast change
    in ``damaged`` against ``clean`` (both ``(T, H, W, C)`` uint8). Same shape as ``differs``."""
    height, width = clean.shape[1:3]
    rows, cols = macroblock_grid(height, width)
    visible = np.zeros_like(differs, dtype=bool)
    for index in np.flatnonzero(differs.any(axis=(1, 2))):
        before = _padded(clean[index], rows, cols)
        after = _padded(damaged[index], rows, cols)
        contrast_before = block_contrast(before)
        seam = (border_jumps(after) - border_jumps(before)).max(axis=2)
        masked = np.maximum(texture_activity(before), contrast_masking * contrast_before)
        seam_visible = seam >= np.maximum(SEAM_LEVELS, masked)
        change = np.abs(block_contrast(after) - contrast_before)
        contrast_visible = change >= np.maximum(CONTRAST_LEVELS, CONTRAST_SHARE * contrast_before)
        visible[index] = differs[index] & (seam_visible | contrast_visible)
    return visible
