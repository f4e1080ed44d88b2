"""What the lip-sync network sees: normalised mouth crops and per-video-frame log-mel audio.

Both streams are computed the same way in training, evaluation and ``detect.py`` (numpy, no
torch), so an exported network needs nothing but these two arrays.

- **Mouth**: the lower half of the 96x96 square face crop (Wav2Lip's expert discriminator looks
  at the same region), grey, downscaled to 32x64. From each pixel its mean over the whole track
  is subtracted and the result divided by the track's overall spread: what is left is how the
  mouth *moves*, not what the face looks like. Speakers are few here (a catalogue user's are
  too), and pixels carry identity; a network that sees only deviations from the track's own
  average face has much less identity to memorise.
- **Audio**: 40 log-mel bands from 25 ms Hann windows every 10 ms at 16 kHz, so 4 mel frames per
  25 fps video frame (mel frame ``4t .. 4t + 3`` is heard during video frame ``t``). Each band is
  normalised by its mean and spread over the fragment (cepstral mean normalisation), so level,
  microphone colour and room do not matter; only how the spectrum changes does.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from impairments.talking_face.landmarks import LIP_POINTS, MOUTH_CORNERS, lip_landmarks
from training.features.logmel import mel_filterbank

FPS = 25
SAMPLE_RATE = 16_000
SAMPLES_PER_FRAME = SAMPLE_RATE // FPS  # 640
MEL_HOP = 160  # 10 ms
MEL_PER_FRAME = SAMPLES_PER_FRAME // MEL_HOP  # 4
MEL_WINDOW = 400  # 25 ms
N_FFT = 512
N_MELS = 40
MOUTH_SIZE = (32, 64)  # height, width of the network's mouth input
FACE_SIZE = 96


@functools.lru_cache(maxsize=1)
def _mel_matrix() -> np.ndarray:
    return mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS, 50.0, 7600.0)


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hanning(MEL_WINDOW + 2)[1:-1].astype(np.float32)


def audio_logmel(audio: np.ndarray) -> np.ndarray:
    """``audio`` float (frames * 640,) in [-1, 1] -> (40, frames * 4) normalised log-mel.

    Frame ``j`` covers samples ``[j * 160 - 120, j * 160 + 280)`` (centred on the middle of its
    10 ms hop); the signal is zero-padded at both ends, so the count is exactly ``len / 160``.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1 or len(audio) % SAMPLES_PER_FRAME:
        raise ValueError(f"audio must be 1-D with a multiple of {SAMPLES_PER_FRAME} samples")
    count = len(audio) // MEL_HOP
    pad_left = (MEL_WINDOW - MEL_HOP) // 2
    padded = np.pad(audio, (pad_left, MEL_WINDOW - MEL_HOP - pad_left))
    frames = np.lib.stride_tricks.sliding_window_view(padded, MEL_WINDOW)[::MEL_HOP][:count]
    spectrum = np.fft.rfft(frames * _window(), n=N_FFT, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    # einsum, not ``@``: a 40x257 product is far too small for BLAS, whose threads (one per core,
    # in every data-loader worker) made it 100x slower than this on a busy machine.
    mel = np.log(np.einsum("mb,tb->mt", _mel_matrix(), power.astype(np.float32)) + 1e-6)
    return normalise_rows(mel)


def normalise_rows(features: np.ndarray) -> np.ndarray:
    """Zero mean and unit spread per row (band) over time; a silent row stays zero."""
    mean = features.mean(axis=1, keepdims=True)
    spread = features.std(axis=1, keepdims=True)
    return ((features - mean) / np.maximum(spread, 1e-3)).astype(np.float32)


def mouth_regions(faces: np.ndarray) -> np.ndarray:
    """(N, 96, 96, 3) uint8 RGB face crops -> (N, 32, 64) float32 grey lower halves in [0, 1]."""
    if faces.ndim != 4 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE, 3):
        raise ValueError(f"faces must be (N, {FACE_SIZE}, {FACE_SIZE}, 3), got {faces.shape}")
    height, width = MOUTH_SIZE
    lower = faces[:, FACE_SIZE // 2 :]
    grey = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in lower]
    small = [cv2.resize(g, (width, height), interpolation=cv2.INTER_AREA) for g in grey]
    return np.stack(small).astype(np.float32) / 255.0 if small else np.zeros((0, height, width))


