"""Non-learned lip-sync baseline: how far the mouth is open, cross-correlated with speech energy.

The classic signal-processing answer to "is this face speaking this audio, and with what lag":
a speaking mouth opens on voiced sounds, so a per-frame measure of mouth opening should follow
the loudness of the speech, and the lag at which they correlate best is the A/V offset.

**Mouth opening from lip landmarks** (``measure="landmarks"``, the default). FaceMesh's 40 lip
points per 96x96 crop (``impairments.talking_face.landmarks``; a ``lip_sync`` build with
``landmarks: true`` stores them as ``lips.npy``, otherwise they are computed here, ~5 ms a
frame). Per frame the opening is the gap between the inner lips at their middle and at the two
inner pairs either side of it (three pairs averaged: one pair alone jitters by a pixel, which is
a large share of a closed mouth's gap), divided by the track's *median* mouth width (corner to
corner): the gap in crop pixels also grows with the face's size in the crop and the speaker's
mouth, which are not speech, and the median over the track does not follow the width's own
small changes as the lips round and spread. Frames where FaceMesh found no face are interpolated
from their neighbours; a track where it found the face in under half the frames carries no
usable opening and gives a flat signal, i.e. no evidence (confidence 0) rather than a guess.

**Mouth opening from pixels** (``measure="pixels"``, kept for comparison and for crops FaceMesh
cannot read): the central mouth region of the crop (rows 60-90, columns 25-70 with the default
0.15 margin: below the nose, above the chin, between the mouth corners); per frame, the share of
its pixels clearly darker than that pixel's own 90th percentile over the track (its closed-mouth,
bright level). An open mouth shows the dark oral cavity where a closed one shows lips and skin;
comparing each pixel with its own closed level cancels skin tone, lighting and beards. It also
follows head nods, teeth and tongue, which the landmark measure does not see.

**Speech energy**: log RMS per 40 ms video frame (floored 50 dB below the row's loudest frame so
silence does not dominate the correlation with digital -inf).

**Both signals are differenced** (frame-to-frame change): the *level* of either drifts slowly
(head pose, loudness of a sentence), and slow drifts correlate at every lag, which flattens the
curve; changes (mouth opening on an onset, closing on a pause) are what pins the lag.

**Distances** follow the contract: entry ``(t, j)`` is ``-z_v[t] * z_a[t + k + C]`` for offset
``k = j - 15``, where ``z_v`` is the standardised opening signal and ``z_a`` the audio envelope
standardised over the same N frames at that lag; averaged over the rows this is exactly minus
the Pearson correlation at lag k, so ``training.sync`` turns it into an offset (the argmin) and
a confidence (median - min) like any SyncNet's distances.

It is a baseline: it knows nothing of *which* sounds open the mouth, cannot tell a speaker from
a chewing listener, and the loudness of speech follows the opening only loosely (a closed-mouth
/m/ is loud, an open pause is silent). Its figures on real clips are in
``benchmarks/lip_opening_baseline.py``.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from impairments.talking_face.landmarks import (
    INNER_MIDDLE,
    LIP_POINTS,
    MOUTH_CORNERS,
    lip_landmarks,
)
from training.features.sync_inputs import fill_missing
from training.sync.offsets import SEARCH_FRAMES

Measure = Literal["landmarks", "pixels"]
MEASURES: tuple[Measure, ...] = ("landmarks", "pixels")

SAMPLES_PER_FRAME = 640  # 16 kHz audio, 25 fps video
FACE_SIZE = 96
ENERGY_FLOOR_DB = 50.0

# Landmark measure. Each inner contour runs corner -> over the lip -> corner, so the point facing
# upper-lip position u on the lower lip is at lower - (u - upper): (82, 87), (13, 14), (312, 317).
INNER_PAIRS = tuple((INNER_MIDDLE[0] + d, INNER_MIDDLE[1] - d) for d in (-1, 0, 1))
MIN_FOUND_SHARE = 0.5  # below this share of frames with landmarks, a track gives no evidence
MIN_MOUTH_WIDTH = 1.0  # pixels; guards the division on a degenerate (collapsed) contour

# Pixel measure.
MOUTH_ROWS = (60, 90)
MOUTH_COLUMNS = (25, 70)
CLOSED_PERCENTILE = 90.0  # a pixel's brightness with the mouth closed, over the track
DARKER_BY = 0.06  # how much darker than closed (in [0, 1] grey) counts as "mouth interior"


def _check_faces(faces: np.ndarray) -> np.ndarray:
    faces = np.asarray(faces)
    if faces.ndim != 4 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE, 3) or faces.dtype != np.uint8:
        raise ValueError(
            f"lip_opening: faces must be uint8 (N, {FACE_SIZE}, {FACE_SIZE}, 3) RGB crops, got "
            f"{faces.dtype} {faces.shape}"
        )
    if len(faces) < 3:
        raise ValueError(f"lip_opening: need at least 3 frames to measure motion, got {len(faces)}")
    return faces


def _check_lips(lips: np.ndarray) -> np.ndarray:
    lips = np.asarray(lips)
    if lips.ndim != 3 or lips.shape[1:] != (len(LIP_POINTS), 2):
        raise ValueError(
            f"lip_opening: lips must be (N, {len(LIP_POINTS)}, 2) FaceMesh lip points "
            f"(impairments.talking_face.landmarks.lip_landmarks), got shape {lips.shape}"
        )
    if not np.issubdtype(lips.dtype, np.floating):
        raise ValueError(f"lip_opening: lips must be float (NaN = no face), got {lips.dtype}")
    if len(lips) < 3:
        raise ValueError(f"lip_opening: need at least 3 frames to measure motion, got {len(lips)}")
    return lips.astype(np.float64)


def landmark_opening(lips: np.ndarray) -> np.ndarray:
    """(N, 40, 2) lip points in crop pixels (NaN frames = no face) -> (N,) inner-lip gap as a
    fraction of the track's median mouth width; zeros (no evidence) when under
    ``MIN_FOUND_SHARE`` of the frames have points."""
    lips = _check_lips(lips)
    upper = lips[:, [u for u, _ in INNER_PAIRS]]
    lower = lips[:, [v for _, v in INNER_PAIRS]]
    gap = np.linalg.norm(upper - lower, axis=-1).mean(axis=1)
    width = np.linalg.norm(lips[:, MOUTH_CORNERS[1]] - lips[:, MOUTH_CORNERS[0]], axis=-1)
    found = np.isfinite(gap) & np.isfinite(width)
    if found.mean() < MIN_FOUND_SHARE:
        return np.zeros(len(lips))
    gap[~found] = np.nan
    return fill_missing(gap) / max(float(np.median(width[found])), MIN_MOUTH_WIDTH)


def mouth_region(faces: np.ndarray) -> np.ndarray:
    """(N, 96, 96, 3) uint8 face crops -> (N, 30, 45) float grey mouth regions in [0, 1]."""
    faces = _check_faces(faces)
    (top, bottom), (left, right) = MOUTH_ROWS, MOUTH_COLUMNS
    region = np.ascontiguousarray(faces[:, top:bottom, left:right])
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in region]
    return np.stack(grey).astype(np.float64) / 255.0


def pixel_opening(faces: np.ndarray) -> np.ndarray:
    """Per-frame opening (N,): the share of mouth-region pixels clearly darker than their own
    closed-mouth (bright) level over the track."""
    region = mouth_region(faces)
    closed = np.percentile(region, CLOSED_PERCENTILE, axis=0, keepdims=True)
    return ((closed - region) > DARKER_BY).mean(axis=(1, 2))


def mouth_opening(
    faces: np.ndarray, measure: Measure = "landmarks", lips: np.ndarray | None = None
) -> np.ndarray:
    """(N,) per-frame mouth opening of one track by ``measure``.

    ``lips`` (N, 40, 2): the track's stored lip points (a shard's ``lips.npy``); without them the
    landmark measure runs FaceMesh on ``faces``. The pixel measure ignores them.
    """
    faces = _check_faces(faces)
    if measure == "pixels":
        return pixel_opening(faces)
    if measure != "landmarks":
        raise ValueError(f"lip_opening: measure must be one of {MEASURES}, got {measure!r}")
    if lips is None:
        lips = lip_landmarks(faces)
    elif len(lips) != len(faces):
        raise ValueError(
            f"lip_opening: lips hold {len(lips)} frames for {len(faces)} faces (a lips.npy from "
            "another track, or cut differently)"
        )
    return landmark_opening(lips)


def speech_energy(audio: np.ndarray) -> np.ndarray:
    """Log RMS (dB) per 640-sample (40 ms) frame, floored ``ENERGY_FLOOR_DB`` below the peak."""
    audio = np.asarray(audio, dtype=np.float64)
    if audio.ndim != 1 or len(audio) % SAMPLES_PER_FRAME:
        raise ValueError(
            f"lip_opening: audio must be 1-D with a multiple of {SAMPLES_PER_FRAME} samples, "
            f"got shape {audio.shape}"
        )
    frames = audio.reshape(-1, SAMPLES_PER_FRAME)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    return np.maximum(level, level.max() - ENERGY_FLOOR_DB)


def _standardise(signal: np.ndarray) -> np.ndarray:
    spread = signal.std()
    return (signal - signal.mean()) / spread if spread > 1e-12 else np.zeros_like(signal)


def correlation_distances(
    opening: np.ndarray, energy: np.ndarray, context: int, search: int = SEARCH_FRAMES
) -> np.ndarray:
    """(N, 2S + 1) distances ``-z_v[t] * z_a[t + k + C]`` (row mean = -Pearson r at lag k).

    ``opening`` (N,) per video frame; ``energy`` (N + 2C,) per audio frame with C frames of
    context either side. Columns whose lag leaves the audio are NaN.
    """
    opening = np.asarray(opening, dtype=np.float64)
    energy = np.asarray(energy, dtype=np.float64)
    frames = len(opening)
    if len(energy) != frames + 2 * context:
        raise ValueError(
            f"lip_opening: energy has {len(energy)} frames, expected N + 2C = {frames} + 2 * "
            f"{context}"
        )
    video = _standardise(opening)
    out = np.full((frames, 2 * search + 1), np.nan)
    for column, shift in enumerate(range(-search, search + 1)):
        start = context + shift
        if start < 0 or start + frames > len(energy):
            continue
        out[:, column] = -video * _standardise(energy[start : start + frames])
    return out


def opening_distances(
    opening: np.ndarray,
    audio: np.ndarray,
    context: int = SEARCH_FRAMES,
    search: int = SEARCH_FRAMES,
    difference: bool = True,
) -> np.ndarray:
    """A measured opening (N,) against one audio row -> the track's distance matrix.

    Split from :func:`baseline_distances` so a caller scoring many audio rows of one track (every
    offset variant of a shard sample) measures the opening, and runs FaceMesh, once.
    """
    opening = np.asarray(opening, dtype=np.float64)
    energy = speech_energy(audio)
    if len(energy) != len(opening) + 2 * context:
        raise ValueError(
            f"lip_opening: audio holds {len(energy)} frames, expected (N + 2C) = "
            f"{len(opening)} + 2 * {context} for {len(opening)} faces"
        )
    if difference:
        opening, energy = np.diff(opening), np.diff(energy)
        # diff keeps alignment: both entries t describe the change from frame t to t + 1.
    return correlation_distances(opening, energy, context, search)


def baseline_distances(
    faces: np.ndarray,
    audio: np.ndarray,
    context: int = SEARCH_FRAMES,
    search: int = SEARCH_FRAMES,
    difference: bool = True,
    measure: Measure = "landmarks",
    lips: np.ndarray | None = None,
) -> np.ndarray:
    """A track's distance matrix in the ``training.sync`` contract shape.

    ``faces`` uint8 (N, 96, 96, 3) RGB face crops; ``audio`` float (N + 2C) * 640 samples at
    16 kHz (one ``lip_sync`` audio row, C = ``context`` frames before and after the track);
    ``lips`` optional (N, 40, 2) stored lip points for the landmark ``measure``.
    -> (N, 2 * search + 1), or (N - 1, ...) rows with ``difference`` (changes between frames).
    """
    opening = mouth_opening(faces, measure, lips)
    return opening_distances(opening, audio, context, search, difference)
