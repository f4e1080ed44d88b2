"""Fixed-size lower-face crops of a track, and the audio samples under them.

The crop follows Wav2Lip's expert discriminator: the track's box made square (side = larger box
side, plus ``margin`` on each side as syncnet_python's 40% crop does more generously), resized to
``size`` x ``size`` and cut to its lower half, so a crop is (size/2, size, 3) **RGB** uint8 and
holds mouth and jaw, not the eyes that carry most identity. Parts of the square that leave the
frame are edge-replicated rather than black, so a face at the border does not get a hard edge
that moves with the box.

Audio: frame ``f`` of the fragment is heard in samples ``[f * 640, (f + 1) * 640)`` at 16 kHz, so
a track's audio is exactly the samples of its frames, ready for a 5-frame / 0.2 s pairing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from impairments.talking_face.fragments import SAMPLES_PER_FRAME, Fragment
from impairments.talking_face.tracks import Track

CROP_SIZE = 96
CROP_MARGIN = 0.1


@dataclass(frozen=True)
class TrackCrops:
    """``crops`` (N, size/2, size, 3) uint8 RGB of frames ``track.frames``; ``audio`` (N * 640,)."""

    track: Track
    crops: np.ndarray
    audio: np.ndarray
    squares: np.ndarray  # (N, 4) x0, y0, x1, y1 of the square each crop came from


def square_boxes(boxes: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    """Squares centred on ``boxes`` with side = larger box side * (1 + 2 * margin)."""
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    centre_y = (boxes[:, 1] + boxes[:, 3]) / 2
    half = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * (0.5 + margin)
    return np.stack([centre_x - half, centre_y - half, centre_x + half, centre_y + half], axis=1)


def crop_square(frame: np.ndarray, square: np.ndarray, size: int) -> np.ndarray:
    """``size`` x ``size`` resample of ``square`` (may leave the frame; edges replicate)."""
    x0, y0, x1 = (float(v) for v in square[:3])
    scale = size / max(x1 - x0, 1e-6)
    matrix = np.array([[scale, 0.0, -x0 * scale], [0.0, scale, -y0 * scale]], dtype=np.float64)
    return cv2.warpAffine(
        frame, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )


def face_crops(
    fragment: Fragment, track: Track, size: int = CROP_SIZE, margin: float = CROP_MARGIN
) -> tuple[np.ndarray, np.ndarray]:
    """Whole-face crops (N, size, size, 3) uint8 RGB of ``track`` and the squares they came from.

    The lip-sync dataset stores these (a model can still take the lower half, rows
    ``size // 2:``, and the eyes are there for one that wants them).
    """
    if size < 2 or size % 2:
        raise ValueError(f"crop size must be even and >= 2, got {size}")
    squares = square_boxes(track.boxes, margin)
    crops = np.stack(
        [
            crop_square(fragment.frames[frame], square, size)
            for frame, square in zip(track.frames, squares, strict=True)
        ]
    )
    return crops, squares


def crop_track(
    fragment: Fragment, track: Track, size: int = CROP_SIZE, margin: float = CROP_MARGIN
) -> TrackCrops:
    """Lower-face crops of ``track`` in ``fragment`` and the audio of the same frames."""
    faces, squares = face_crops(fragment, track, size, margin)
    crops = np.ascontiguousarray(faces[:, size // 2 :])
    audio = fragment.audio[track.first * SAMPLES_PER_FRAME : (track.last + 1) * SAMPLES_PER_FRAME]
    return TrackCrops(track, crops, audio.copy(), squares)
