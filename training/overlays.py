"""Corruption maps drawn over frames (numpy only: detect.py's contact sheet must not need
matplotlib, and the training figures use the same drawing)."""

from __future__ import annotations

import numpy as np


def upsample_map(cell_map: np.ndarray, height: int, width: int) -> np.ndarray:
    """Map cells -> pixels (nearest, each cell covering its stride x stride tile, cropped to the
    frame: the last row/column of cells may cover a partial tile)."""
    cell_map = np.asarray(cell_map, dtype=np.float32)
    stride_y = -(-height // cell_map.shape[0])
    stride_x = -(-width // cell_map.shape[1])
    tiles = np.repeat(np.repeat(cell_map, stride_y, axis=0), stride_x, axis=1)
    return tiles[:height, :width]


def overlay_map(frame: np.ndarray, cell_map: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """RGB uint8 frame with a map (cells or per-pixel, values in [0, 1]) blended in red."""
    heat = upsample_map(cell_map, frame.shape[0], frame.shape[1])[..., None] * alpha
    red = np.zeros(frame.shape, dtype=np.float32)
    red[..., 0] = 255.0
    return (frame.astype(np.float32) * (1 - heat) + red * heat).clip(0, 255).astype(np.uint8)
