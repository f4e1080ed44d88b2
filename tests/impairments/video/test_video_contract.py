"""The contract every registered video impairment keeps (the dataset builder relies on it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import impairments
from impairments.video import VideoImpairment

VIDEO = impairments.names(kind="video")
POSITIVES = ("block_displacement", "block_flat", "codec_corruption")
HARD_NEGATIVES = ("blur", "compression", "grain")
# Freezes/stutters and their look-alikes keep this contract with an empty pixel mask; their own
# (label/schedule) contract is tests/impairments/video/test_temporal*.py.
TEMPORAL = ("freeze", "stutter", "frame_drop")
TEMPORAL_HARD_NEGATIVES = ("static_noise", "slide", "slow_pan", "crossfade", "slow_motion")


def test_registered_names_and_default_listing_stays_audio() -> None:
    assert set(VIDEO) == {*POSITIVES, *HARD_NEGATIVES, *TEMPORAL, *TEMPORAL_HARD_NEGATIVES}
    assert not set(VIDEO) & set(impairments.names())
    assert set(impairments.names(kind="all")) == (
        set(VIDEO) | set(impairments.names()) | set(impairments.names(kind="av"))
    )
    with pytest.raises(ValueError, match="kind"):
        impairments.names(kind="images")


@pytest.mark.parametrize("name", VIDEO)
def test_hard_negative_flag_matches_the_class(name: str) -> None:
    impairment = impairments.get(name, severity=3)
    assert isinstance(impairment, VideoImpairment)
    assert impairment.hard_negative == (name in HARD_NEGATIVES + TEMPORAL_HARD_NEGATIVES)


@pytest.mark.parametrize("name", VIDEO)
def test_same_seed_gives_byte_identical_output_and_annotation(name: str, make_clip) -> None:
    clip = make_clip()
    out_a, ann_a = impairments.get(name, severity=4)(clip, fps=25.0, seed=5)
    out_b, ann_b = impairments.get(name, severity=4)(clip, fps=25.0, seed=np.random.default_rng(5))
    assert out_a.tobytes() == out_b.tobytes()
    assert np.array_equal(ann_a.mask, ann_b.mask)
    assert json.dumps(ann_a.to_json(), sort_keys=True) == json.dumps(
        ann_b.to_json(), sort_keys=True
    )


@pytest.mark.parametrize("name", VIDEO)
def test_different_seeds_give_different_outputs(name: str, make_clip) -> None:
    clip = make_clip()
    impairment = impairments.get(name, severity=4)
    outputs = {impairment(clip, seed=seed)[0].tobytes() for seed in range(3)}
    assert len(outputs) == 3


@pytest.mark.parametrize("name", VIDEO)
@pytest.mark.parametrize(("frames", "height", "width"), [(16, 96, 128), (5, 70, 100), (1, 33, 47)])
def test_shapes_dtype_and_annotation_layout(
    name: str, frames: int, height: int, width: int, make_clip
) -> None:
    clip = make_clip(frames=frames, height=height, width=width)
    out, annotation = impairments.get(name, severity=5)(clip, fps=30.0, seed=2)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert annotation.kind == name and annotation.severity == 5
    assert annotation.mask.shape == (frames, height, width) and annotation.mask.dtype == bool
    assert annotation.macroblock_mask.shape == (frames, -(-height // 16), -(-width // 16))
    summary = json.loads(json.dumps(annotation.to_json()))
    assert len(summary["area_ratio_per_frame"]) == frames
    assert summary["frames"] == annotation.frames
    assert summary["frames"] == [i for i in range(frames) if annotation.mask[i].any()]
    if name in HARD_NEGATIVES:
        assert not annotation.mask.any() and summary["area_ratio"] == 0.0
        assert not np.array_equal(out, clip)


@pytest.mark.parametrize("name", POSITIVES)
def test_positives_mark_damage_at_high_severity(name: str, make_clip) -> None:
    clip = make_clip()
    hits = [impairments.get(name, severity=5)(clip, seed=s)[1].mask.any() for s in range(3)]
    assert all(hits)


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((4, 32, 32, 3), dtype=np.float32), "uint8"),
        (np.zeros((32, 32, 3), dtype=np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((4, 32, 32, 4), dtype=np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((0, 32, 32, 3), dtype=np.uint8), "non-empty"),
    ],
)
@pytest.mark.parametrize("name", VIDEO)
def test_bad_frames_raise_a_clear_error(name: str, frames: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=f"{name}.*{message}"):
        impairments.get(name)(frames, seed=0)


@pytest.mark.parametrize("name", VIDEO)
def test_bad_fps_severity_and_override_raise(name: str, make_clip) -> None:
    with pytest.raises(ValueError, match="fps"):
        impairments.get(name)(make_clip(frames=2), fps=0.0, seed=0)
    with pytest.raises(ValueError, match="severity"):
        impairments.get(name, severity=6)
    with pytest.raises(ValueError, match="unknown range"):
        impairments.get(name, not_a_range=(1, 2))
