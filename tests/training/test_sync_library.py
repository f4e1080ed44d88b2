"""training.sync (offset, verdicts, metrics) and the lip-opening baseline on synthetic data."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from training.baselines.lip_opening import baseline_distances
from training.sync.metrics import ScoredFragment, roc_auc, sync_report
from training.sync.offsets import embedding_distances, estimate_offset
from training.sync.verdicts import (
    TrackVerdict,
    ValRecord,
    VerdictThresholds,
    aggregate_tracks,
    tune_thresholds,
)

C = 15


def _track(offset: int, confidence: float, thresholds: VerdictThresholds) -> TrackVerdict:
    from training.sync.verdicts import judge_curve

    verdict = judge_curve(offset, confidence, thresholds)
    return TrackVerdict(offset, offset * 40, confidence, verdict, ())


@pytest.mark.parametrize("late", [-7, 0, 4, 12])
def test_embedding_offset_sign(late: int) -> None:
    """Audio delayed by k frames (what matches video t sits at t + k) -> offset +k."""
    rng = np.random.default_rng(0)
    video = rng.normal(size=(60, 16))
    audio = rng.normal(size=(60 + 2 * C, 16))
    audio[np.arange(60) + late + C] = video
    estimate = estimate_offset(embedding_distances(video, audio, C))
    assert estimate.offset_frames == late
    assert estimate.confidence > 0.5


def test_flat_curve_has_zero_confidence_and_offset() -> None:
    estimate = estimate_offset(np.ones((10, 31)))
    assert estimate.offset_frames == 0 and estimate.confidence == 0.0
    with pytest.raises(ValueError, match="NaN"):
        estimate_offset(np.full((3, 31), np.nan))


def test_fragment_rules() -> None:
    th = VerdictThresholds(min_confidence=1.0, tie_margin=0.2)
    speaker, listener = _track(5, 3.0, th), _track(0, 0.5, th)
    decided = aggregate_tracks([listener, speaker], th)
    assert decided.verdict == "out_of_sync" and decided.decided_by == 1
    tie = aggregate_tracks([_track(5, 3.0, th), _track(0, 2.9, th)], th)
    assert tie.verdict == "inconclusive" and tie.reason == "tie"
    assert aggregate_tracks([], th).reason == "no_track"


def test_tuning_separates_evidence_from_none() -> None:
    records = [ValRecord(((0, 2.0),), 0.0), ValRecord(((8, 2.5),), 320.0)]
    records += [ValRecord(((3, 0.3),), None), ValRecord(((-9, 0.4),), None)]
    chosen = tune_thresholds(records)
    assert 0.4 < chosen["min_confidence"] < 2.0
    assert chosen["objective"] == pytest.approx(1.0)


def test_report_counts_inconclusive_as_wrong() -> None:
    fragments = [
        ScoredFragment("in_sync", 0, 2.0, 0.0),
        ScoredFragment("inconclusive", 0, 0.1, 0.0),
        ScoredFragment("out_of_sync", 8, 2.0, 320.0),
        ScoredFragment("out_of_sync", 2, 2.0, 80.0),  # borderline: kept out
        ScoredFragment("inconclusive", None, 0.0, None, "no_face"),
    ]
    report = sync_report(fragments)
    assert report["bal_acc"] == pytest.approx(0.75)
    assert report["offset_acc"] == 1.0
    assert report["borderline"]["count"] == 1
    assert report["no_evidence_inconclusive"]["no_face"] == 1.0
    assert roc_auc([1, 2, 3, 4], [False, False, True, True]) == 1.0


def _speaking_disc(late: int, frames: int = 100, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A face crop whose dark mouth disc follows a syllable envelope; audio late by ``late``."""
    rng = np.random.default_rng(seed)
    total = frames + 2 * C + 40
    envelope = np.clip(np.convolve(rng.random(total) > 0.6, np.ones(3) / 3, "same"), 0, 1)
    faces = np.full((frames, 96, 96, 3), 180, np.uint8)
    for t in range(frames):
        radius = int(2 + 10 * envelope[t + C + 20])
        cv2.ellipse(faces[t], (48, 75), (14, radius), 0, 0, 360, (40, 20, 20), -1)
    noise = rng.normal(size=total * 640) * np.repeat(envelope, 640)
    start = (20 - late) * 640  # audio row frame j is heard at picture frame j - C
    audio = noise[start : start + (frames + 2 * C) * 640]
    return faces, audio


@pytest.mark.parametrize("late", [-9, 0, 6])
def test_baseline_finds_the_shift_with_its_sign(late: int) -> None:
    """The pixel measure on a drawn mouth (FaceMesh sees no face there; landmark tests live in
    tests/baselines/test_lip_opening.py)."""
    faces, audio = _speaking_disc(late)
    estimate = estimate_offset(baseline_distances(faces, audio, C, measure="pixels"))
    assert estimate.offset_frames == late
    assert estimate.confidence > 0.3


def test_baseline_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="faces"):
        baseline_distances(np.zeros((5, 64, 64, 3), np.uint8), np.zeros(35 * 640), C)
