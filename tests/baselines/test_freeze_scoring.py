"""The freeze/stutter scorer: event counts, frame balanced accuracy, false events per hour."""

from __future__ import annotations

import numpy as np
import pytest

from training.baselines import freeze_scoring as scoring

FPS = 25.0


def clip(name: str, label: str, spans=(), group: str | None = None, hard: bool = False,
         frames: int = 50, severity: int = 0) -> scoring.ClipTruth:  # fmt: skip
    labels = np.zeros(frames, np.int8)
    events = []
    for first, stop, kind in spans:
        labels[first:stop] = scoring.KIND_INDEX[kind]
        events.append({"start": first / FPS, "end": stop / FPS, "kind": kind})
    return scoring.ClipTruth(name, FPS, labels, events, label, group or label, hard, severity)


def event(first: int, stop: int, kind: str = "freeze") -> dict:
    return {"start": first / FPS, "end": stop / FPS, "kind": kind}


def test_frames_inside_events_take_the_event_kind() -> None:
    labels = scoring.frames_from_events([event(2, 5), event(7, 9, "stutter")], FPS, 10)
    assert labels.tolist() == [0, 0, 1, 1, 1, 0, 0, 2, 2, 0]
    assert scoring.frames_from_events([event(8, 30)], FPS, 10).tolist()[-2:] == [1, 1]


def test_counts_and_undefined_ratios() -> None:
    assert scoring.event_counts(3, 1, 2) == {
        "tp": 3, "fp": 1, "fn": 2, "precision": 0.75, "recall": 0.6, "f1": 6 / 9,
    }  # fmt: skip
    empty = scoring.event_counts(0, 0, 0)
    assert empty["precision"] is None and empty["f1"] is None


def test_clean_clips_cannot_carry_defects() -> None:
    with pytest.raises(ValueError, match="c1: a clean clip has defect labels"):
        clip("c1", "clean", [(3, 6, "freeze")])
    with pytest.raises(ValueError, match="not one of"):
        clip("c2", "frozen")


def test_score_on_a_toy_set() -> None:
    clips = [
        clip("f1", "freeze", [(10, 30, "freeze")], severity=3),
        clip("f2", "freeze", [(5, 10, "freeze")], severity=1),
        clip("s1", "stutter", [(20, 40, "stutter")], group="frame_drop", severity=2),
        clip("c1", "clean"),
        clip("h1", "clean", group="static_noise", hard=True),
    ]
    predicted = [
        [event(11, 30)],  # hit (IoU 19/20)
        [event(5, 6)],  # IoU 0.2: a false event and a miss
        [event(20, 40)],  # hit, kind ignored by the headline
        [],
        [event(0, 5), event(10, 12)],  # two false events on a hard negative
    ]
    result = scoring.score(clips, predicted)
    assert result["events"] == scoring.event_counts(tp=2, fp=3, fn=1)
    assert result["events_kind_sensitive"] == scoring.event_counts(tp=1, fp=4, fn=2)
    assert result["freeze_only"] == scoring.event_counts(tp=1, fp=3, fn=1)
    assert result["stutter_only"] == scoring.event_counts(tp=1, fp=2, fn=0)
    frames = result["frames"]
    defect_truth = 20 + 5 + 20
    defect_hit = 19 + 1 + 20
    normal = 250 - defect_truth
    normal_hit = normal - 7
    assert frames["recall"]["defect"] == pytest.approx(defect_hit / defect_truth)
    assert frames["recall"]["normal"] == pytest.approx(normal_hit / normal)
    assert frames["bal_acc"] == pytest.approx((defect_hit / defect_truth + normal_hit / normal) / 2)
    assert frames["recall_3class"]["stutter"] == 0.0  # predicted "freeze" on stutter frames
    hours = 2 * 50 / FPS / 3600
    assert result["clean"]["false_events"] == 2
    assert result["clean"]["false_events_per_hour"] == pytest.approx(2 / hours)
    assert result["clean_plain"]["false_events"] == 0
    assert result["hard_negatives"]["clips_with_false_events"] == 1
    assert result["per_group"]["static_noise"]["false_events"] == 2
    assert result["per_group"]["freeze"]["recall"] == 0.5
    assert result["per_severity"]["1"]["tp"] == 0 and result["per_severity"]["3"]["tp"] == 1
    headline = scoring.Headline.of(result).to_json()
    assert headline["event_f1"] == pytest.approx(2 * 2 / (2 * 2 + 3 + 1))
    assert "ev F1" in scoring.table({"x": headline}, "toy").splitlines()[1]


def test_per_frame_predictions_override_events_and_must_fit() -> None:
    clips = [clip("f1", "freeze", [(10, 30, "freeze")], frames=40)]
    frames = [np.r_[np.zeros(10), np.ones(20), np.zeros(10)].astype(np.int8)]
    result = scoring.score(clips, [[]], frames)
    assert result["frames"]["bal_acc"] == 1.0 and result["events"]["fn"] == 1
    with pytest.raises(ValueError, match="f1: 39 predicted frames, 40 labelled"):
        scoring.score(clips, [[]], [frames[0][:39]])