MOTION_FLOOR = 0.01  # grey levels / 255: below this spread a track is treated as still


def mouth_motion(mouths: np.ndarray) -> np.ndarray:
    """(N, h, w) grey mouths -> (N, h, w) deviations from the track's mean face, unit spread.

    The spread is floored at ``MOTION_FLOOR`` (talking tracks measure 0.02-0.1 here): a still
    photo's sensor noise and codec flicker must stay small, not be blown up to look like speech.
    """
    deviation = mouths - mouths.mean(axis=0, keepdims=True)
    return (deviation / max(float(deviation.std()), MOTION_FLOOR)).astype(np.float32)


# -- lip landmarks (the identity-poor visual stream) -----------------------------------------------

VISUAL_KINDS = ("pixels", "landmarks")
LIP_FEATURES = 2 * len(LIP_POINTS)  # 80: x and y of the 40 lip points
LIP_SCALE = 10.0  # deviations are fractions of the mouth width (~0.01-0.2): brought near unit size


def fill_missing(values: np.ndarray) -> np.ndarray:
    """(N, ...) per-frame values (lip points, a 1-D signal) with NaN frames -> linearly
    interpolated over time (ends held), same dtype; with no frame found it comes back unchanged
    (all NaN)."""
    flat = values.reshape(len(values), -1)
    found = ~np.isnan(flat).any(axis=1)
    if found.all() or not found.any():
        return values
    frames = np.arange(len(values))
    filled = np.stack(
        [np.interp(frames, frames[found], flat[found, c]) for c in range(flat.shape[1])], axis=1
    )
    return filled.reshape(values.shape).astype(values.dtype)


def lip_shape_input(lips: np.ndarray) -> np.ndarray:
    """(N, 40, 2) lip points (crop pixels, NaN = not found) -> (N, 80) lip motion features.

    Per frame the contour is centred on its mean and turned so the mouth corners lie level (head
    roll is not speech); the whole track is scaled by its median mouth width (distance to the
    camera, crop size and mouth size are not speech either); then the track's mean shape is
    subtracted, so what is left is how this mouth moves, not what it looks like. A track where
    FaceMesh never found the face gives zeros: no evidence.
    """
    lips = np.asarray(lips, dtype=np.float32)
    if lips.ndim != 3 or lips.shape[1:] != (len(LIP_POINTS), 2):
        raise ValueError(f"lips must be (N, {len(LIP_POINTS)}, 2), got {lips.shape}")
    lips = fill_missing(lips)
    if len(lips) == 0 or np.isnan(lips).any():
        return np.zeros((len(lips), LIP_FEATURES), dtype=np.float32)
    corners = lips[:, MOUTH_CORNERS[1]] - lips[:, MOUTH_CORNERS[0]]
    angle = np.arctan2(corners[:, 1], corners[:, 0])
    cos, sin = np.cos(-angle)[:, None], np.sin(-angle)[:, None]
    centred = lips - lips.mean(axis=1, keepdims=True)
    x, y = centred[..., 0], centred[..., 1]
    level = np.stack([x * cos - y * sin, x * sin + y * cos], axis=-1)
    width = max(float(np.median(np.hypot(corners[:, 0], corners[:, 1]))), 1.0)
    shape = level / width
    deviation = (shape - shape.mean(axis=0, keepdims=True)) * LIP_SCALE
    return deviation.reshape(len(lips), LIP_FEATURES).astype(np.float32)


def visual_input(
    faces: np.ndarray, kind: str = "pixels", lips: np.ndarray | None = None
) -> np.ndarray:
    """Face crops of one track -> the network's visual input: ``pixels`` (N, 32, 64) mouth
    motion, or ``landmarks`` (N, 80) lip motion from ``lips`` (FaceMesh run on ``faces`` when
    the sample does not carry them)."""
    if check_visual_kind(kind) == "pixels":
        return mouth_motion(mouth_regions(faces))
    return lip_shape_input(lip_landmarks(faces) if lips is None else lips)


def check_visual_kind(kind: str) -> str:
    """``kind`` if it names a visual input (``VISUAL_KINDS``), else a ValueError naming them."""
    if kind not in VISUAL_KINDS:
        raise ValueError(f"visual input kind must be one of {VISUAL_KINDS}, got {kind!r}")
    return kind
