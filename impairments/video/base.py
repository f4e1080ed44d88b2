"""The video side of the impairment contract: frames in, frames plus a per-pixel mask out.

Block corruption lives on the codec's 16x16 macroblock grid, so every video annotation carries both
the per-pixel mask (what a map detector is trained against) and the macroblock mask (what a
decoder actually damages). Frame sizes need not be multiples of 16: the last macroblock row and
column are partial, exactly as a decoder pads them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from impairments.base import Annotation, Impairment

MACROBLOCK = 16


def macroblock_grid(height: int, width: int) -> tuple[int, int]:
    """Macroblock rows and columns covering a ``height`` x ``width`` frame (partial ones count)."""
    return math.ceil(height / MACROBLOCK), math.ceil(width / MACROBLOCK)


def macroblock_mask_from_pixels(mask: np.ndarray) -> np.ndarray:
    """``(T, H, W)`` pixel mask -> ``(T, ceil(H/16), ceil(W/16))``; any pixel marks its block."""
    frames, height, width = mask.shape
    rows, cols = macroblock_grid(height, width)
    padded = np.zeros((frames, rows * MACROBLOCK, cols * MACROBLOCK), dtype=bool)
    padded[:, :height, :width] = mask
    return padded.reshape(frames, rows, MACROBLOCK, cols, MACROBLOCK).any(axis=(2, 4))


def pixels_from_macroblock_mask(blocks: np.ndarray, height: int, width: int) -> np.ndarray:
    """``(T, rows, cols)`` macroblock mask -> ``(T, height, width)`` pixel mask (cropped edge)."""
    expanded = blocks.repeat(MACROBLOCK, axis=1).repeat(MACROBLOCK, axis=2)
    return np.ascontiguousarray(expanded[:, :height, :width])


def macroblock_sums(values: np.ndarray, channels: int = 1) -> np.ndarray:
    """Sum over each macroblock of ``(T, H, W * channels)`` values (channels interleaved, as a
    contiguous RGB array reshaped), ``(T, rows, cols)`` float32.

    Treating a block as 16 rows x ``16 * channels`` values avoids a separate reduction over the
    3-long channel axis, which numpy does slowly.
    """
    frames, height, flat_width = values.shape
    rows, cols = macroblock_grid(height, flat_width // channels)
    block_width = MACROBLOCK * channels
    padded = np.zeros((frames, rows * MACROBLOCK, cols * block_width), dtype=np.float32)
    padded[:, :height, :flat_width] = values
    # Reduce the contiguous inner axis first: several times faster than one sum over (2, 4).
    per_row = padded.reshape(frames, rows * MACROBLOCK, cols, block_width).sum(axis=3)
    return per_row.reshape(frames, rows, MACROBLOCK, cols).sum(axis=2)


def macroblock_mean_abs_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference per macroblock over pixels and channels, ``(T, rows, cols)``.

    Partial edge blocks average over their real pixels only, so a 4-pixel-wide sliver is judged
    by the same threshold as a full block.
    """
    frames, height, width, channels = a.shape
    diff = np.maximum(a, b) - np.minimum(a, b)  # stays uint8, no widening copy
    sums = macroblock_sums(diff.reshape(frames, height, width * channels), channels)
    counts = macroblock_sums(np.ones((1, height, width), dtype=np.float32))
    return sums / (counts * channels)


# eq=False: comparing masks with == is ambiguous, and nothing needs annotation equality.
@dataclass(eq=False)
class VideoAnnotation(Annotation):
    """Ground truth of one video impairment: which pixels (and macroblocks) are corrupted.

    ``mask`` is ``(T, H, W)`` bool, all False for hard negatives and for corruption draws that
    happened to leave no visible damage. ``frames`` and ``macroblock_mask`` are derived from it so
    they can never disagree with it.
    """

    mask: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), dtype=bool))

    @cached_property
    def macroblock_mask(self) -> np.ndarray:
        return macroblock_mask_from_pixels(self.mask)

    @property
    def frames(self) -> list[int]:
        """Indices of frames with at least one corrupted pixel."""
        return [int(i) for i in np.flatnonzero(self.mask.any(axis=(1, 2)))]

    def area_ratios(self) -> list[float]:
        """Corrupted share of each frame's pixels."""
        if self.mask.size == 0:
            return [0.0] * len(self.mask)
        return [round(float(r), 6) for r in self.mask.mean(axis=(1, 2))]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary without the big arrays (masks go to the shard as images)."""
        out = super().to_json()
        ratios = self.area_ratios()
        out.update(
            frames=self.frames,
            area_ratio_per_frame=ratios,
            area_ratio=round(float(np.mean(ratios)), 6) if ratios else 0.0,
            macroblocks_corrupted=int(self.macroblock_mask.sum()),
        )
        return out


def check_frames(frames: np.ndarray, name: str) -> np.ndarray:
    """Validate ``(T, H, W, 3)`` uint8 RGB; anything else is a caller bug worth a clear message."""
    array = np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(
            f"{name}: expected frames shaped (T, H, W, 3) RGB, got shape {array.shape}"
        )
    if array.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8 frames, got dtype {array.dtype}")
    if min(array.shape[:3]) < 1:
        raise ValueError(f"{name}: frames must be non-empty, got shape {array.shape}")
    return np.ascontiguousarray(array)


class VideoImpairment(Impairment):
    """Base of video impairments: same severity ranges and overrides as audio, frames for samples.

    Subclasses implement :meth:`draw` (from ``rng`` and the clip's shape/fps only; every number
    that describes the defect goes into the returned params) and :meth:`apply` (reads the params;
    ``rng`` only for texture such as noise values that are not labels).
    """

    media: ClassVar[str] = "video"
    # True for clean-class look-alikes: their mask is always empty.
    hard_negative: ClassVar[bool] = False
    # The families a subclass draws from; a constructor's ``families=`` narrows them.
    FAMILIES: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, severity: int = 3, *, families: Sequence[str] | None = None, **overrides: Any
    ) -> None:
        super().__init__(severity, **overrides)
        if families is not None or self.FAMILIES:
            chosen = self.FAMILIES if families is None else families
            self.families = self.subset("families", chosen, self.FAMILIES)

    def draw(  # type: ignore[override]
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        raise NotImplementedError

    def apply(  # type: ignore[override]
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(frames_out, pixel_mask)`` for the drawn ``params``."""
        raise NotImplementedError

    def __call__(  # type: ignore[override]
        self, frames: np.ndarray, *, fps: float = 25.0, seed: int | np.random.Generator
    ) -> tuple[np.ndarray, VideoAnnotation]:
        clip = check_frames(frames, self.name)
        if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"{self.name}: fps must be a positive number, got {fps!r}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        params = self.draw(rng, clip.shape[:3], float(fps))
        out, mask = self.apply(clip, params, rng)
        if out.shape != clip.shape or out.dtype != np.uint8 or mask.shape != clip.shape[:3]:
            raise AssertionError(f"{self.name}: apply broke the frame/mask shape contract")
        annotation = VideoAnnotation(
            kind=self.name, severity=self.severity, params=params, mask=mask.astype(bool)
        )
        return out, annotation
