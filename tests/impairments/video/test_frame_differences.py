"""The freeze detector's input features separate repeats from noise, pans and fades."""

from __future__ import annotations

import numpy as np
import pytest

from impairments.video.frame_differences import (
    STAT_NAMES,
    analysis_frames,
    clip_features,
    difference_stats,
)

COLUMN = {name: i for i, name in enumerate(STAT_NAMES)}


def scene(frames: int = 8, height: int = 120, width: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(height, width + frames * 3, 3), dtype=np.uint8)
    return np.stack([base[:, 3 * i : 3 * i + width] for i in range(frames)])  # a 3 px/frame pan


def test_shapes_dtypes_and_the_first_frame_copies_the_second() -> None:
    features = clip_features(scene())
    assert features["thumbs"].shape == (8, 96, 128) and features["thumbs"].dtype == np.uint8
    assert features["stats"].shape == (8, len(STAT_NAMES))
    assert features["stats"].dtype == np.float32
    np.testing.assert_array_equal(features["stats"][0], features["stats"][1])
    assert np.isfinite(features["stats"]).all()


def test_an_exact_repeat_is_all_zero_change_and_the_jump_after_it_shows_two_back() -> None:
    frames = scene()
    frames[4] = frames[3]
    stats = difference_stats(frames)
    assert stats[4, COLUMN["mean_abs"]] == 0.0 and stats[4, COLUMN["zero_share"]] == 1.0
    assert stats[5, COLUMN["mean_abs"]] > 10.0  # the picture moves on after the repeat
    assert stats[4, COLUMN["repeat_vs_2back"]] < -2  # nothing changed, but two back did


def test_sensor_noise_on_a_still_is_not_a_repeat() -> None:
    rng = np.random.default_rng(3)
    still = scene(frames=1)[0].astype(np.int16)
    noisy = np.stack(
        [np.clip(still + rng.normal(0, 1.0, still.shape), 0, 255) for _ in range(6)]
    ).astype(np.uint8)
    stats = difference_stats(noisy)
    assert (stats[1:, COLUMN["zero_share"]] < 0.7).all()
    assert (stats[1:, COLUMN["mean_abs"]] > 0.3).all()


def test_a_cross_fade_shows_as_brightness_change() -> None:
    dark, bright = np.full((1, 60, 80, 3), 40, np.uint8), np.full((1, 60, 80, 3), 200, np.uint8)
    weights = np.linspace(0, 1, 6)[:, None, None, None]
    fade = (dark * (1 - weights) + bright * weights).astype(np.uint8)
    stats = difference_stats(fade)
    assert (stats[1:, COLUMN["brightness_change"]] > 20).all()


def test_tall_sources_are_measured_at_720_lines() -> None:
    frames = np.zeros((2, 1080, 1920, 3), dtype=np.uint8)
    assert analysis_frames(frames).shape == (2, 720, 1280, 3)
    small = np.zeros((2, 288, 352, 3), dtype=np.uint8)
    assert analysis_frames(small) is small


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 3), np.uint8),
        np.zeros((0, 8, 8, 3), np.uint8),
        np.zeros((2, 8, 8, 3), np.float32),
    ],
)
def test_bad_frames_get_a_clear_error(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8 RGB frames"):
        clip_features(bad)
