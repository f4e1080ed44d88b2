"""Clicks: short impulsive events added on top of the content.

Three families cover the clicks met in practice, because a detector that has only seen one shape
learns the shape instead of the defect:

- ``spike``: single-sample spikes, as left by digital dropouts and bit errors;
- ``burst``: a few milliseconds of exponentially decaying energy with a sharp attack, either shaped
  noise (scratches, switch clicks) or a damped sinusoid (an impulse ringing through a resonance);
- ``crackle``: clusters of tiny impulses a few milliseconds apart, as on worn vinyl.

Every event starts at its own peak, and events never overlap and keep a few untouched samples
between them, so the annotated onsets can be recovered exactly from ``impaired - clean``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from impairments.base import Annotation, Impairment, db_to_gain, gain_to_db
from impairments.registry import register

FAMILIES = ("spike", "burst", "crackle")
BURST_SHAPES = ("noise", "ringing")
# Reference peak on (near-)silence: clicks are relative to the content peak, but a click in a
# silent passage is still a click, so the reference never drops below this absolute level.
ABSOLUTE_PEAK_DBFS = -30.0
# Untouched samples between two events: keeps every onset visible in the difference signal.
MIN_GAP = 4
# Decay to -60 dB (ln 1000 time constants) before an event ends.
DECAY_TIME_CONSTANTS = float(np.log(1000.0))
BURST_TAU_MS = (0.15, 0.8)
CRACKLE_IMPULSE_MS = (0.03, 0.15)
CRACKLE_CLUSTER_MS = (3.0, 25.0)
CRACKLE_IMPULSES = (3, 12)
CRACKLE_SPREAD_DB = 12.0  # impulses in a cluster fall up to this far below the cluster's peak

_RANGES = {
    1: {"rate_hz": (1.0, 3.0), "amplitude_db": (-24.0, -16.0)},
    2: {"rate_hz": (2.0, 6.0), "amplitude_db": (-18.0, -10.0)},
    3: {"rate_hz": (4.0, 12.0), "amplitude_db": (-12.0, -6.0)},
    4: {"rate_hz": (8.0, 24.0), "amplitude_db": (-8.0, -3.0)},
    5: {"rate_hz": (16.0, 48.0), "amplitude_db": (-4.0, 0.0)},
}


def _jittered_starts(
    rng: np.random.Generator, origins: np.ndarray, widths: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Place one event per slot ``[origin, origin + width)`` at a random offset.

    A jittered grid instead of free uniform positions: it guarantees ``MIN_GAP`` clean samples
    between neighbours without rejection loops, and with full-slot jitter the spacing still
    varies from ``MIN_GAP`` to two slots, which looks random enough to a detector.
    """
    room = np.maximum(widths - lengths - MIN_GAP - 1, 0.0)
    return (origins + np.floor(rng.random(len(origins)) * room)).astype(np.int64)


def _fit_count(span: float | np.ndarray, wanted: np.ndarray | int, longest: int) -> np.ndarray:
    """How many events of up to ``longest`` samples fit in ``span`` with gaps (at least one)."""
    fits = np.floor(np.asarray(span, dtype=np.float64) / (longest + MIN_GAP + 1)).astype(np.int64)
    return np.maximum(1, np.minimum(wanted, fits))


