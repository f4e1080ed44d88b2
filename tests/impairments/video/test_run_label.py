"""The visible label of block_displacement and block_flat: a seam or contrast change is required.

The default (``visible``) drops blocks whose edge nobody sees; ``difference`` keeps every block
whose mean moved by 2 levels and records nothing new, so every earlier build keeps its bytes.
"""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.video.base import MACROBLOCK
from impairments.video.runs import visible_mask

RUN_IMPAIRMENTS = ("block_displacement", "block_flat")


def _gradient_clip(frames: int = 2, height: int = 64, width: int = 96) -> np.ndarray:
    ramp = np.linspace(60, 120, width, dtype=np.float32)
    frame = np.repeat(ramp[None, :, None], height, axis=0).repeat(3, axis=2)
    return np.repeat(frame[None], frames, axis=0).round().astype(np.uint8)


def test_a_faint_block_is_kept_by_difference_and_dropped_by_visible() -> None:
    clip = _gradient_clip()
    out = clip.copy()
    faint = (slice(16, 32), slice(16, 32))  # +3 levels: mean change over 2, a 3-level seam
    strong = (slice(32, 48), slice(48, 64))  # +30 levels: plainly visible
    out[1][faint] = clip[1][faint] + 3
    out[1][strong] = clip[1][strong] + 30
    regions = np.zeros(clip.shape[:3], dtype=bool)
    regions[1][faint] = regions[1][strong] = True

    difference = visible_mask(clip, out, regions)
    visible = visible_mask(clip, out, regions, seams=True)

    assert difference[1][faint].all() and difference[1][strong].all()
    assert not visible[1][faint].any()
    assert visible[1][strong].all()
    assert not (visible & ~difference).any()
    assert visible.sum() == MACROBLOCK * MACROBLOCK


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_default_label_is_visible(name: str, make_clip) -> None:
    clip = make_clip()
    out, annotation = impairments.get(name, severity=4)(clip, seed=3)
    seen, visible = impairments.get(name, severity=4, label="visible")(clip, seed=3)
    assert np.array_equal(out, seen)
    assert np.array_equal(annotation.mask, visible.mask)
    assert annotation.params == visible.params
    assert annotation.params["label"] == "visible"


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_difference_label_records_nothing_new(name: str, make_clip) -> None:
    """Builds made before the visible default rebuild byte for byte with label=difference."""
    clip = make_clip()
    _, annotation = impairments.get(name, severity=4, label="difference")(clip, seed=3)
    assert "label" not in annotation.params
    assert "contrast_masking" not in annotation.params


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_visible_label_is_a_subset_with_the_same_pixels(name: str, make_clip) -> None:
    clip = make_clip()
    kept = []
    for seed in range(4):
        out, difference = impairments.get(name, severity=4, label="difference")(clip, seed=seed)
        seen, visible = impairments.get(name, severity=4, label="visible")(clip, seed=seed)
        assert np.array_equal(out, seen), "the label must not change the damage"
        assert not (visible.mask & ~difference.mask).any()
        assert visible.params["label"] == "visible"
        assert visible.params["contrast_masking"] == 1.0
        kept.append(visible.mask.sum() / max(1, difference.mask.sum()))
    assert max(kept) > 0.5  # a moving texture shows most of its damage


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_unknown_label_and_bad_masking_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="label"):
        impairments.get(name, label="everything")
    with pytest.raises(ValueError, match="contrast_masking"):
        impairments.get(name, label="visible", contrast_masking=-1.0)
