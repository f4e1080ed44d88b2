"""Lip-sync scores, shared by the SyncNet detector and the lip-opening baseline.

What is scored is one judged fragment (or track): its verdict, its offset estimate, its
confidence, and the truth: the applied offset on a face that speaks, or no sync evidence at all
(``no_face``: no usable face track; ``unrelated``: a face with audio that is not its own, a
still photo, a listener).

- **Verdict balanced accuracy**: recall of in sync (|offset| <= 1 frame) and of out of sync
  (>= 3 frames), averaged; *inconclusive on a face fragment counts as wrong* (the user gets no
  answer). Borderline (2 frames) fragments are kept out and reported on their own.
- **Offset accuracy**: on out-of-sync face fragments, the estimate within +-1 frame of the truth
  (a fragment with no estimate is wrong).
- **Inconclusive share** on no-face and on unrelated fragments (the right answer there).
- **Confidence ROC-AUC**, two of them, named by what they separate: ``evidence``: face fragments
  (in sync or shifted) against unrelated ones (does confidence mean "there is sync evidence"?);
  ``offset``: face fragments whose offset is right (+-1 frame) against those whose offset is
  wrong (does confidence mean "trust this offset"?).
- Everything also per |offset| bucket (ms): 0-40, 41-119, 120-200, 200-400, 400-600.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import rankdata

from impairments.av.labels import SyncBands, sync_label
from training.sync.offsets import FRAME_MS
from training.sync.verdicts import VERDICTS

Condition = Literal["face", "no_face", "unrelated"]
TRUTH_ROWS: tuple[str, ...] = ("in_sync", "borderline", "out_of_sync", "no_face", "unrelated")
# (name, lowest, highest) in ms of |offset|; a value belongs to the first bucket that holds it.
OFFSET_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0-40", 0.0, 40.0),
    ("41-119", 40.0, 120.0),
    ("120-200", 120.0, 200.0),
    ("200-400", 200.0, 400.0),
    ("400-600", 400.0, 600.0),
    (">600", 600.0, float("inf")),
)


@dataclass(frozen=True)
class ScoredFragment:
    """One judged fragment with its truth (see the module docstring for ``condition``).

    ``offset_frames``: the estimate that would be reported (the deciding track's, or the most
    confident track's when inconclusive); None when there was no track to estimate from.
    """

    verdict: str
    offset_frames: int | None
    confidence: float
    true_offset_ms: float | None
    condition: Condition = "face"

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(
                f"ScoredFragment: verdict must be one of {VERDICTS}, not {self.verdict!r}"
            )
        if (self.condition == "face") != (self.true_offset_ms is not None):
            raise ValueError(
                "ScoredFragment: a face fragment needs true_offset_ms, a no_face/unrelated one "
                f"must have None (got condition={self.condition!r}, true_offset_ms="
                f"{self.true_offset_ms!r})"
            )


def truth_row(fragment: ScoredFragment, fps: float = 25, bands: SyncBands | None = None) -> str:
    """The confusion-matrix row: the sync band of a face fragment, else its condition."""
    if fragment.true_offset_ms is None:
        return fragment.condition
    return sync_label(fragment.true_offset_ms, fps, bands)


def offset_bucket(offset_ms: float) -> str:
    magnitude = abs(float(offset_ms))
    for name, low, high in OFFSET_BUCKETS:
        if magnitude <= high and (magnitude > low or low == 0.0):
            return name
    raise AssertionError("unreachable: the last bucket is unbounded")


def offset_correct(fragment: ScoredFragment, tolerance_frames: int = 1) -> bool:
    """The estimate lies within +-``tolerance_frames`` of the true offset (no estimate: False)."""
    if fragment.offset_frames is None or fragment.true_offset_ms is None:
        return False
    truth_frames = fragment.true_offset_ms / FRAME_MS
    return abs(fragment.offset_frames - truth_frames) <= tolerance_frames + 1e-6


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count half); None without both classes."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(np.nan_to_num(scores, nan=-np.inf))
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _share(values: Sequence[bool]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def verdict_confusion(
    fragments: Sequence[ScoredFragment], fps: float = 25, bands: SyncBands | None = None
) -> dict[str, Any]:
    """Counts with rows = truth (only the rows present) and columns = in/out/inconclusive."""
    rows = [truth_row(f, fps, bands) for f in fragments]
    present = [row for row in TRUTH_ROWS if row in rows]
    counts = [
        [
            sum(r == row and f.verdict == v for r, f in zip(rows, fragments, strict=True))
            for v in VERDICTS
        ]
        for row in present
    ]
    return {"rows_true": present, "cols_predicted": list(VERDICTS), "counts": counts}


def _face_scores(
    fragments: Sequence[ScoredFragment], fps: float, bands: SyncBands | None
) -> dict[str, Any]:
    """Balanced accuracy, recalls, offset accuracy and inconclusive share of face fragments."""
    hits: dict[str, list[bool]] = {"in_sync": [], "out_of_sync": []}
    borderline: list[str] = []
    offsets: list[bool] = []
    for fragment in fragments:
        label = truth_row(fragment, fps, bands)
        if label == "borderline":
            borderline.append(fragment.verdict)
            continue
        hits[label].append(fragment.verdict == label)
        if label == "out_of_sync":
            offsets.append(offset_correct(fragment))
    recall = {name: _share(values) for name, values in hits.items()}
    present = [v for v in recall.values() if v is not None]
    return {
        "bal_acc": float(np.mean(present)) if present else None,
        "recall": recall,
        "class_count": {name: len(values) for name, values in hits.items()},
        "offset_acc": _share(offsets),
        "offset_count": len(offsets),
        "inconclusive": _share([f.verdict == "inconclusive" for f in fragments]),
        "borderline": {
            "count": len(borderline),
            "verdict_share": {v: _share([b == v for b in borderline]) for v in VERDICTS},
        },
    }


def sync_report(
    fragments: Sequence[ScoredFragment], fps: float = 25, bands: SyncBands | None = None
) -> dict[str, Any]:
    """Every score of the module docstring, overall and per |offset| bucket, as plain JSON."""
    face = [f for f in fragments if f.condition == "face"]
    report: dict[str, Any] = _face_scores(face, fps, bands)
    no_evidence = {
        condition: [f.verdict == "inconclusive" for f in fragments if f.condition == condition]
        for condition in ("no_face", "unrelated")
    }
    report["no_evidence_inconclusive"] = {
        "no_face": _share(no_evidence["no_face"]),
        "unrelated": _share(no_evidence["unrelated"]),
        "all": _share(no_evidence["no_face"] + no_evidence["unrelated"]),
        "count": {k: len(v) for k, v in no_evidence.items()},
    }
    unrelated = [f for f in fragments if f.condition == "unrelated"]
    with_estimate = [f for f in face if f.offset_frames is not None]
    report["auc"] = {
        "evidence": roc_auc(
            [f.confidence for f in face + unrelated],
            [f.condition == "face" for f in face + unrelated],
        ),
        "offset": roc_auc(
            [f.confidence for f in with_estimate], [offset_correct(f) for f in with_estimate]
        ),
    }
    report["per_bucket"] = {}
    for name, _, _ in OFFSET_BUCKETS:
        members = [f for f in face if offset_bucket(f.true_offset_ms or 0.0) == name]
        if not members:
            continue
        scores = _face_scores(members, fps, bands)
        report["per_bucket"][name] = {
            "count": len(members),
            "verdict_acc": _share(
                [
                    f.verdict == truth_row(f, fps, bands)
                    for f in members
                    if truth_row(f, fps, bands) != "borderline"
                ]
            ),
            "offset_acc_all": _share([offset_correct(f) for f in members]),
            "inconclusive": scores["inconclusive"],
            "mean_confidence": float(np.mean([f.confidence for f in members])),
        }
    report["confusion"] = verdict_confusion(fragments, fps, bands)
    report["count"] = len(fragments)
    return report