@register
class Clicks(Impairment):
    """Impulsive clicks; ``rate_hz`` is events per second (crackle: clusters per second) and
    ``amplitude_db`` the event peak relative to the content peak."""

    name = "clicks"
    severity_ranges: ClassVar = _RANGES

    def __init__(
        self, severity: int = 3, *, families: Sequence[str] = FAMILIES, **overrides: Any
    ) -> None:
        super().__init__(severity, **overrides)
        self.families = self.subset("families", families, FAMILIES)

    def draw(self, rng: np.random.Generator, n_samples: int, sample_rate: int) -> dict[str, Any]:
        family = self.pick(rng, self.families)
        rate_hz = self.uniform(rng, "rate_hz")
        low_db, high_db = self.ranges["amplitude_db"]
        n = max(int(n_samples), 1)
        wanted = max(1, int(rng.poisson(rate_hz * n / sample_rate)))
        params: dict[str, Any] = {
            "family": family,
            "rate_hz": rate_hz,
            "amplitude_db_range": [low_db, high_db],
        }
        if family == "crackle":
            onsets, lengths, amplitudes_db, n_clusters = self._draw_crackle(
                rng, n, sample_rate, wanted
            )
            params["n_clusters"] = n_clusters
        else:
            if family == "spike":
                lengths = np.ones(wanted, dtype=np.int64)
            else:
                params["burst_shape"] = BURST_SHAPES[int(rng.integers(len(BURST_SHAPES)))]
                tau = rng.uniform(*BURST_TAU_MS, size=wanted) * 1e-3 * sample_rate
                lengths = np.maximum(2, np.ceil(tau * DECAY_TIME_CONSTANTS)).astype(np.int64)
            count = int(_fit_count(n, wanted, int(lengths.max())))
            lengths = lengths[:count]
            width = n / count
            onsets = _jittered_starts(rng, np.arange(count) * width, np.full(count, width), lengths)
            amplitudes_db = rng.uniform(low_db, high_db, size=count)
        polarity = np.where(rng.random(len(onsets)) < 0.5, -1, 1)
        params.update(
            n_events=len(onsets),
            onsets=onsets.tolist(),
            lengths=np.minimum(lengths, n - onsets).tolist(),
            amplitudes_db=np.round(amplitudes_db, 3).tolist(),
            polarity=polarity.tolist(),
        )
        return params

    def _draw_crackle(
        self, rng: np.random.Generator, n: int, sample_rate: int, wanted: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Clusters on a jittered grid, impulses on a jittered grid inside each cluster."""
        low_db, high_db = self.ranges["amplitude_db"]
        longest = max(1, round(CRACKLE_IMPULSE_MS[1] * 1e-3 * sample_rate))
        spans = np.minimum(
            rng.uniform(*CRACKLE_CLUSTER_MS, size=wanted) * 1e-3 * sample_rate, float(n)
        )
        n_clusters = int(_fit_count(n, wanted, int(np.ceil(spans.max()))))
        spans = spans[:n_clusters]
        width = n / n_clusters
        cluster_starts = _jittered_starts(
            rng, np.arange(n_clusters) * width, np.full(n_clusters, width), np.ceil(spans)
        )
        per_cluster = _fit_count(
            spans, rng.integers(CRACKLE_IMPULSES[0], CRACKLE_IMPULSES[1] + 1, n_clusters), longest
        )
        cluster_db = rng.uniform(low_db, high_db, size=n_clusters)
        owner = np.repeat(np.arange(n_clusters), per_cluster)
        slot = np.arange(len(owner)) - np.repeat(np.cumsum(per_cluster) - per_cluster, per_cluster)
        widths = spans[owner] / per_cluster[owner]
        durations = rng.uniform(*CRACKLE_IMPULSE_MS, size=len(owner)) * 1e-3 * sample_rate
        lengths = np.clip(np.round(durations), 1, longest).astype(np.int64)
        onsets = _jittered_starts(rng, cluster_starts[owner] + slot * widths, widths, lengths)
        amplitudes_db = cluster_db[owner] - rng.uniform(0.0, CRACKLE_SPREAD_DB, size=len(owner))
        return onsets, lengths, amplitudes_db, n_clusters

    def apply(
        self,
        samples: np.ndarray,
        sample_rate: int,
        params: dict[str, Any],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, Annotation]:
        n = samples.shape[1]
        onsets = np.asarray(params["onsets"], dtype=np.int64)
        lengths = np.asarray(params["lengths"], dtype=np.int64)
        content_peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        floor = db_to_gain(ABSOLUTE_PEAK_DBFS)
        reference = max(content_peak, floor)
        gains = (
            reference
            * np.power(10.0, np.asarray(params["amplitudes_db"]) / 20.0)
            * np.asarray(params["polarity"])
        )
        shapes = self._event_shapes(params, lengths, sample_rate, rng)
        offsets = np.arange(shapes.shape[1])
        index = onsets[:, None] + offsets[None, :]
        inside = (offsets[None, :] < lengths[:, None]) & (index < n)
        track = np.bincount(index[inside], weights=(shapes * gains[:, None])[inside], minlength=n)
        out = samples + track[None, :n].astype(np.float32)
        # A click on full-scale content saturates the converter: clip at the content's own range.
        limit = max(1.0, content_peak)
        clipped = int(np.count_nonzero(np.abs(out) > limit))
        if clipped:
            np.clip(out, -limit, limit, out=out)
        details = {k: v for k, v in params.items() if k not in ("onsets", "lengths", "polarity")}
        details.update(
            reference="content_peak" if content_peak >= floor else "absolute",
            reference_peak_db=gain_to_db(reference),
            clipped_samples=clipped,
        )
        annotation = Annotation(
            kind=self.name,
            severity=self.severity,
            params=details,
            intervals=[
                (int(s), int(s + length)) for s, length in zip(onsets, lengths, strict=True)
            ],
            positions=onsets.tolist(),
        )
        return out, annotation

    @staticmethod
    def _event_shapes(
        params: dict[str, Any], lengths: np.ndarray, sample_rate: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Unit-peak event waveforms, one row per event, peak (+1) on the onset sample.

        The exact noise/ringing values are waveform detail, not labels, so they come from ``rng``.
        """
        longest = int(lengths.max()) if len(lengths) else 1
        t = np.arange(longest, dtype=np.float64)[None, :]
        tau = np.maximum(lengths, 1)[:, None] / DECAY_TIME_CONSTANTS
        decay = np.exp(-t / tau)
        if params["family"] == "spike" or longest == 1:
            shapes = np.zeros((len(lengths), longest))
        elif params.get("burst_shape") == "ringing":
            ring_hz = rng.uniform(1000.0, min(8000.0, 0.4 * sample_rate), size=(len(lengths), 1))
            return np.cos(2.0 * np.pi * ring_hz * t / sample_rate) * decay
        else:
            # First difference of white noise: the brighter spectrum of scratches and crackle.
            noise = np.diff(rng.standard_normal((len(lengths), longest + 1)), axis=1) * decay
            noise[:, 0] = 0.0
            peak = np.max(np.abs(noise), axis=1, keepdims=True)
            shapes = 0.8 * noise / np.where(peak > 0, peak, 1.0)
        shapes[:, 0] = 1.0
        return shapes
