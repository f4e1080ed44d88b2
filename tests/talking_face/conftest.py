"""Synthetic talking-face material: a real photo (scikit-image's astronaut, a face MTCNN finds)
moving and growing across frames, then a hard cut to the mirrored photo at another scale."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

SIDE = 256  # frame size: small enough for fast detection, faces ~45 px
SHOT_FRAMES = 25


def _place(photo: np.ndarray, scale: float, shift_x: int) -> np.ndarray:
    """``photo`` scaled about its centre and shifted right by ``shift_x`` px, on a SIDE canvas."""
    matrix = cv2.getRotationMatrix2D((SIDE / 2, SIDE / 2), 0.0, scale)
    matrix[0, 2] += shift_x
    return cv2.warpAffine(photo, matrix, (SIDE, SIDE), borderMode=cv2.BORDER_REFLECT)


@pytest.fixture(scope="session")
def cut_frames() -> np.ndarray:
    """(50, 256, 256, 3): shot 0 = astronaut drifting right 2 px/frame and growing; shot 1 (from
    frame 25) = the mirrored astronaut, zoomed, drifting left."""
    photo = cv2.resize(skimage.data.astronaut(), (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    first = [_place(photo, 1.0 + 0.004 * i, 2 * i) for i in range(SHOT_FRAMES)]
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    second = [_place(mirrored, 1.4, -2 * i) for i in range(SHOT_FRAMES)]
    return np.stack(first + second)


@pytest.fixture(scope="session")
def cut_video(tmp_path_factory: pytest.TempPathFactory, cut_frames: np.ndarray) -> Path:
    """``cut_frames`` at 25 fps with a 440 Hz tone as audio (AAC, 16 kHz)."""
    from impairments import media_io

    path = tmp_path_factory.mktemp("talking_face") / "cut.mp4"
    seconds = len(cut_frames) / 25
    time = np.arange(int(seconds * 16000)) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)[None]
    return media_io.write_video(path, cut_frames, 25, audio, 16000)
