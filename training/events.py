"""Events (freeze/stutter intervals in seconds): from per-frame labels, and matched for scoring.

One definition for the detector's metrics, its detect reports and the baselines' scores, so
every contestant is judged by the same rule: an event matches a true one when their intervals
overlap with IoU >= 0.5, one to one, greedily by IoU (the usual detection-scoring convention).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from impairments.video.temporal import EVENT_KINDS, NORMAL

Event = dict[str, Any]
IOU_TOLERANCE = 1e-9  # far below one frame's share of any event, far above float rounding


def interval_iou(a: Event, b: Event) -> float:
    inter = max(0.0, min(a["end"], b["end"]) - max(a["start"], b["start"]))
    union = max(a["end"], b["end"]) - min(a["start"], b["start"])
    return inter / union if union > 0 else 0.0


def match_events(
    predicted: Sequence[Event],
    truth: Sequence[Event],
    iou: float = 0.5,
    kind_sensitive: bool = False,
) -> dict[str, Any]:
    """``{"tp", "fp", "fn", "precision", "recall", "f1"}`` of one clip's (or file's) events.

    Precision/recall/F1 are None where undefined (nothing predicted / nothing true); callers
    that sum counts over clips recompute them from the totals.
    """
    pairs = sorted(
        (
            (interval_iou(p, t), i, j)
            for i, p in enumerate(predicted)
            for j, t in enumerate(truth)
            if not kind_sensitive or p.get("kind") == t.get("kind")
        ),
        reverse=True,
    )
    used_predicted: set[int] = set()
    used_truth: set[int] = set()
    for value, i, j in pairs:
        # Interval ends are frame times in float seconds: a 2-frame event over a 1-frame truth
        # has IoU 0.5 exactly, or 0.49999999999999933 depending on where it sits in the clip.
        if value < iou - IOU_TOLERANCE:
            break
        if i not in used_predicted and j not in used_truth:
            used_predicted.add(i)
            used_truth.add(j)
    tp = len(used_predicted)
    fp, fn = len(predicted) - tp, len(truth) - tp
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
    }


def frames_to_events(
    labels: np.ndarray, fps: float, min_frames: int = 1, scores: np.ndarray | None = None
) -> list[Event]:
    """Runs of one non-normal label as events; runs shorter than ``min_frames`` are dropped.

    ``end`` is (last frame + 1) / fps. With ``scores`` (``(T, 3)`` class probabilities) each
    event also gets ``score``: the mean probability of its class over its frames.
    """
    values = np.asarray(labels)
    events: list[Event] = []
    start = 0
    while start < len(values):
        stop = start + 1
        while stop < len(values) and values[stop] == values[start]:
            stop += 1
        label = int(values[start])
        if label != NORMAL and stop - start >= min_frames:
            event: Event = {
                "start": round(start / fps, 6),
                "end": round(stop / fps, 6),
                "kind": EVENT_KINDS[label],
            }
            if scores is not None:
                event["score"] = round(float(np.mean(scores[start:stop, label])), 4)
            events.append(event)
        start = stop
    return events


def decisions_to_events(
    probabilities: np.ndarray,
    fps: float,
    min_frames: int = 3,
    smooth_frames: int = 1,
    merge_gap_frames: int = 0,
) -> list[Event]:
    """Per-frame class probabilities ``(T, 3)`` -> events: the one post-processing rule shared by
    training metrics, detect.py and the tuning on validation.

    ``smooth_frames`` averages probabilities over a centred window before the argmax (one odd
    frame inside a freeze does not split it); same-kind events separated by at most
    ``merge_gap_frames`` normal frames are merged; runs shorter than ``min_frames`` are dropped.
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    if smooth_frames > 1 and len(probs) > 1:
        kernel = np.ones(int(smooth_frames)) / int(smooth_frames)
        padded = np.pad(probs, ((smooth_frames // 2, (smooth_frames - 1) // 2), (0, 0)), "edge")
        probs = np.stack(
            [np.convolve(padded[:, c], kernel, mode="valid") for c in range(probs.shape[1])], 1
        )
    labels = probs.argmax(axis=1)
    if merge_gap_frames > 0:
        labels = _close_gaps(labels, merge_gap_frames)
    return frames_to_events(labels, fps, min_frames, scores=probs)


def _close_gaps(labels: np.ndarray, gap: int) -> np.ndarray:
    """Fill runs of normal frames no longer than ``gap`` between two runs of the same class."""
    out = labels.copy()
    index = 0
    while index < len(out):
        if out[index] == NORMAL:
            stop = index
            while stop < len(out) and out[stop] == NORMAL:
                stop += 1
            if (
                index > 0
                and stop < len(out)
                and stop - index <= gap
                and out[index - 1] == out[stop]
            ):
                out[index:stop] = out[stop]
            index = stop
        else:
            index += 1
    return out
