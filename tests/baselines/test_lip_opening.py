"""The lip-opening baseline's landmark measure: lag recovery, missing frames, scale, bad input.

Lip tracks are drawn as two ellipses (outer and inner lip contour, FaceMesh's point order) whose
inner gap follows a syllable envelope; the audio is noise under the same envelope, shifted by a
known lag. One test runs the real FaceMesh on skimage's astronaut photo to pin the point indices.
"""

from __future__ import annotations

import numpy as np
import pytest

from impairments.talking_face.landmarks import LIP_POINTS
from training.baselines.lip_opening import (
    INNER_PAIRS,
    MIN_FOUND_SHARE,
    baseline_distances,
    landmark_opening,
    mouth_opening,
    opening_distances,
)
from training.sync.offsets import estimate_offset

C = 15
FRAMES = 100
LEAD_IN = 20  # frames of envelope before the audio row starts, room for any lag up to C


def _envelope(rng: np.random.Generator, total: int) -> np.ndarray:
    """Syllable-like on/off loudness in [0, 1], smoothed over 3 frames."""
    return np.clip(np.convolve(rng.random(total) > 0.6, np.ones(3) / 3, "same"), 0, 1)


def _lip_contour(gap: float, centre: tuple[float, float], half_width: float) -> np.ndarray:
    """(40, 2) points: outer then inner contour, each from one corner over the upper lip
    (image y up = smaller) and back under the lower lip, as ``LIP_POINTS`` orders them."""
    angles = np.pi * np.arange(20) / 10
    outer = np.stack(
        [centre[0] + half_width * np.cos(angles), centre[1] - (gap / 2 + 4) * np.sin(angles)], 1
    )
    inner = np.stack(
        [centre[0] + 0.8 * half_width * np.cos(angles), centre[1] - gap / 2 * np.sin(angles)], 1
    )
    return np.concatenate([outer, inner]).astype(np.float32)


