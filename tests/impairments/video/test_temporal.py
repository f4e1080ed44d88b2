"""Freeze, stutter and frame drop: the labels are exactly what was done to the clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

import impairments
from impairments.video.temporal import (
    FREEZE,
    STUTTER,
    TemporalAnnotation,
    cadence_breaks,
    events_from_labels,
    repeated_frames,
)

POSITIVES = ("freeze", "stutter", "frame_drop")
LOOK_ALIKES = ("static_noise", "slide", "slow_pan", "crossfade", "slow_motion")
FPS = 25.0


@pytest.fixture
def clip(make_clip) -> np.ndarray:
    """75 frames (3 s at 25 fps), every frame different from the one before."""
    frames = make_clip(frames=75, height=48, width=64)
    assert not repeated_frames(frames).any()
    return frames


def test_events_from_labels_gives_runs_in_seconds() -> None:
    labels = np.array([0, 1, 1, 0, 2, 2, 2, 0, 1], dtype=np.int8)
    assert events_from_labels(labels, 10.0) == [
        {"start": 0.1, "end": 0.3, "kind": "freeze"},
        {"start": 0.4, "end": 0.7, "kind": "stutter"},
        {"start": 0.8, "end": 0.9, "kind": "freeze"},
    ]
    assert events_from_labels(np.zeros(5, dtype=np.int8), 25.0) == []


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_freeze_labels_exactly_its_repeats(seed: int, severity: int, clip: np.ndarray) -> None:
    out, annotation = impairments.get("freeze", severity=severity, reencode_share=0.0)(
        clip, fps=FPS, seed=seed
    )
    labelled = annotation.frame_labels == FREEZE
    assert labelled.any() and set(np.unique(annotation.frame_labels)) <= {0, FREEZE}
    assert np.array_equal(repeated_frames(out), labelled)
    first, last = np.flatnonzero(labelled)[[0, -1]]
    held = annotation.params["held_frame"]
    assert first == held + 1 and np.array_equal(out[first], clip[held])
    assert annotation.events == [
        {"start": round(first / FPS, 6), "end": round((last + 1) / FPS, 6), "kind": "freeze"}
    ]
    assert annotation.to_json()["events"] == annotation.events


@pytest.mark.parametrize("resume", ["live", "delayed"])
def test_freeze_resumes_live_or_where_it_stopped(resume: str, clip: np.ndarray) -> None:
    freeze = impairments.get("freeze", severity=2, families=(resume,), reencode_share=0.0)
    for seed in range(20):
        out, annotation = freeze(clip, fps=FPS, seed=seed)
        start, hold = annotation.params["start_frame"], annotation.params["hold_frames"]
        if start + hold < len(clip):
            break
    else:
        pytest.fail("no draw resumed inside the clip")
    after = start + hold
    shown = clip[after] if resume == "live" else clip[after - hold]
    assert np.array_equal(out[after], shown)
    assert np.array_equal(out[:start], clip[:start])


def test_freeze_onset_mostly_leaves_motion_before_it(clip: np.ndarray) -> None:
    freeze = impairments.get("freeze", severity=3, reencode_share=0.0)
    starts = [freeze(clip, fps=FPS, seed=s)[1].params["start_frame"] for s in range(60)]
    assert np.mean(np.array(starts) >= 0.4 * FPS) >= 0.75
    assert min(starts) >= 1


def test_freeze_may_run_to_the_clip_end(clip: np.ndarray) -> None:
    freeze = impairments.get("freeze", severity=5, reencode_share=0.0)
    annotations = [freeze(clip, fps=FPS, seed=s)[1] for s in range(20)]
    to_end = [a for a in annotations if a.params["runs_to_end"]]
    assert to_end and all(a.frame_labels[-1] == FREEZE for a in to_end)


def test_freeze_length_grows_with_severity(clip: np.ndarray) -> None:
    holds = [
        np.mean(
            [
                impairments.get("freeze", severity=s, reencode_share=0.0)(clip, fps=FPS, seed=k)[
                    1
                ].params["hold_s"]
                for k in range(10)
            ]
        )
        for s in (1, 2, 3, 4, 5)
    ]
    assert holds == sorted(holds) and holds[0] < 0.45 and holds[-1] > 2.4


def test_reencoded_freeze_repeats_are_near_identical(clip: np.ndarray) -> None:
    out, annotation = impairments.get("freeze", severity=3, reencode_share=1.0)(
        clip, fps=FPS, seed=3
    )
    assert annotation.params["reencode"] is not None
    labelled = annotation.frame_labels == FREEZE
    step = np.abs(np.diff(out.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    # Mostly skip frames; a keyframe inside the freeze re-codes the picture once, still far
    # below the content's own motion.
    assert np.median(step[labelled[1:]]) < 0.05 * step[~labelled[1:]].mean()
    assert step[labelled[1:]].max() < 0.5 * step[~labelled[1:]].mean()


@pytest.mark.parametrize("name", ["stutter", "frame_drop"])
@pytest.mark.parametrize("seed", range(10))
def test_stutter_labels_the_broken_stretch(name: str, seed: int, clip: np.ndarray) -> None:
    impairment = impairments.get(name, severity=3, reencode_share=0.0)
    out, annotation = impairment(clip, fps=FPS, seed=seed)
    schedule = annotation.source_index
    assert schedule is not None and np.array_equal(out, clip[schedule])
    broken = np.flatnonzero(cadence_breaks(schedule))
    labelled = np.flatnonzero(annotation.frame_labels)
    assert len(broken) and np.array_equal(labelled, np.arange(broken[0], broken[-1] + 1))
    assert set(annotation.frame_labels[labelled]) == {STUTTER}
    assert repeated_frames(out).any()
    assert [e["kind"] for e in annotation.events] == ["stutter"]
    normal = annotation.frame_labels == 0
    if name == "frame_drop" or annotation.params["timing"] == "live":
        assert np.array_equal(out[normal], clip[normal])  # the clock is kept


def test_frame_drop_repeats_once_per_drop(clip: np.ndarray) -> None:
    for seed in range(10):
        out, annotation = impairments.get("frame_drop", severity=4, reencode_share=0.0)(
            clip, fps=FPS, seed=seed
        )
        assert repeated_frames(out).sum() == len(annotation.params["drops"])


@pytest.mark.parametrize("severity", [3, 4, 5])
def test_judder_follows_its_cadence(severity: int, clip: np.ndarray) -> None:
    stutter = impairments.get(
        "stutter", severity=severity, families=("judder",), reencode_share=0.0
    )
    _, annotation = stutter(clip, fps=FPS, seed=1)
    params = annotation.params
    holds = params["holds"]
    assert holds[:-1] == (params["pattern"] * len(holds))[: len(holds) - 1]
    assert max(holds) >= 2


def test_stutter_repeats_more_at_higher_severity(clip: np.ndarray) -> None:
    def repeats(severity: int) -> float:
        stutter = impairments.get("stutter", severity=severity, reencode_share=0.0)
        return float(
            np.mean([repeated_frames(stutter(clip, fps=FPS, seed=k)[0]).sum() for k in range(12)])
        )

    assert repeats(1) < repeats(3) < repeats(5)


@pytest.mark.parametrize("name", POSITIVES + LOOK_ALIKES)
def test_same_seed_same_bytes_and_labels(name: str, clip: np.ndarray) -> None:
    impairment = impairments.get(name, severity=4)
    out_a, ann_a = impairment(clip, fps=FPS, seed=11)
    out_b, ann_b = impairment(clip, fps=FPS, seed=np.random.default_rng(11))
    assert out_a.tobytes() == out_b.tobytes()
    assert json.dumps(ann_a.to_json(), sort_keys=True) == json.dumps(
        ann_b.to_json(), sort_keys=True
    )
    others = {impairment(clip, fps=FPS, seed=s)[0].tobytes() for s in range(3)}
    assert len(others) == 3


@pytest.mark.parametrize("name", POSITIVES + LOOK_ALIKES)
@pytest.mark.parametrize(("frames", "height", "width"), [(75, 48, 64), (9, 33, 47), (1, 16, 16)])
def test_shapes_and_annotation_layout(
    name: str, frames: int, height: int, width: int, make_clip
) -> None:
    clip = make_clip(frames=frames, height=height, width=width)
    out, annotation = impairments.get(name, severity=5)(clip, fps=30.0, seed=4)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert isinstance(annotation, TemporalAnnotation)
    assert annotation.frame_labels.shape == (frames,) and annotation.frame_labels.dtype == np.int8
    assert annotation.mask.shape == (frames, height, width) and not annotation.mask.any()
    summary = json.loads(json.dumps(annotation.to_json()))
    assert summary["kind"] == name and summary["severity"] == 5
    assert len(summary["frame_labels"]) == frames
    assert summary["events"] == events_from_labels(annotation.frame_labels, 30.0)


@pytest.mark.parametrize("name", POSITIVES)
def test_positives_only_draw_from_length_and_rate(name: str, make_clip) -> None:
    """A clip re-rendered at another size gets the same defect (the baseline needs that)."""
    small = make_clip(frames=75, height=48, width=64)
    large = make_clip(frames=75, height=96, width=128)
    impairment = impairments.get(name, severity=3)
    _, ann_small = impairment(small, fps=FPS, seed=8)
    _, ann_large = impairment(large, fps=FPS, seed=8)
    assert ann_small.params == ann_large.params
    assert np.array_equal(ann_small.frame_labels, ann_large.frame_labels)


def test_bad_arguments_say_what_is_wrong(clip: np.ndarray) -> None:
    with pytest.raises(ValueError, match="reencode_share"):
        impairments.get("freeze", reencode_share=1.5)
    with pytest.raises(ValueError, match="hold_s"):
        impairments.get("freeze", hold_s=(2.0, 1.0))
    with pytest.raises(ValueError, match="families"):
        impairments.get("stutter", families=("wobble",))
    with pytest.raises(ValueError, match="fps"):
        impairments.get("freeze")(clip, fps=0.0, seed=0)
    with pytest.raises(ValueError, match="uint8"):
        impairments.get("stutter")(clip.astype(np.float32), seed=0)


@pytest.mark.parametrize("severity", [1, 5])
def test_single_hitch_labels_only_the_broken_frames(severity: int, clip: np.ndarray) -> None:
    """One hold of 2-3 ticks: delayed, its repeats only; live, the repeats and the skip."""
    stutter = impairments.get(
        "stutter", severity=severity, families=("single",), reencode_share=0.0
    )
    seen = set()
    for seed in range(12):
        out, annotation = stutter(clip, fps=FPS, seed=seed)
        ticks, timing = annotation.params["holds"], annotation.params["timing"]
        assert len(ticks) == 1 and ticks[0] == (2 if severity == 1 else 3)
        repeats = repeated_frames(out).sum()
        assert repeats == ticks[0] - 1
        start = annotation.params["start_frame"]
        skip = timing == "live" and start + ticks[0] < len(clip)
        assert annotation.frame_labels.sum() // STUTTER == repeats + int(skip)
        seen.add(timing)
    assert seen == {"live", "delayed"}
