"""Clicks: the annotation says exactly where the events are, at the level it says."""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.audio.clicks import ABSOLUTE_PEAK_DBFS, FAMILIES, MIN_GAP

SR = 32000


def _onsets_in(diff: np.ndarray) -> np.ndarray:
    """Starts of the runs of changed samples, runs closer than MIN_GAP merged."""
    changed = np.flatnonzero(diff != 0)
    if changed.size == 0:
        return changed
    starts = np.concatenate([[True], np.diff(changed) > MIN_GAP])
    return changed[starts]


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_annotated_onsets_are_the_spikes_in_the_difference(
    family: str, severity: int, make_content
) -> None:
    x = make_content(SR, seed=severity)
    impairment = impairments.get("clicks", severity=severity, families=(family,))
    for seed in range(4):
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        diff = out.astype(np.float64) - x
        found = _onsets_in(diff)
        positions = np.asarray(annotation.positions)
        assert annotation.params["family"] == family
        assert len(positions) == annotation.params["n_events"] >= 1
        assert len(found) == len(positions)
        assert np.all(np.abs(found - positions) <= 2)
        # Nothing changes outside the annotated intervals.
        inside = np.zeros(len(x), dtype=bool)
        for start, end in annotation.intervals:
            inside[start:end] = True
        assert not np.any(diff[~inside])


@pytest.mark.parametrize("family", FAMILIES)
def test_event_peaks_have_the_recorded_amplitude(family: str, make_content) -> None:
    x = make_content(SR)
    out, annotation = impairments.get("clicks", severity=3, families=(family,))(
        x, sample_rate=SR, seed=5
    )
    params = annotation.params
    assert params["reference"] == "content_peak" and params["clipped_samples"] == 0
    reference = float(np.max(np.abs(x)))
    np.testing.assert_allclose(params["reference_peak_db"], 20 * np.log10(reference), atol=1e-6)
    expected = reference * 10 ** (np.asarray(params["amplitudes_db"]) / 20)
    onsets = np.asarray(annotation.positions)
    measured = np.abs(out[onsets].astype(np.float64) - x[onsets])
    np.testing.assert_allclose(measured, expected, rtol=1e-4, atol=1e-6)
    # Every sample of an event stays at or below its onset peak.
    diff = np.abs(out.astype(np.float64) - x)
    for (start, end), peak in zip(annotation.intervals, measured, strict=True):
        assert diff[start:end].max() <= peak * (1 + 1e-4) + 1e-6


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_amplitudes_and_rate_come_from_the_severity_ranges(severity: int, make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("clicks", severity=severity, families=("spike", "burst"))
    low_db, high_db = impairment.ranges["amplitude_db"]
    low_rate, high_rate = impairment.ranges["rate_hz"]
    counts, rates = [], []
    for seed in range(30):
        params = impairment(x, sample_rate=SR, seed=seed)[1].params
        assert params["amplitude_db_range"] == [low_db, high_db]
        assert all(low_db - 1e-3 <= a <= high_db + 1e-3 for a in params["amplitudes_db"])
        assert low_rate <= params["rate_hz"] <= high_rate
        counts.append(params["n_events"])
        rates.append(params["rate_hz"])
    # Counts are Poisson around rate x duration (1 s), at least one.
    assert min(counts) >= 1
    assert abs(np.mean(counts) - np.mean(rates)) < 0.35 * np.mean(rates) + 1


def test_crackle_comes_in_clusters(make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("clicks", severity=4, families=("crackle",), rate_hz=(10, 10))
    annotation = impairment(x, sample_rate=SR, seed=3)[1]
    params, positions = annotation.params, np.asarray(annotation.positions)
    assert params["n_events"] >= 3 * params["n_clusters"]
    gaps = np.diff(positions)
    # Within a cluster impulses are milliseconds apart; clusters are ~100 ms apart at 10 Hz.
    assert np.median(gaps) < 0.01 * SR
    assert np.sum(gaps > 0.03 * SR) <= params["n_clusters"]


def test_silence_uses_the_absolute_reference() -> None:
    silence = np.zeros(SR, dtype=np.float32)
    out, annotation = impairments.get("clicks", severity=5, families=("spike",))(
        silence, sample_rate=SR, seed=1
    )
    params = annotation.params
    assert params["reference"] == "absolute"
    assert params["reference_peak_db"] == pytest.approx(ABSOLUTE_PEAK_DBFS)
    expected = 10 ** ((ABSOLUTE_PEAK_DBFS + np.asarray(params["amplitudes_db"])) / 20)
    np.testing.assert_allclose(np.abs(out[annotation.positions]), expected, rtol=1e-5)
    assert np.count_nonzero(out) == len(annotation.positions)


def test_same_events_on_every_channel(make_content) -> None:
    x = make_content(SR, channels=2)
    out, annotation = impairments.get("clicks", severity=4)(x, sample_rate=SR, seed=4)
    diff = out.astype(np.float64) - x
    np.testing.assert_allclose(diff[0], diff[1], atol=1e-6)
    assert np.all(diff[:, annotation.positions] != 0)


def test_clicks_on_full_scale_content_clip_and_say_so(make_content) -> None:
    x = make_content(SR)
    x = (x / np.max(np.abs(x))).astype(np.float32)
    out, annotation = impairments.get("clicks", severity=5, families=("burst",), rate_hz=(40, 40))(
        x, sample_rate=SR, seed=0
    )
    assert np.max(np.abs(out)) <= 1.0
    clipped = annotation.params["clipped_samples"]
    assert clipped > 0
    assert np.count_nonzero(np.abs(out) == 1.0) >= clipped


@pytest.mark.parametrize("sample_rate", [8000, 96000])
def test_events_fit_and_stay_separate_at_any_rate(sample_rate: int, make_content) -> None:
    x = make_content(sample_rate, seconds=0.25)
    for family in FAMILIES:
        annotation = impairments.get("clicks", severity=5, families=(family,))(
            x, sample_rate=sample_rate, seed=7
        )[1]
        intervals = np.asarray(annotation.intervals)
        assert np.all(intervals[:, 0] < intervals[:, 1]) and intervals[-1, 1] <= len(x)
        assert np.all(intervals[1:, 0] - intervals[:-1, 1] >= MIN_GAP)
        if family == "burst":  # few-millisecond bursts
            lengths_ms = (intervals[:, 1] - intervals[:, 0]) / sample_rate * 1000
            assert np.all(lengths_ms <= 6.0)


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="clicks"):
        impairments.get("clicks", families=("pop",))
    with pytest.raises(ValueError, match="clicks"):
        impairments.get("clicks", families=())
