"""FaceMesh lip landmarks on a real face (scikit-image's astronaut), as the lip-sync pipeline
runs them on 96x96 crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from impairments.talking_face.landmarks import (
    INNER_MIDDLE,
    LIP_POINTS,
    MIRRORED,
    MOUTH_CORNERS,
    lip_landmarks,
)

FACE_BOX = (150, 40, 290, 200)  # x0, y0, x1, y1 of the astronaut's face in the 512x512 photo


@pytest.fixture(scope="module")
def crops() -> np.ndarray:
    """Three 96x96 crops of the face: as is, 4 px lower, and mirrored."""
    x0, y0, x1, y1 = FACE_BOX
    photo = skimage.data.astronaut()
    base = cv2.resize(photo[y0:y1, x0:x1], (96, 96), interpolation=cv2.INTER_AREA)
    lower = np.roll(base, 4, axis=0)
    return np.stack([base, lower, base[:, ::-1]]).copy()


def test_lip_points_lie_on_the_mouth(crops: np.ndarray) -> None:
    lips = lip_landmarks(crops[:1])
    assert lips.shape == (1, len(LIP_POINTS), 2) and np.isfinite(lips).all()
    left, right = lips[0, MOUTH_CORNERS[0]], lips[0, MOUTH_CORNERS[1]]
    assert 12 < abs(right[0] - left[0]) < 50  # a mouth, not a point or the whole face
    assert lips[0, :, 1].mean() > 55  # in the lower part of the face crop
    upper, lower = lips[0, INNER_MIDDLE[0]], lips[0, INNER_MIDDLE[1]]
    assert upper[1] <= lower[1] + 0.5  # the upper inner lip is not below the lower one


def test_landmarks_follow_the_face_and_its_mirror_image(crops: np.ndarray) -> None:
    lips = lip_landmarks(crops)
    moved = lips[1] - lips[0]
    assert np.allclose(np.median(moved, axis=0), [0.0, 4.0], atol=1.0)
    mirrored = lips[0][list(MIRRORED)].copy()
    mirrored[:, 0] = 96 - mirrored[:, 0]
    assert np.median(np.abs(lips[2] - mirrored)) < 1.5


def test_landmarks_are_deterministic_and_nan_without_a_face(crops: np.ndarray) -> None:
    assert np.array_equal(lip_landmarks(crops[:1]), lip_landmarks(crops[:1]))
    blank = np.full((2, 96, 96, 3), 128, dtype=np.uint8)
    assert np.isnan(lip_landmarks(blank)).all()
    with pytest.raises(ValueError, match="RGB"):
        lip_landmarks(np.zeros((2, 96, 96), dtype=np.uint8))
