"""Event matching and extraction: the one rule every freeze contestant is scored by."""

from __future__ import annotations

import numpy as np
import pytest

from training.events import frames_to_events, match_events


def ev(start: float, end: float, kind: str = "freeze") -> dict:
    return {"start": start, "end": end, "kind": kind}


def test_one_to_one_matching_at_iou_half() -> None:
    truth = [ev(1.0, 2.0), ev(3.0, 4.0, "stutter")]
    predicted = [ev(1.1, 2.0), ev(1.0, 1.9), ev(3.2, 4.2), ev(6, 7)]
    result = match_events(predicted, truth)
    # (1.1-2.0) and (1.0-1.9) both overlap the first truth: only one may count
    assert (result["tp"], result["fp"], result["fn"]) == (2, 2, 0)
    assert result["precision"] == 0.5 and result["recall"] == 1.0
    assert match_events(predicted, truth, kind_sensitive=True)["tp"] == 1
    assert match_events([ev(1.0, 1.4)], [ev(1.0, 2.0)])["tp"] == 0  # IoU 0.4


@pytest.mark.parametrize("first", range(75))
def test_iou_of_exactly_half_matches_wherever_the_event_sits(first: int) -> None:
    """A 1-frame truth inside a 2-frame prediction is IoU 0.5 at every frame of a clip, even
    where float seconds make it 0.4999999999999993; one frame less overlap never matches."""
    fps = 25.0
    truth = [ev(round(first / fps, 6), round((first + 1) / fps, 6))]
    two_wide = [ev(round(first / fps, 6), round((first + 2) / fps, 6))]
    three_wide = [ev(round((first - 1) / fps, 6), round((first + 2) / fps, 6))]
    assert match_events(two_wide, truth)["tp"] == 1
    assert match_events(three_wide, truth)["tp"] == 0


def test_undefined_scores_are_none_not_zero() -> None:
    assert match_events([], [])["f1"] is None
    assert match_events([ev(0, 1)], [])["recall"] is None


def test_frames_to_events_keeps_runs_and_drops_short_ones() -> None:
    labels = np.array([0, 1, 1, 1, 0, 2, 0, 2, 2, 0])
    events = frames_to_events(labels, fps=10.0, min_frames=2)
    assert events == [
        {"start": 0.1, "end": 0.4, "kind": "freeze"},
        {"start": 0.7, "end": 0.9, "kind": "stutter"},
    ]
    scores = np.zeros((10, 3))
    scores[1:4, 1] = [0.6, 0.8, 1.0]
    assert frames_to_events(labels[:5], 10.0, scores=scores[:5])[0]["score"] == 0.8


def test_smoothing_and_gap_merging_keep_one_freeze_in_one_piece() -> None:
    from training.events import decisions_to_events

    probs = np.zeros((20, 3))
    probs[:, 0] = 1.0
    probs[5:15] = [0.1, 0.9, 0.0]
    probs[9] = [0.8, 0.2, 0.0]  # one doubtful frame inside the freeze
    assert len(decisions_to_events(probs, 10.0, min_frames=2)) == 2
    assert decisions_to_events(probs, 10.0, min_frames=2, merge_gap_frames=1) == [
        {"start": 0.5, "end": 1.5, "kind": "freeze", "score": pytest.approx(0.83)}
    ]
    assert len(decisions_to_events(probs, 10.0, min_frames=2, smooth_frames=3)) == 1
