"""Clean look-alikes of a freeze: near-static, never a repeat, never a label."""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.video.temporal import break_repeats, repeated_frames

LOOK_ALIKES = ("static_noise", "slide", "slow_pan", "crossfade", "slow_motion")
FPS = 25.0


def motion(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference to the previous frame, per frame from the second one."""
    return np.abs(np.diff(frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))


@pytest.mark.parametrize("name", LOOK_ALIKES)
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_look_alikes_never_repeat_and_never_label(name: str, severity: int, make_clip) -> None:
    clip = make_clip(frames=50, height=48, width=64)
    impairment = impairments.get(name, severity=severity)
    assert impairment.hard_negative
    for seed in range(4):
        out, annotation = impairment(clip, fps=FPS, seed=seed)
        assert not repeated_frames(out).any()
        assert not annotation.frame_labels.any() and annotation.events == []
        assert annotation.source_index is None


@pytest.mark.parametrize("name", ["static_noise", "slide", "slow_pan"])
def test_still_look_alikes_are_near_static(name: str, make_clip) -> None:
    clip = make_clip(frames=30, height=48, width=64)
    out, _ = impairments.get(name, severity=5)(clip, fps=FPS, seed=0)
    assert motion(out).max() < 0.2 * motion(clip).mean()


def test_static_noise_has_the_drawn_level_and_fades_with_severity() -> None:
    grey = np.full((6, 64, 64, 3), 128, dtype=np.uint8)
    sigmas = []
    for severity in (1, 3, 5):
        out, annotation = impairments.get(
            "static_noise", severity=severity, families=("gaussian",)
        )(grey, fps=FPS, seed=1)
        sigma = annotation.params["sigma"]
        if sigma >= 1.0:  # rounding to 8 bits hides the level of fainter noise
            assert (out.astype(np.float32) - 128).std() == pytest.approx(sigma, rel=0.1)
        sigmas.append(sigma)
    assert sigmas[0] > sigmas[1] > sigmas[2]


def test_faint_noise_leaves_most_pixels_repeating_but_no_frame(make_clip) -> None:
    clip = make_clip(frames=20, height=48, width=64)
    out, annotation = impairments.get("static_noise", severity=5, families=("gaussian",))(
        clip, fps=FPS, seed=2
    )
    unchanged = (np.diff(out.astype(np.int16), axis=0) == 0).mean()
    assert annotation.params["sigma"] < 0.4 and unchanged > 0.6
    assert not repeated_frames(out).any()


def test_slow_pan_moves_slower_at_higher_severity(make_clip) -> None:
    clip = make_clip(frames=20, height=48, width=64)
    pan = [
        motion(impairments.get("slow_pan", severity=s)(clip, fps=FPS, seed=3)[0]).mean()
        for s in (1, 5)
    ]
    assert pan[0] > pan[1] > 0


def test_slow_motion_blends_and_slows(make_clip) -> None:
    clip = make_clip(frames=40, height=48, width=64)
    out, annotation = impairments.get("slow_motion", severity=3)(clip, fps=FPS, seed=0)
    assert 2.8 <= annotation.params["factor"] <= 3.2
    assert motion(out).mean() < 0.6 * motion(clip).mean()


def test_crossfade_ends_on_another_picture(make_clip) -> None:
    clip = make_clip(frames=40, height=48, width=64)
    fade = impairments.get("crossfade", severity=1, families=("dissolve",))
    out, annotation = fade(clip, fps=FPS, seed=0)
    start, length = annotation.params["start_frame"], annotation.params["fade_frames"]
    assert np.array_equal(out[:start], clip[:start])
    if start + length < len(clip):
        assert np.array_equal(out[-1], clip[0, :, ::-1])


def test_break_repeats_nudges_exact_repeats_only() -> None:
    frames = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    frames[2:] = 9  # frames 1 and 3 repeat their predecessor
    out, nudged = break_repeats(frames)
    assert nudged == 2 and not repeated_frames(out).any()
    assert np.abs(out.astype(int) - frames).sum() == 2
    assert break_repeats(out)[1] == 0


def test_slowest_pan_changes_every_frame_beyond_a_nudge(make_clip) -> None:
    """At 0.02 px/frame OpenCV's 1/32-px grid alone repeats frames; capture noise must not."""
    clip = make_clip(frames=30, height=48, width=64)
    for seed in range(4):
        out, _ = impairments.get("slow_pan", severity=5)(clip, fps=FPS, seed=seed)
        changed = (np.diff(out.astype(np.int16), axis=0) != 0).sum(axis=(1, 2, 3))
        assert changed.min() > out[0].size // 20
