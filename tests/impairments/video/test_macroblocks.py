"""Macroblock grid helpers, including frame sizes that are not multiples of 16."""

from __future__ import annotations

import numpy as np
import pytest

from impairments.video.base import (
    macroblock_mask_from_pixels,
    macroblock_mean_abs_diff,
    pixels_from_macroblock_mask,
)


@pytest.mark.parametrize(("height", "width"), [(96, 128), (70, 100), (1, 1), (17, 33)])
def test_block_mask_round_trip_and_any_pixel_marks_its_block(height: int, width: int) -> None:
    rng = np.random.default_rng(0)
    rows, cols = -(-height // 16), -(-width // 16)
    blocks = rng.random((3, rows, cols)) < 0.4
    pixels = pixels_from_macroblock_mask(blocks, height, width)
    assert pixels.shape == (3, height, width)
    assert np.array_equal(macroblock_mask_from_pixels(pixels), blocks)
    single = np.zeros((1, height, width), dtype=bool)
    single[0, height - 1, width - 1] = True  # a pixel in the partial corner block
    marked = macroblock_mask_from_pixels(single)
    assert marked.sum() == 1 and marked[0, rows - 1, cols - 1]


def test_mean_abs_diff_averages_partial_edge_blocks_over_real_pixels() -> None:
    a = np.zeros((1, 20, 40, 3), dtype=np.uint8)
    b = a.copy()
    b[0, 16:, 32:] = 10  # the partial bottom-right block (4 x 8 real pixels), all channels
    b[0, :16, :16, 0] = 30  # a full block, one channel
    diff = macroblock_mean_abs_diff(a, b)
    assert diff.shape == (1, 2, 3)
    assert diff[0, 1, 2] == pytest.approx(10.0)
    assert diff[0, 0, 0] == pytest.approx(10.0)
    assert diff.sum() == pytest.approx(20.0)
    assert np.array_equal(macroblock_mean_abs_diff(b, a), diff)
