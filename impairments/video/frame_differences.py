"""Frame-difference features: the freeze detector's input, one definition for build and detect.

A freeze is a *temporal* fact (the picture stops changing while time goes on), so the detector
reads how each frame differs from the one before, not the pictures. The hard part is telling
the kinds of "almost no change" apart:

- a decoder repeating a frame: every pixel difference exactly 0;
- a transcoded freeze: tiny, codec-shaped differences (mostly 0, a few ±1-2, pulses at I-frames);
- a still shot with sensor noise or grain: small differences spread over the whole frame;
- a slow pan or zoom: small differences concentrated on edges and texture;
- a cross-fade: a smooth global brightness drift.

Those differ in the *distribution* of |difference|, which a few thresholds and quantiles capture
at native detail; downscaling first would average sensor noise away and make a noisy still look
like a freeze. So the statistics are measured at the analysis resolution (sources above 720 lines
are scaled down to 720, smaller ones untouched), from one histogram of |difference| per frame
(one pass, uint8), block means (16x16, the codec's grid) and the difference to two frames back
(a repeated frame followed by a jump is a stutter's signature). The 96x128 luma thumbnails are
for a learned embedding of *where* things change.

Frame 0 has no predecessor: its statistics are a copy of frame 1's (and frame 1's two-back ones a
copy of its one-back ones), so a clip's first frame is judged like its second.
"""

from __future__ import annotations

import cv2
import numpy as np

FEATURE_VERSION = "fd-1"
THUMB_SIZE = (96, 128)  # (height, width)
MAX_HEIGHT = 720
BLOCK = 16
THRESHOLDS = (1, 2, 4, 8, 16, 32)
BLOCK_QUANTILES = (10, 50, 90, 99)

STAT_NAMES: tuple[str, ...] = (
    "mean_abs",
    "log_mean_abs",
    "std_abs",
    "zero_share",
    *(f"share_gt{t}" for t in THRESHOLDS),
    *(f"block_q{q}" for q in BLOCK_QUANTILES),
    "block_max",
    "static_block_share",
    "brightness_change",
    "texture_normalised",
    "mean_abs_2back",
    "zero_share_2back",
    "repeat_vs_2back",
)


def analysis_frames(frames_rgb: np.ndarray, max_height: int = MAX_HEIGHT) -> np.ndarray:
    """The frames the statistics are measured on: taller than ``max_height`` -> scaled down."""
    frames = _check(frames_rgb)
    height, width = frames.shape[1:3]
    if height <= max_height:
        return frames
    new_width = max(2, int(round(width * max_height / height / 2)) * 2)
    return np.stack(
        [cv2.resize(f, (new_width, max_height), interpolation=cv2.INTER_AREA) for f in frames]
    )


def luma(frames_rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma, uint8 ``(T, H, W)`` (OpenCV's RGB2GRAY weights)."""
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in _check(frames_rgb)])


def thumbnails(frames_rgb: np.ndarray) -> np.ndarray:
    """uint8 ``(T, 96, 128)`` luma thumbnails (area-averaged)."""
    height, width = THUMB_SIZE
    return np.stack(
        [cv2.resize(y, (width, height), interpolation=cv2.INTER_AREA) for y in luma(frames_rgb)]
    )


def _abs_stats(diff: np.ndarray) -> tuple[float, float, float, list[float]]:
    """(mean, std, zero share, shares above THRESHOLDS) of a uint8 |difference| image, one pass."""
    hist = np.bincount(diff.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    values = np.arange(256, dtype=np.float64)
    mean = float((hist * values).sum() / total)
    std = float(np.sqrt(max(0.0, (hist * values**2).sum() / total - mean**2)))
    above = np.cumsum(hist[::-1])[::-1] / total  # above[k] = share of |d| >= k
    return mean, std, float(hist[0] / total), [float(above[t + 1]) for t in THRESHOLDS]


def _block_means(diff: np.ndarray) -> np.ndarray:
    height, width = diff.shape
    rows, cols = max(1, height // BLOCK), max(1, width // BLOCK)
    return cv2.resize(diff, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32)


def _texture(y: np.ndarray) -> float:
    """Mean horizontal + vertical neighbour difference: how much a 1-px motion would change."""
    y16 = y.astype(np.int16)
    return float(np.abs(np.diff(y16, axis=1)).mean() + np.abs(np.diff(y16, axis=0)).mean())


def difference_stats(frames_rgb: np.ndarray) -> np.ndarray:
    """float32 ``(T, len(STAT_NAMES))``: per-frame statistics of the change since the last frame."""
    ys = luma(analysis_frames(frames_rgb))
    count = len(ys)
    out = np.zeros((count, len(STAT_NAMES)), dtype=np.float32)
    if count < 2:
        return out
    means = ys.reshape(count, -1).mean(axis=1, dtype=np.float64)
    previous_two: tuple[float, float] | None = None
    for t in range(1, count):
        diff = cv2.absdiff(ys[t], ys[t - 1])
        mean, std, zero, shares = _abs_stats(diff)
        blocks = _block_means(diff)
        quantiles = np.percentile(blocks, BLOCK_QUANTILES).tolist()
        if t >= 2:
            mean2, _, zero2, _ = _abs_stats(cv2.absdiff(ys[t], ys[t - 2]))
            previous_two = (mean2, zero2)
        mean2, zero2 = previous_two if previous_two is not None else (mean, zero)
        out[t] = [
            mean,
            np.log10(mean + 1e-3),
            std,
            zero,
            *shares,
            *quantiles,
            float(blocks.max()),
            float((blocks < 0.5).mean()),
            float(means[t] - means[t - 1]),
            mean / (_texture(ys[t]) + 1.0),
            mean2,
            zero2,
            np.log10((mean + 1e-3) / (mean2 + 1e-3)),
        ]
    out[0] = out[1]
    return out


def clip_features(frames_rgb: np.ndarray) -> dict[str, np.ndarray]:
    """Everything the freeze detector reads about a clip: thumbnails and difference statistics."""
    return {"thumbs": thumbnails(frames_rgb), "stats": difference_stats(frames_rgb)}


def _check(frames: np.ndarray) -> np.ndarray:
    array = np.asarray(frames)
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8 or not len(array):
        raise ValueError(
            f"frame features need uint8 RGB frames shaped (T, H, W, 3) with T >= 1, got "
            f"{array.dtype} {array.shape}"
        )
    return array
