"""In sync / out of sync / inconclusive: per track, per fragment (window) and per file.

- **Track**: confidence below ``min_confidence`` -> inconclusive (no sync evidence: the curve is
  flat); else |offset| <= ``in_sync_frames`` -> in sync; else out of sync.
- **Fragment**: inconclusive tracks never vote (a listener, a still photo or a presenter under a
  dubbed voice-over shows a face but gives no evidence, and must not outvote the speaker); the
  most confident conclusive track decides, unless a conclusive track with the other verdict is
  within ``tie_margin`` of its confidence (a tie: two faces disagree and neither is clearly the
  speaker) or no track is conclusive (or there is none): then inconclusive.
- **File**: a confidence-weighted vote of the conclusive windows (a long programme is judged by
  the evidence it has; a few silent windows do not make it inconclusive); the offset is the
  median of the winning windows' offsets.

``min_confidence`` is in the units of the distances (a SyncNet's cosine distances and the
lip-opening baseline's correlations differ), so it is chosen on validation data with
:func:`tune_thresholds`; ``tie_margin`` is chosen with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from impairments.av.labels import SyncBands, sync_label
from training.sync.offsets import FRAME_MS, estimate_offset

Verdict = Literal["in_sync", "out_of_sync", "inconclusive"]
VERDICTS: tuple[str, ...] = ("in_sync", "out_of_sync", "inconclusive")
FPS = 25


@dataclass(frozen=True)
class VerdictThresholds:
    """``min_confidence``: below it a track is inconclusive; ``tie_margin``: two conclusive tracks
    that disagree within this confidence margin make the fragment inconclusive."""

    min_confidence: float
    tie_margin: float = 0.0
    in_sync_frames: float = SyncBands().in_sync_frames

    def __post_init__(self) -> None:
        if not np.isfinite(self.min_confidence):
            raise ValueError(f"min_confidence must be finite, got {self.min_confidence}")
        if self.tie_margin < 0 or self.in_sync_frames < 0:
            raise ValueError(
                f"tie_margin and in_sync_frames must be >= 0, got {self.tie_margin} and "
                f"{self.in_sync_frames}"
            )


@dataclass(frozen=True)
class TrackVerdict:
    """One face track's offset estimate and verdict; ``curve`` = the 31 fragment-averaged
    distances (offset -15..+15 frames), kept for plots and reports."""

    offset_frames: int
    offset_ms: int
    confidence: float
    verdict: Verdict
    curve: tuple[float, ...] = field(repr=False)


def judge_curve(offset_frames: int, confidence: float, thresholds: VerdictThresholds) -> Verdict:
    """The per-track rule on an estimate already made."""
    if not confidence >= thresholds.min_confidence:  # NaN confidence is no evidence either
        return "inconclusive"
    return "in_sync" if abs(offset_frames) <= thresholds.in_sync_frames + 1e-9 else "out_of_sync"


def judge_track(distances: np.ndarray, thresholds: VerdictThresholds) -> TrackVerdict:
    """A track's (T, 31) distance matrix (or its averaged curve) -> its verdict."""
    estimate = estimate_offset(distances)
    verdict = judge_curve(estimate.offset_frames, estimate.confidence, thresholds)
    return TrackVerdict(
        offset_frames=estimate.offset_frames,
        offset_ms=estimate.offset_ms,
        confidence=estimate.confidence,
        verdict=verdict,
        curve=tuple(float(v) for v in estimate.curve),
    )


@dataclass(frozen=True)
class FragmentVerdict:
    """A fragment's verdict over its tracks.

    ``decided_by``: index of the deciding track (None when inconclusive); ``offset_frames`` /
    ``offset_ms``: the deciding track's (None when inconclusive); ``confidence``: the deciding
    track's, or the highest of any track when inconclusive (0 with no track); ``reason``:
    ``decided`` | ``no_track`` | ``no_evidence`` | ``tie``.
    """

    verdict: Verdict
    offset_frames: int | None
    offset_ms: int | None
    confidence: float
    decided_by: int | None
    reason: str