def _speaking_lips(
    late: int, seed: int = 3, zoom: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lip points opening with an envelope, the audio row late by ``late`` frames, the faces."""
    rng = np.random.default_rng(seed)
    total = FRAMES + 2 * C + 2 * LEAD_IN
    envelope = _envelope(rng, total)
    gaps = 1.0 + 10.0 * envelope[C + LEAD_IN : C + LEAD_IN + FRAMES]
    lips = np.stack([_lip_contour(g, (48.0, 72.0), 18.0) for g in gaps]) * zoom
    noise = rng.normal(size=total * 640) * np.repeat(envelope, 640)
    start = (LEAD_IN - late) * 640  # audio row frame j is heard at picture frame j - C
    audio = noise[start : start + (FRAMES + 2 * C) * 640]
    faces = np.zeros((FRAMES, 96, 96, 3), np.uint8)  # unused by the landmark measure with lips
    return lips, audio, faces


@pytest.mark.parametrize("late", [-11, -3, 0, 5, 13])
def test_landmark_baseline_finds_the_lag_with_its_sign(late: int) -> None:
    lips, audio, faces = _speaking_lips(late)
    estimate = estimate_offset(baseline_distances(faces, audio, C, lips=lips))
    assert estimate.offset_frames == late
    assert estimate.confidence > 0.3


def test_opening_is_the_inner_gap_over_the_mouth_width() -> None:
    """A mouth 36 px wide with a 9 px inner gap at the middle: the pairs beside the middle sit
    18 degrees round the ellipse, 9 * sin(72 deg) apart, straight above each other."""
    lips = np.stack([_lip_contour(9.0, (48.0, 72.0), 18.0)] * 5)
    expected = 9.0 * (1.0 + 2.0 * np.sin(np.radians(72.0))) / 3.0 / 36.0
    assert landmark_opening(lips) == pytest.approx(np.full(5, expected), rel=1e-5)


def test_opening_ignores_the_face_size_in_the_crop() -> None:
    lips, _, _ = _speaking_lips(0)
    assert landmark_opening(lips * 1.7) == pytest.approx(landmark_opening(lips), rel=1e-5)


def test_missing_frames_are_interpolated_and_the_lag_survives() -> None:
    lips, audio, faces = _speaking_lips(7)
    missing = [0, 1, 10, 30, 31, 32, 50, 64, 77, 98, 99]
    holed = lips.copy()
    holed[missing] = np.nan
    opening, full = landmark_opening(holed), landmark_opening(lips)
    kept = np.setdiff1d(np.arange(FRAMES), missing)
    assert opening[kept] == pytest.approx(full[kept], rel=1e-5)
    assert opening[[0, 1]] == pytest.approx([full[2]] * 2, rel=1e-5)  # ends held
    assert opening[[98, 99]] == pytest.approx([full[97]] * 2, rel=1e-5)
    assert opening[10] == pytest.approx((full[9] + full[11]) / 2, rel=1e-5)
    assert opening[30:33] == pytest.approx(np.linspace(full[29], full[33], 5)[1:4], rel=1e-5)
    assert estimate_offset(baseline_distances(faces, audio, C, lips=holed)).offset_frames == 7


def test_mostly_missing_track_gives_no_evidence() -> None:
    """Under ``MIN_FOUND_SHARE`` of frames found, the opening is flat: a zero-confidence curve
    (inconclusive), never an offset read off a few interpolated frames."""
    lips, audio, faces = _speaking_lips(4)
    lips[: int(FRAMES * (1 - MIN_FOUND_SHARE)) + 1] = np.nan
    assert not landmark_opening(lips).any()
    estimate = estimate_offset(baseline_distances(faces, audio, C, lips=lips))
    assert estimate.confidence == 0.0
    lips[:] = np.nan
    assert estimate_offset(baseline_distances(faces, audio, C, lips=lips)).confidence == 0.0


def test_opening_is_measured_once_for_many_audio_rows() -> None:
    lips, audio, faces = _speaking_lips(-6)
    opening = mouth_opening(faces, lips=lips)
    assert np.array_equal(
        opening_distances(opening, audio, C), baseline_distances(faces, audio, C, lips=lips)
    )


@pytest.mark.parametrize(
    ("lips", "message"),
    [
        (np.zeros((FRAMES, 20, 2), np.float32), r"lips must be \(N, 40, 2\)"),
        (np.zeros((FRAMES, 40), np.float32), r"lips must be \(N, 40, 2\)"),
        (np.zeros((FRAMES, 40, 2), np.int32), "lips must be float"),
        (np.zeros((FRAMES - 1, 40, 2), np.float32), "lips hold 99 frames for 100 faces"),
    ],
)
def test_bad_lips_are_named(lips: np.ndarray, message: str) -> None:
    _, audio, faces = _speaking_lips(0)
    with pytest.raises(ValueError, match=message):
        baseline_distances(faces, audio, C, lips=lips)


def test_bad_measure_and_short_tracks_are_named() -> None:
    lips, audio, faces = _speaking_lips(0)
    with pytest.raises(ValueError, match="measure must be one of"):
        baseline_distances(faces, audio, C, measure="mesh", lips=lips)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 3 frames"):
        landmark_opening(lips[:2])
    with pytest.raises(ValueError, match="audio holds"):
        baseline_distances(faces, audio[: -640 * 4], C, lips=lips)


def test_inner_pairs_face_each_other_on_a_real_face() -> None:
    """FaceMesh on a real 96x96 face crop: each pair is an upper inner-lip point above its lower
    partner, nearly straight down, and the opening is a plausible share of the mouth width."""
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data")
    from impairments.talking_face.landmarks import LandmarksUnavailable, lip_landmarks

    photo = data.astronaut()[20:240, 120:340]  # her face, square
    crop = cv2.resize(np.ascontiguousarray(photo), (96, 96), interpolation=cv2.INTER_AREA)
    try:
        lips = lip_landmarks(np.stack([crop] * 3))
    except LandmarksUnavailable as error:
        pytest.skip(str(error))
    assert lips.shape == (3, len(LIP_POINTS), 2) and np.isfinite(lips).all()
    for upper, lower in INNER_PAIRS:
        down = lips[0, lower] - lips[0, upper]
        assert down[1] > 0 and abs(down[0]) < down[1]
    assert 0.02 < landmark_opening(lips)[0] < 0.5
    assert np.allclose(mouth_opening(np.stack([crop] * 3)), landmark_opening(lips), atol=1e-3)
