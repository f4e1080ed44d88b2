"""Small synthetic clips: textured, moving, fast to impair (16 frames of 128x96 by default)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

ClipFactory = Callable[..., np.ndarray]


def moving_texture(
    frames: int = 16, height: int = 96, width: int = 128, seed: int = 0, step: int = 3
) -> np.ndarray:
    """A smoothed random texture over a colour gradient, panning ``step`` px per frame.

    Texture everywhere makes every displaced or painted block visibly different (so mask tests
    are exact), and the motion makes codec damage propagate through prediction as it does in
    real footage.
    """
    rng = np.random.default_rng(seed)
    big_h, big_w = height + step * frames + 16, width + step * frames + 16
    noise = rng.integers(0, 256, (big_h, big_w, 3), dtype=np.uint8)
    texture = cv2.GaussianBlur(noise, (0, 0), 1.2).astype(np.float32)
    gradient = np.linspace(0, 80, big_w, dtype=np.float32)[None, :, None]
    canvas = np.clip(0.7 * texture + gradient, 0, 255).astype(np.uint8)
    return np.stack(
        [
            canvas[i * step // 2 : i * step // 2 + height, i * step : i * step + width]
            for i in range(frames)
        ]
    )


@pytest.fixture
def make_clip() -> ClipFactory:
    return moving_texture
