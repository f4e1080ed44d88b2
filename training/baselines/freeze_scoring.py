"""Scores of a freeze/stutter event detector on labelled clips: the numbers of the README table.

One scorer for every contestant and every clip source (the synthetic test split, real footage),
so freezedetect and the trained detector are measured by the same rules:

* **Events**: ``training.events.match_events`` per clip (one-to-one, IoU >= 0.5), counts summed
  over clips. ``kind`` is ignored for the headline (freezedetect only knows "freeze");
  ``freeze_only`` / ``stutter_only`` restrict the truth to the clips of one defect class (plus
  every clean clip, where any event is false), and ``kind_sensitive`` needs the kind right.
* **Frames**: a frame is predicted defective when it lies inside a predicted event (unless the
  caller passes per-frame predictions). ``bal_acc`` is normal-vs-defect balanced accuracy (the
  only frame question freezedetect can answer); ``bal_acc_3class`` the macro recall over
  normal / freeze / stutter.
* **False events per hour** on clean clips, with hard negatives apart and per kind of hard
  negative: every predicted event on a clean clip is false.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CLASSES = ("clean", "freeze", "stutter")
KIND_INDEX = {"freeze": 1, "stutter": 2}
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class ClipTruth:
    """What a clip holds: per-frame labels (0 normal, 1 freeze, 2 stutter) and events."""

    name: str
    fps: float
    labels: np.ndarray
    events: list[dict[str, Any]]
    label: str  # clip class: "clean" | "freeze" | "stutter"
    group: str  # impairment or hard-negative name; "clean" for a plain clean clip
    hard_negative: bool = False
    severity: int = 0

    def __post_init__(self) -> None:
        if self.label not in CLASSES:
            raise ValueError(f"{self.name}: clip label {self.label!r} is not one of {CLASSES}")
        if self.label == "clean" and (self.events or np.any(self.labels)):
            raise ValueError(f"{self.name}: a clean clip has defect labels or events")

    @property
    def n_frames(self) -> int:
        return len(self.labels)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps


def frames_from_events(events: Sequence[dict[str, Any]], fps: float, n_frames: int) -> np.ndarray:
    """Per-frame class (0 normal, 1 freeze, 2 stutter; unknown kinds count as freeze) of the
    frames inside the events; frame ``i`` spans ``[i / fps, (i + 1) / fps)``."""
    labels = np.zeros(n_frames, dtype=np.int8)
    for event in events:
        first = max(0, int(round(event["start"] * fps)))
        stop = min(n_frames, int(round(event["end"] * fps)))
        labels[first:stop] = KIND_INDEX.get(event.get("kind", "freeze"), 1)
    return labels


def event_counts(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Counts with precision, recall and F1 (None where undefined: nothing to divide by)."""
    return {
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
    }


def _match(predicted: list[dict], truth: list[dict], kind_sensitive: bool) -> tuple[int, int, int]:
    from training.events import match_events

    result = match_events(predicted, truth, iou=0.5, kind_sensitive=kind_sensitive)
    return int(result["tp"]), int(result["fp"]), int(result["fn"])


def _summed(
    clips: Sequence[ClipTruth],
    predicted: Sequence[list[dict[str, Any]]],
    keep: Callable[[ClipTruth], bool],
    kind_sensitive: bool = False,
) -> dict[str, Any]:
    totals = np.zeros(3, dtype=np.int64)
    for clip, events in zip(clips, predicted, strict=True):
        if keep(clip):
            totals += _match(list(events), list(clip.events), kind_sensitive)
    return event_counts(*(int(v) for v in totals))


def _recall(truth: np.ndarray, predicted: np.ndarray, cls: int) -> float | None:
    chosen = truth == cls
    return float((predicted[chosen] == cls).mean()) if chosen.any() else None


def frame_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """Binary (normal vs defect) and 3-class balanced accuracy over all frames."""
    binary_truth, binary_pred = (truth > 0).astype(np.int8), (predicted > 0).astype(np.int8)
    binary = {
        name: _recall(binary_truth, binary_pred, i) for i, name in enumerate(("normal", "defect"))
    }
    per_class = {name: _recall(truth, predicted, i) for i, name in enumerate(CLASSES)}
    present = [v for v in binary.values() if v is not None]
    present3 = [v for v in per_class.values() if v is not None]
    return {
        "bal_acc": float(np.mean(present)) if present else None,
        "recall": binary,
        "bal_acc_3class": float(np.mean(present3)) if present3 else None,
        "recall_3class": per_class,
        "frames": int(len(truth)),
    }


