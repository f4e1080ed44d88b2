"""block_displacement and block_flat: damage lies exactly where the mask says, in runs of blocks.

The geometry tests use ``label="difference"`` (every block whose mean moved): the default
``visible`` label keeps a subset of it (tests/impairments/video/test_run_label.py).
"""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.video import block_displacement, block_flat

RUN_IMPAIRMENTS = {
    "block_displacement": block_displacement.FAMILIES,
    "block_flat": block_flat.FAMILIES,
}
CASES = [(name, family) for name, families in RUN_IMPAIRMENTS.items() for family in families]


@pytest.mark.parametrize(("name", "family"), CASES)
@pytest.mark.parametrize("size", [(96, 128), (70, 100)])
def test_changed_pixels_are_masked_and_masked_pixels_changed(
    name: str, family: str, size: tuple[int, int], make_clip
) -> None:
    clip = make_clip(height=size[0], width=size[1])
    for seed in range(3):
        out, annotation = impairments.get(name, severity=4, families=(family,), label="difference")(
            clip, seed=seed
        )
        changed = (out != clip).any(axis=-1)
        assert annotation.mask.any()
        assert not (changed & ~annotation.mask).any(), "pixels changed outside the mask"
        assert changed[annotation.mask].mean() > 0.8, "mask covers mostly unchanged pixels"
        assert annotation.params["runs"] and all(
            run["family"] == family for run in annotation.params["runs"]
        )


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_severity_raises_the_damaged_area_on_average(name: str, make_clip) -> None:
    clip = make_clip()
    mean_area = {
        severity: np.mean(
            [
                impairments.get(name, severity=severity)(clip, seed=seed)[1].mask.mean()
                for seed in range(8)
            ]
        )
        for severity in (1, 3, 5)
    }
    assert 0 < mean_area[1] < mean_area[3] < mean_area[5]


@pytest.mark.parametrize("name", RUN_IMPAIRMENTS)
def test_runs_are_consecutive_blocks_and_persist(name: str, make_clip) -> None:
    clip = make_clip()
    single_run = {"runs": (1, 1), "run_rows": (0.5, 0.5), "persist_frames": (3, 3)}
    impairment = impairments.get(name, severity=3, label="difference", **single_run)
    rng = np.random.default_rng(4)
    params = impairment.draw(rng, clip.shape[:3], 25.0)
    params["runs"][0].update(frame=5, start_block=10)
    _, mask = impairment.apply(clip, params, rng)
    blocks = impairments.video.macroblock_mask_from_pixels(mask)
    assert [i for i in range(len(clip)) if mask[i].any()] == [5, 6, 7]
    flat = blocks[5].reshape(-1)
    assert np.array_equal(np.flatnonzero(flat), np.arange(10, 14))  # 0.5 x 8 columns, from 10
    assert np.array_equal(blocks[5], blocks[7])


def test_displacement_onto_identical_content_is_not_labelled() -> None:
    flat_grey = np.full((4, 64, 64, 3), 90, dtype=np.uint8)
    out, annotation = impairments.get("block_displacement", severity=5)(flat_grey, seed=0)
    assert np.array_equal(out, flat_grey)
    assert not annotation.mask.any() and annotation.frames == []


def test_flat_grey_and_green_fill_their_blocks_with_one_colour(make_clip) -> None:
    clip = make_clip()
    for family in ("grey", "green"):
        out, annotation = impairments.get("block_flat", severity=3, families=(family,))(
            clip, seed=1
        )
        colours = {tuple(run["colour"]) for run in annotation.params["runs"]}
        painted = {tuple(pixel) for pixel in out[annotation.mask]}
        assert painted <= colours
        reference = block_flat.FIXED_COLOURS[family]
        jitter = np.abs(np.array(sorted(colours)) - np.array(reference)).max()
        assert jitter <= block_flat.COLOUR_JITTER


def test_unknown_family_is_rejected() -> None:
    with pytest.raises(ValueError, match="families"):
        impairments.get("block_displacement", families=("teleport",))
    with pytest.raises(ValueError, match="families"):
        impairments.get("block_flat", families=())
