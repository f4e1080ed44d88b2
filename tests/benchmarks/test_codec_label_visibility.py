"""The codec-label visibility proxy: which labelled blocks keep their mean and contrast."""

from __future__ import annotations

import numpy as np

from benchmarks.codec_label_visibility import block_mean_std, measure, statistics_kept


def _noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.clip(128 + 30 * rng.standard_normal(shape), 0, 255).astype(np.uint8)


def test_texture_swapped_for_texture_keeps_its_statistics_a_flat_block_does_not() -> None:
    rng = np.random.default_rng(0)
    clean = _noise(rng, (1, 32, 48, 3))
    damaged = clean.copy()
    damaged[0, :16, :16] = _noise(rng, (16, 16, 3))  # concealed as other noise: same statistics
    damaged[0, :16, 16:32] = 128  # a flat grey block: contrast gone
    damaged[0, 16:, :16] = np.clip(clean[0, 16:, :16].astype(int) + 40, 0, 255)  # brighter
    labelled = np.zeros((1, 2, 3), dtype=bool)
    labelled[0, 0, 0] = labelled[0, 0, 1] = labelled[0, 1, 0] = True

    kept, total = statistics_kept(clean, damaged, labelled, mean_levels=4.0, std_ratio=0.2)
    assert (kept, total) == (1, 3)


def test_block_statistics_are_per_whole_macroblock() -> None:
    frames = np.zeros((2, 40, 50, 3), dtype=np.uint8)  # partial edge blocks are left out
    frames[:, :16, :16] = 200
    mean, std = block_mean_std(frames)
    assert mean.shape == std.shape == (2, 2, 3)
    assert mean[0, 0, 0] == 200 and mean[0, 0, 1] == 0 and std.max() == 0


def test_the_visible_label_keeps_a_minority_of_texture_blocks() -> None:
    """Concealment inside a noise texture mostly decodes as look-alike texture: the visible label
    keeps some of the differing blocks, never more than the difference label has."""
    texture = measure(kinds=("texture",), scenes=1, severities=(3,))["kinds"]["texture"]
    assert texture["labelled_blocks"] > 0
    assert 0.0 < texture["visible_label_share"] < 0.5
