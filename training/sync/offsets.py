"""From distances between video and audio at candidate offsets to one offset and its confidence.

The contract (``lipsync`` brief): a track's ``distances`` is a float (T, 2 * S + 1) array, row =
video window position, column ``j`` = offset ``j - S`` frames (S = 15), where the column for
offset ``k`` compares video at ``t`` with audio at ``t + k``; lower = more alike; NaN = not
computed. **Positive offset = audio late**: at picture time ``t`` you hear what was said at
``t - k``, so the sound that matches frame ``t`` sits at audio frame ``t + k``.

The estimate is syncnet_python's: average the distances over the fragment (one noisy 0.2 s window
says little; a 4-second average is what makes SyncNet's offsets reliable), offset = the argmin of
that curve, confidence = median - min. A flat curve (a face that does not speak, unrelated
audio) has its minimum near its median, so a low confidence means "no sync evidence", whatever
the scale of the distances.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np

SEARCH_FRAMES = 15
NUM_OFFSETS = 2 * SEARCH_FRAMES + 1
FRAME_MS = 40  # one video frame at 25 fps

DistanceMetric = Literal["cosine", "euclidean"]


def offset_frames(search: int = SEARCH_FRAMES) -> np.ndarray:
    """The candidate offsets -search..+search (frames), in column order."""
    return np.arange(-search, search + 1)


def check_distances(distances: np.ndarray, name: str = "distances") -> np.ndarray:
    """``distances`` as float64 (T, 2S + 1) with an odd column count; raises ValueError if not."""
    array = np.asarray(distances, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] < 1 or array.shape[1] % 2 == 0:
        raise ValueError(
            f"{name}: need a (windows, 2 * search + 1) array with an odd column count, got shape "
            f"{np.shape(distances)}"
        )
    return array


def fragment_curve(distances: np.ndarray) -> np.ndarray:
    """Mean distance per offset over the rows that computed it (NaN where no row did)."""
    array = check_distances(distances)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
        return np.nanmean(array, axis=0)


@dataclass(frozen=True)
class OffsetEstimate:
    """``offset_frames`` at the curve's minimum; ``confidence`` = median - min of the curve."""

    offset_frames: int
    confidence: float
    curve: np.ndarray

    @property
    def offset_ms(self) -> int:
        return int(self.offset_frames * FRAME_MS)


def estimate_offset(distances: np.ndarray) -> OffsetEstimate:
    """syncnet_python's estimate from a (T, 2S + 1) distance matrix or an already averaged curve.

    Ties at the minimum go to the offset closest to zero (the smaller claim), so a flat curve
    says 0, not -S.
    """
    curve = fragment_curve(distances)
    valid = np.isfinite(curve)
    if not valid.any():
        raise ValueError("estimate_offset: every offset's distance is NaN (nothing was computed)")
    search = (len(curve) - 1) // 2
    offsets = offset_frames(search)
    lowest = np.nanmin(curve)
    candidates = offsets[valid & (curve == lowest)]
    best = int(candidates[np.argmin(np.abs(candidates))])
    confidence = float(np.nanmedian(curve) - lowest)
    return OffsetEstimate(offset_frames=best, confidence=confidence, curve=curve)


def embedding_distances(
    video: np.ndarray,
    audio: np.ndarray,
    context: int,
    search: int = SEARCH_FRAMES,
    metric: DistanceMetric = "cosine",
) -> np.ndarray:
    """Distances between per-frame video and audio embeddings at every offset, contract shape.

    ``video`` (T, D): embedding of the video window at frame ``t``; ``audio`` (T + 2C, D):
    embedding of the audio window at frame ``t' - C`` (``context`` = C frames of audio before
    the first and after the last video frame). Entry ``(t, k + S)`` compares ``video[t]`` with
    ``audio[t + k + C]``; pairs that fall outside the audio (``search > context``) are NaN.
    ``cosine``: 1 - cosine similarity (scale-free, in [0, 2]); ``euclidean``: syncnet_python's
    pairwise distance of the raw embeddings.
    """
    video = np.asarray(video, dtype=np.float64)
    audio = np.asarray(audio, dtype=np.float64)
    if video.ndim != 2 or audio.ndim != 2 or video.shape[1] != audio.shape[1]:
        raise ValueError(
            f"embedding_distances: need video (T, D) and audio (T + 2C, D), got {video.shape} "
            f"and {audio.shape}"
        )
    windows = video.shape[0]
    if audio.shape[0] != windows + 2 * context:
        raise ValueError(
            f"embedding_distances: audio has {audio.shape[0]} rows, expected T + 2C = "
            f"{windows} + 2 * {context} = {windows + 2 * context}"
        )
    if metric == "cosine":
        video = video / np.maximum(np.linalg.norm(video, axis=1, keepdims=True), 1e-12)
        audio = audio / np.maximum(np.linalg.norm(audio, axis=1, keepdims=True), 1e-12)
    elif metric != "euclidean":
        raise ValueError(f"embedding_distances: metric must be cosine or euclidean, got {metric!r}")
    out = np.full((windows, 2 * search + 1), np.nan)
    rows = np.arange(windows)
    for column, shift in enumerate(offset_frames(search)):
        index = rows + shift + context
        inside = (index >= 0) & (index < audio.shape[0])
        pairs_video, pairs_audio = video[inside], audio[index[inside]]
        if metric == "cosine":
            out[inside, column] = 1.0 - np.sum(pairs_video * pairs_audio, axis=1)
        else:
            out[inside, column] = np.linalg.norm(pairs_video - pairs_audio, axis=1)
    return out
