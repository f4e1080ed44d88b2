"""Non-learned lip-sync baseline: how far the mouth is open, cross-correlated with speech energy.

The classic signal-processing answer to "is this face speaking this audio, and with what lag":
a speaking mouth opens on voiced sounds, so a per-frame measure of mouth opening should follow
the loudness of the speech, and the lag at which they correlate best is the A/V offset.

**Mouth opening, measured from the crops themselves.** Lip landmarks are not available offline
here (MediaPipe's FaceMesh needs protobuf<5, which onnx and wandb here rule out; MTCNN gives the
two mouth corners only), so the opening is read from the 96x96 face crop of the ``lip_sync``
contract, in the central mouth region (rows 60-90, columns 25-70 with the default 0.15 margin:
below the nose, above the chin, between the mouth corners). Per frame, the region's grey levels
are compared with the track's own *brightest* (most-closed) state: the measure is the share of
pixels clearly darker than that pixel's 90th percentile over the track. An open mouth shows the
dark oral cavity where a closed one shows lips and skin, so the share grows with the opening;
comparing each pixel with its own closed-mouth level, rather than with a global threshold,
cancels skin tone, lighting and beards (which are dark whether the mouth is open or not). Plain
mean darkness was the first idea; it follows head nods and lighting drift as much as the mouth.

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
a chewing listener, and is fooled by head motion. Its figures on real clips are in
``benchmarks/lip_opening_baseline.py``.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.sync.offsets import SEARCH_FRAMES

SAMPLES_PER_FRAME = 640  # 16 kHz audio, 25 fps video
FACE_SIZE = 96
MOUTH_ROWS = (60, 90)
MOUTH_COLUMNS = (25, 70)
CLOSED_PERCENTILE = 90.0  # a pixel's brightness with the mouth closed, over the track
DARKER_BY = 0.06  # how much darker than closed (in [0, 1] grey) counts as "mouth interior"
ENERGY_FLOOR_DB = 50.0


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


def mouth_region(faces: np.ndarray) -> np.ndarray:
    """(N, 96, 96, 3) uint8 face crops -> (N, 30, 45) float grey mouth regions in [0, 1]."""
    faces = _check_faces(faces)
    (top, bottom), (left, right) = MOUTH_ROWS, MOUTH_COLUMNS
    region = np.ascontiguousarray(faces[:, top:bottom, left:right])
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in region]
    return np.stack(grey).astype(np.float64) / 255.0


def mouth_opening(faces: np.ndarray) -> np.ndarray:
    """Per-frame opening (N,): the share of mouth-region pixels clearly darker than their own
    closed-mouth (bright) level over the track."""
    region = mouth_region(faces)
    closed = np.percentile(region, CLOSED_PERCENTILE, axis=0, keepdims=True)
    return ((closed - region) > DARKER_BY).mean(axis=(1, 2))


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


def baseline_distances(
    faces: np.ndarray,
    audio: np.ndarray,
    context: int = SEARCH_FRAMES,
    search: int = SEARCH_FRAMES,
    difference: bool = True,
) -> np.ndarray:
    """A track's distance matrix in the ``training.sync`` contract shape.

    ``faces`` uint8 (N, 96, 96, 3) RGB face crops; ``audio`` float (N + 2C) * 640 samples at
    16 kHz (one ``lip_sync`` audio row, C = ``context`` frames before and after the track).
    -> (N, 2 * search + 1), or (N - 1, ...) rows with ``difference`` (changes between frames).
    """
    opening = mouth_opening(faces)
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
