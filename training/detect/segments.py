"""Cut a whole track into fixed-length segments, score them in large batches, summarise.

Segments start every ``hop`` samples; the last one is aligned to the end of the track rather than
zero-padded (padding would be silence the model never saw in that position), so every sample is
covered by real audio. Tracks shorter than one segment are zero-padded once.

Summary seconds: each segment owns the time from its start to the next segment's start (the last
owns up to the end), so with overlapping segments nothing is counted twice and the per-class
seconds add up to the track's duration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def segment_starts(n_samples: int, segment: int, hop: int) -> np.ndarray:
    if segment <= 0 or hop <= 0:
        raise ValueError(f"segment and hop must be positive, got {segment}, {hop}")
    if n_samples <= segment:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_samples - segment + 1, hop, dtype=np.int64)
    if starts[-1] + segment < n_samples:
        starts = np.append(starts, n_samples - segment)
    return starts


def score_segments(
    waveform: np.ndarray,
    model: Callable[[np.ndarray], np.ndarray],
    segment: int,
    hop: int,
    batch_size: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, probabilities (n_segments, classes))`` for a mono float32 waveform."""
    waveform = np.ascontiguousarray(waveform, dtype=np.float32)
    if waveform.shape[0] < segment:
        waveform = np.pad(waveform, (0, segment - waveform.shape[0]))
    starts = segment_starts(waveform.shape[0], segment, hop)
    windows = np.lib.stride_tricks.sliding_window_view(waveform, segment)
    contiguous = hop == segment and starts[-1] == (len(starts) - 1) * hop
    outputs = []
    for first in range(0, len(starts), batch_size):
        chunk = starts[first : first + batch_size]
        if contiguous:  # a plain reshape of the track: no copy
            batch = waveform[chunk[0] : chunk[-1] + segment].reshape(len(chunk), segment)
        else:
            batch = windows[chunk]
        outputs.append(model(batch))
    return starts, np.concatenate(outputs, axis=0)


def summarise(
    starts_s: np.ndarray, labels: Sequence[str], duration_s: float, classes: Sequence[str]
) -> dict[str, float]:
    owned_until = np.append(starts_s[1:], max(duration_s, float(starts_s[-1])))
    seconds = dict.fromkeys(classes, 0.0)
    for start, end, label in zip(starts_s, owned_until, labels, strict=True):
        seconds[label] += max(0.0, float(end) - float(start))
    return {name: round(value, 3) for name, value in seconds.items()}


def segment_report(
    waveform: np.ndarray,
    model: Any,
    hop_s: float,
    batch_size: int,
) -> dict[str, Any]:
    """Segments and summary for one mono track, using ``model``'s card for rate and classes."""
    rate, segment, classes = model.sample_rate, model.segment_samples, model.classes
    hop = max(1, int(round(hop_s * rate)))
    starts, probabilities = score_segments(waveform, model, segment, hop, batch_size)
    duration_s = waveform.shape[0] / rate
    starts_s = starts / rate
    best = probabilities.argmax(axis=1)
    labels = [classes[i] for i in best]
    segments = [
        {
            "start": round(float(start), 3),
            "end": round(min(float(start) + segment / rate, max(duration_s, segment / rate)), 3),
            "label": label,
            "scores": {name: round(float(p), 5) for name, p in zip(classes, row, strict=True)},
        }
        for start, label, row in zip(starts_s, labels, probabilities, strict=True)
    ]
    if duration_s < segment / rate and segments:
        segments[0]["end"] = round(duration_s, 3)
    return {
        "duration_s": round(duration_s, 3),
        "segment_s": segment / rate,
        "hop_s": hop / rate,
        "segments": segments,
        "summary": summarise(starts_s, labels, duration_s, classes),
    }
