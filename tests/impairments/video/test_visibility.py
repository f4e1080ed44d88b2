"""Visible codec damage: seams and contrast changes count, look-alike texture and drift do not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from impairments.video.base import macroblock_mean_abs_diff
from impairments.video.codec_corruption import DAMAGED_BLOCK_DIFF
from impairments.video.visibility import (
    block_contrast,
    border_jumps,
    texture_activity,
    visible_damage,
)


def noise_texture(seed: int, height: int = 64, width: int = 96, sigma: float = 1.0) -> np.ndarray:
    """Fine mid-grey noise: high activity, so it masks small seams."""
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), sigma)[None]


def smooth_gradient(height: int = 64, width: int = 96, offset: float = 0.0) -> np.ndarray:
    ramp = np.linspace(40, 200, width, dtype=np.float32)[None, :] + offset
    frame = np.repeat(np.clip(ramp, 0, 255)[:, :, None], 3, axis=2).repeat(height, axis=0)
    return frame.astype(np.uint8)[None]


def everything_differs(frames: np.ndarray) -> np.ndarray:
    _, height, width = frames.shape[:3]
    return np.ones((1, -(-height // 16), -(-width // 16)), dtype=bool)


def differing(clean: np.ndarray, damaged: np.ndarray) -> np.ndarray:
    """The blocks the codec label starts from: those that differ from the clean decode."""
    return macroblock_mean_abs_diff(clean, damaged) >= DAMAGED_BLOCK_DIFF


def test_look_alike_texture_is_not_visible() -> None:
    clean, concealed = noise_texture(0), noise_texture(1)  # same statistics, other pixels
    visible = visible_damage(clean, concealed, everything_differs(clean))
    assert visible.mean() < 0.1


def test_a_flat_block_inside_texture_is_visible_and_alone() -> None:
    clean = noise_texture(0)
    damaged = clean.copy()
    damaged[0, 16:32, 32:48] = 128
    visible = visible_damage(clean, damaged, everything_differs(clean))
    assert visible[0, 1, 2]
    # Even if its neighbours differed, their texture masks the seam they share with it.
    assert visible.sum() == 1


def test_coherent_drift_of_a_smooth_picture_is_not_visible() -> None:
    clean, drifted = smooth_gradient(), smooth_gradient(offset=25.0)
    assert not visible_damage(clean, drifted, everything_differs(clean)).any()


def test_a_displaced_block_on_a_smooth_picture_shows_its_seams() -> None:
    clean = smooth_gradient()
    damaged = clean.copy()
    damaged[0, 16:32, 16:32] = clean[0, 16:32, 64:80]  # content from 48 px to the right
    visible = visible_damage(clean, damaged, differing(clean, damaged))
    assert visible[0, 1, 1] and visible.sum() == 1


def test_only_differing_blocks_can_be_visible() -> None:
    clean = noise_texture(0)
    damaged = clean.copy()
    damaged[0, 16:32, 32:48] = 128
    differs = np.zeros((1, 4, 6), dtype=bool)
    assert not visible_damage(clean, damaged, differs).any()


@pytest.mark.parametrize(("height", "width"), [(70, 100), (16, 16), (20, 40)])
def test_partial_edge_blocks_are_judged(height: int, width: int) -> None:
    clean = noise_texture(0, height, width)
    damaged = clean.copy()
    top, left = 16 * ((height - 1) // 16), 16 * ((width - 1) // 16)
    damaged[0, top:, left:] = 128  # the last, partial block flattened
    visible = visible_damage(clean, damaged, everything_differs(clean))
    assert visible.shape == everything_differs(clean).shape
    assert visible[0, -1, -1]


def test_the_measurements_read_the_picture() -> None:
    frame = np.zeros((32, 32, 3), dtype=np.float32)
    frame[:, 16:] = 30.0  # one vertical edge exactly on the block border
    jumps = border_jumps(frame)
    assert jumps[0, 1, 0] == 30.0 and jumps[0, 0, 1] == 30.0 and jumps[0, 0, 0] == 0.0
    assert np.all(texture_activity(frame) == 0.0), "a step on the border is not texture"
    assert np.all(block_contrast(frame) == 0.0)