def false_events(
    clips: Sequence[ClipTruth], predicted: Sequence[list[dict[str, Any]]], keep: Callable
) -> dict[str, Any]:
    chosen = [(c, p) for c, p in zip(clips, predicted, strict=True) if keep(c)]
    seconds = sum(c.duration_s for c, _ in chosen)
    count = sum(len(p) for _, p in chosen)
    return {
        "clips": len(chosen),
        "hours": seconds / SECONDS_PER_HOUR,
        "false_events": count,
        "false_events_per_hour": count / (seconds / SECONDS_PER_HOUR) if seconds else None,
        "clips_with_false_events": sum(1 for _, p in chosen if p),
    }


def score(
    clips: Sequence[ClipTruth],
    predicted: Sequence[list[dict[str, Any]]],
    predicted_frames: Sequence[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Every number of one contestant on ``clips`` (``predicted[i]`` are the events of clip i)."""
    if len(clips) != len(predicted):
        raise ValueError(f"{len(clips)} clips but {len(predicted)} prediction lists")
    if predicted_frames is None:
        predicted_frames = [
            frames_from_events(p, c.fps, c.n_frames) for c, p in zip(clips, predicted, strict=True)
        ]
    for clip, frames in zip(clips, predicted_frames, strict=True):
        if len(frames) != clip.n_frames:
            raise ValueError(
                f"{clip.name}: {len(frames)} predicted frames, {clip.n_frames} labelled"
            )
    is_clean = lambda clip: clip.label == "clean"  # noqa: E731
    result: dict[str, Any] = {
        "clips": len(clips),
        "events": _summed(clips, predicted, lambda clip: True),
        "events_kind_sensitive": _summed(clips, predicted, lambda clip: True, kind_sensitive=True),
        "freeze_only": _summed(clips, predicted, lambda c: c.label in ("clean", "freeze")),
        "stutter_only": _summed(clips, predicted, lambda c: c.label in ("clean", "stutter")),
        "frames": frame_scores(
            np.concatenate([c.labels for c in clips]).astype(np.int8),
            np.concatenate([np.asarray(f) for f in predicted_frames]).astype(np.int8),
        ),
        "clean": false_events(clips, predicted, is_clean),
        "clean_plain": false_events(
            clips, predicted, lambda c: is_clean(c) and not c.hard_negative
        ),
        "hard_negatives": false_events(clips, predicted, lambda c: is_clean(c) and c.hard_negative),
        "per_group": {},
        "per_severity": {},
    }
    for group in sorted({c.group for c in clips}):
        in_group = lambda clip, group=group: clip.group == group  # noqa: E731
        if any(is_clean(c) for c in clips if c.group == group):
            result["per_group"][group] = false_events(clips, predicted, in_group)
        else:
            result["per_group"][group] = {
                "clips": sum(1 for c in clips if c.group == group),
                **_summed(clips, predicted, in_group),
            }
    for severity in sorted({c.severity for c in clips if c.label != "clean"}):
        result["per_severity"][str(severity)] = _summed(
            clips, predicted, lambda c, s=severity: c.label != "clean" and c.severity == s
        )
    return result


@dataclass
class Headline:
    """The README columns of one contestant."""

    event_f1: float | None
    event_precision: float | None
    event_recall: float | None
    freeze_f1: float | None
    stutter_f1: float | None
    frame_bal_acc: float | None
    frame_bal_acc_3class: float | None
    false_events_per_hour_clean: float | None

    @classmethod
    def of(cls, scores: dict[str, Any]) -> Headline:
        return cls(
            event_f1=scores["events"]["f1"],
            event_precision=scores["events"]["precision"],
            event_recall=scores["events"]["recall"],
            freeze_f1=scores["freeze_only"]["f1"],
            stutter_f1=scores["stutter_only"]["f1"],
            frame_bal_acc=scores["frames"]["bal_acc"],
            frame_bal_acc_3class=scores["frames"]["bal_acc_3class"],
            false_events_per_hour_clean=scores["clean"]["false_events_per_hour"],
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def table(rows: dict[str, dict[str, Any]], title: str) -> str:
    """One line per contestant: the headline columns."""
    columns = (
        ("event_f1", "ev F1"), ("event_precision", "ev P"), ("event_recall", "ev R"),
        ("freeze_f1", "frz F1"), ("stutter_f1", "stu F1"), ("frame_bal_acc", "fr BA"),
        ("frame_bal_acc_3class", "fr BA3"), ("false_events_per_hour_clean", "FE/h clean"),
    )  # fmt: skip
    lines = [title, f"{'':<22}" + "".join(f"{label:>11}" for _, label in columns)]
    for name, row in rows.items():
        cells = []
        for key, _ in columns:
            value = row.get(key)
            cells.append(f"{'-':>11}" if value is None else f"{value:>11.3f}")
        lines.append(f"{name:<22}" + "".join(cells))
    return "\n".join(lines)