def aggregate_tracks(
    tracks: Sequence[TrackVerdict], thresholds: VerdictThresholds
) -> FragmentVerdict:
    """The most confident conclusive track decides, unless a disagreeing one ties with it."""
    if not tracks:
        return FragmentVerdict("inconclusive", None, None, 0.0, None, "no_track")
    conclusive = [i for i, t in enumerate(tracks) if t.verdict != "inconclusive"]
    if not conclusive:
        best = max(t.confidence for t in tracks)
        return FragmentVerdict("inconclusive", None, None, float(best), None, "no_evidence")
    top = max(conclusive, key=lambda i: tracks[i].confidence)
    leader = tracks[top]
    for index in conclusive:
        other = tracks[index]
        if (
            other.verdict != leader.verdict
            and leader.confidence - other.confidence <= thresholds.tie_margin
        ):
            return FragmentVerdict("inconclusive", None, None, leader.confidence, None, "tie")
    return FragmentVerdict(
        leader.verdict, leader.offset_frames, leader.offset_ms, leader.confidence, top, "decided"
    )


@dataclass(frozen=True)
class FileVerdict:
    """A whole file's verdict from its windows; ``offset_ms`` None when inconclusive."""

    verdict: Verdict
    offset_ms: int | None
    confidence: float


def aggregate_windows(windows: Sequence[FragmentVerdict]) -> FileVerdict:
    """Confidence-weighted majority of the conclusive windows; an exact tie is inconclusive.

    ``offset_ms`` is the median offset of the windows that voted for the winner (rounded to the
    frame grid), ``confidence`` the median of their confidences: the figure a user reads next to
    one window's.
    """
    votes = {"in_sync": 0.0, "out_of_sync": 0.0}
    for window in windows:
        if window.verdict != "inconclusive":
            votes[window.verdict] += max(window.confidence, 0.0)
    conclusive = [w for w in windows if w.verdict != "inconclusive"]
    if not conclusive:
        best = max((w.confidence for w in windows), default=0.0)
        return FileVerdict("inconclusive", None, float(best))
    if votes["in_sync"] == votes["out_of_sync"]:
        counts = {v: sum(w.verdict == v for w in conclusive) for v in votes}
        if counts["in_sync"] == counts["out_of_sync"]:
            return FileVerdict("inconclusive", None, float(max(w.confidence for w in conclusive)))
        winner = max(counts, key=counts.__getitem__)
    else:
        winner = max(votes, key=votes.__getitem__)
    voters = [w for w in conclusive if w.verdict == winner]
    frames = float(np.median([w.offset_frames for w in voters]))
    return FileVerdict(
        winner,  # type: ignore[arg-type]
        int(round(frames)) * FRAME_MS,
        float(np.median([w.confidence for w in voters])),
    )


@dataclass(frozen=True)
class JudgedTrack:
    """A track as a report shows it: which face (id, time span, median box x, y, w, h) and its
    verdict."""

    id: int
    start_s: float
    end_s: float
    box: tuple[float, float, float, float]
    result: TrackVerdict

    def to_json(self) -> dict[str, Any]:
        return {
            "id": int(self.id),
            "start": round(float(self.start_s), 3),
            "end": round(float(self.end_s), 3),
            "box": [round(float(v), 1) for v in self.box],
            "offset_ms": int(self.result.offset_ms),
            "confidence": round(float(self.result.confidence), 4),
            "verdict": self.result.verdict,
        }


@dataclass(frozen=True)
class WindowReport:
    """One window of a file: its span, its tracks and their aggregate."""

    start_s: float
    end_s: float
    tracks: tuple[JudgedTrack, ...]
    verdict: FragmentVerdict

    def to_json(self) -> dict[str, Any]:
        return {
            "start": round(float(self.start_s), 3),
            "end": round(float(self.end_s), 3),
            "verdict": self.verdict.verdict,
            "offset_ms": self.verdict.offset_ms,
            "confidence": round(float(self.verdict.confidence), 4),
            "tracks": [track.to_json() for track in self.tracks],
        }


def judge_window(
    start_s: float, end_s: float, tracks: Sequence[JudgedTrack], thresholds: VerdictThresholds
) -> WindowReport:
    return WindowReport(
        start_s, end_s, tuple(tracks), aggregate_tracks([t.result for t in tracks], thresholds)
    )


