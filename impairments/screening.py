"""Screening of "pristine" sources for defects they already carry.

Real catalogues are not clean: a speech recording with mains hum, a master that clips. A builder
that trusted them would label such audio "none" and teach the detector that the defect is normal.
Screening measures two cheap, robust signs on the decoded item and the builder excludes (or only
flags, if configured) what fails:

- mains hum: a narrow line at 50/60 Hz or its 2nd harmonic (rectifier hum) standing well above
  the spectrum beside it (Welch spectrum at 0.5 Hz resolution, line peak within +-0.75 Hz vs the
  median 4-15 Hz away), persistently (median over 4 s chunks);
- clipping: the share of samples in runs of >= 3 consecutive samples pinned at the peak level.

Procedural items are clean by construction and are not screened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr


@dataclass(frozen=True)
class ScreeningSettings:
    enabled: bool = True
    exclude: bool = True
    hum_prominence_db: float = 12.0
    clipped_share: float = 0.001


@dataclass(frozen=True)
class ScreeningResult:
    hum_hz: int
    hum_prominence_db: float
    clipped_share: float
    problems: tuple[str, ...]


def hum_prominence(
    audio: np.ndarray, sample_rate: int, harmonics: int = 2, chunk_s: float = 4.0
) -> tuple[int, float]:
    """(mains frequency, dB by which its fundamental or 2nd harmonic stands above its neighbours).

    Higher harmonics are left out on purpose: 150 and 200 Hz sit on musical notes (G3 = 196 Hz
    on a sharp guitar measured 199 Hz), and real hum always shows at 50/60 or 100/120 Hz.

    Measured per ``chunk_s`` chunk and summarised by the median over chunks: mains hum is
    stationary, while a musical note that happens to sit near 60 Hz or 120 Hz comes and goes.
    """
    mono = audio.mean(axis=0) if audio.ndim == 2 else audio
    if mono.size < sample_rate or not np.any(mono):
        return 50, 0.0
    # Everything of interest is below 130 Hz: work on a 1 kHz copy (32x less to transform).
    rate = min(1000, sample_rate)
    low = soxr.resample(mono, sample_rate, rate, quality="LQ") if rate < sample_rate else mono
    window_len = int(2 * rate)  # 0.5 Hz bins
    chunk = max(window_len, min(low.size, int(chunk_s * rate)))
    freqs = np.fft.rfftfreq(window_len, 1 / rate)
    window = np.hanning(window_len)
    lines = [(mains, k * mains) for mains in (50, 60) for k in range(1, harmonics + 1)]
    per_chunk = []
    for start in range(0, low.size - chunk + 1, chunk):
        frames = np.lib.stride_tricks.sliding_window_view(low[start : start + chunk], window_len)
        frames = frames[:: window_len // 2] * window
        level = 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-20)
        row = []
        for _, centre in lines:
            offset = np.abs(freqs - centre)
            side = level[(offset >= 4) & (offset <= 15)]
            row.append(float(level[offset <= 0.75].max() - np.median(side)))
        per_chunk.append(row)
    median = np.median(np.asarray(per_chunk), axis=0)
    best = int(np.argmax(median))
    return lines[best][0], float(median[best])


def clipped_share(audio: np.ndarray, min_run: int = 3) -> float:
    """Share of samples in runs of ``min_run``+ consecutive samples within 0.1% of the peak."""
    if audio.size == 0:
        return 0.0
    peak = float(np.abs(audio).max())
    if peak < 0.05:
        return 0.0
    pinned = np.abs(audio) >= peak * 0.999
    if np.count_nonzero(pinned) < min_run:
        return 0.0
    total = 0
    for channel in np.atleast_2d(pinned):
        edges = np.diff(np.concatenate([[0], channel.astype(np.int8), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        runs = ends - starts
        total += int(runs[runs >= min_run].sum())
    return total / audio.size


def screen(audio: np.ndarray, sample_rate: int, settings: ScreeningSettings) -> ScreeningResult:
    mains, prominence = hum_prominence(audio, sample_rate)
    share = clipped_share(audio)
    problems = []
    if prominence >= settings.hum_prominence_db:
        problems.append(f"mains hum: {mains} Hz line {prominence:.1f} dB above its neighbours")
    if share >= settings.clipped_share:
        problems.append(f"clipping: {100 * share:.2f}% of samples pinned at the peak")
    return ScreeningResult(mains, round(prominence, 2), round(share, 6), tuple(problems))