def to_json(windows: Sequence[WindowReport]) -> dict[str, Any]:
    """The ``detect.py`` report of one file (issue 7, item 6)."""
    overall = aggregate_windows([w.verdict for w in windows])
    return {
        "verdict": overall.verdict,
        "offset_ms": overall.offset_ms,
        "confidence": round(float(overall.confidence), 4),
        "windows": [window.to_json() for window in windows],
    }


# -- threshold tuning on validation records ------------------------------------------------------


@dataclass(frozen=True)
class ValRecord:
    """One validation fragment: its tracks' estimates and what is true.

    ``tracks``: (offset_frames, confidence) per face track (their curves reduced with
    :func:`training.sync.offsets.estimate_offset`); ``true_offset_ms``: the applied offset, or
    None when the fragment holds no sync evidence (unrelated audio, a face that does not speak).
    """

    tracks: tuple[tuple[int, float], ...]
    true_offset_ms: float | None


def _fragment_verdict(record: ValRecord, thresholds: VerdictThresholds) -> Verdict:
    tracks = [
        TrackVerdict(o, o * FRAME_MS, c, judge_curve(o, c, thresholds), ())
        for o, c in record.tracks
    ]
    return aggregate_tracks(tracks, thresholds).verdict


def tuning_objective(
    records: Sequence[ValRecord], thresholds: VerdictThresholds, bands: SyncBands | None = None
) -> dict[str, float | None]:
    """Verdict balanced accuracy (in vs out; inconclusive is wrong; borderline left out), the
    share of no-evidence records called inconclusive, and their mean (the objective; BA alone
    when no no-evidence record is given)."""
    hits: dict[str, list[bool]] = {"in_sync": [], "out_of_sync": []}
    unrelated: list[bool] = []
    for record in records:
        verdict = _fragment_verdict(record, thresholds)
        if record.true_offset_ms is None:
            unrelated.append(verdict == "inconclusive")
            continue
        label = sync_label(record.true_offset_ms, FPS, bands)
        if label in hits:
            hits[label].append(verdict == label)
    recalls = [float(np.mean(v)) for v in hits.values() if v]
    balanced = float(np.mean(recalls)) if recalls else None
    share = float(np.mean(unrelated)) if unrelated else None
    parts = [v for v in (balanced, share) if v is not None]
    return {
        "bal_acc": balanced,
        "unrelated_inconclusive": share,
        "objective": float(np.mean(parts)) if parts else 0.0,
    }


def tune_thresholds(
    records: Sequence[ValRecord],
    tie_margins: Sequence[float] = (0.0, 0.1, 0.25, 0.5),
    bands: SyncBands | None = None,
    max_candidates: int = 200,
) -> dict[str, Any]:
    """Choose ``min_confidence`` (and ``tie_margin``) that maximise :func:`tuning_objective`.

    Candidates for ``min_confidence`` are 0 and the midpoints between consecutive observed
    track confidences (every distinct decision the data allow; at most ``max_candidates``
    quantiles of them on large sets); ``tie_margins`` are fractions
    of the chosen ``min_confidence``, so they keep their meaning whatever the distance scale.
    Among equal objectives the lowest ``min_confidence`` and then the smallest margin win (the
    fewest inconclusive calls). Returns ``{"min_confidence", "tie_margin", "objective",
    "bal_acc", "unrelated_inconclusive", "records"}``.
    """
    if not records:
        raise ValueError("tune_thresholds: no validation records")
    confidences = np.unique([c for r in records for _, c in r.tracks if np.isfinite(c)])
    if len(confidences) > max_candidates:  # quantiles keep the search linear in the records
        confidences = np.unique(np.quantile(confidences, np.linspace(0, 1, max_candidates)))
    candidates = {0.0}
    if len(confidences):
        candidates |= {float(v) for v in (confidences[1:] + confidences[:-1]) / 2}
        candidates.add(float(confidences[-1]) * (1 + 1e-9) + 1e-12)  # everything inconclusive
    best: dict[str, Any] | None = None
    for min_confidence in sorted(candidates):
        for fraction in tie_margins:
            margin = abs(min_confidence) * float(fraction)
            thresholds = VerdictThresholds(min_confidence=min_confidence, tie_margin=margin)
            score = tuning_objective(records, thresholds, bands)
            if best is None or score["objective"] > best["objective"] + 1e-12:
                best = {"min_confidence": min_confidence, "tie_margin": margin, **score}
    assert best is not None
    best["records"] = len(records)
    return best
