"""Shared test material for the impairments: real-ish content to impair."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

ContentFactory = Callable[..., np.ndarray]


def real_ish_content(
    sample_rate: int = 32000, seconds: float = 1.0, channels: int = 0, seed: int = 0
) -> np.ndarray:
    """A few sines (some harmonic, some not) plus a noise burst under an attack/decay envelope.

    Not a pure tone: clipping, hum and hiss tests must hold on something with a crest factor and
    a broadband part, the way music and speech have. Peak 0.5, RMS about -15 dBFS. ``channels=0``
    returns mono ``(n,)``; otherwise ``(channels, n)`` with a different mix per channel.
    """
    rng = np.random.default_rng(seed)
    n = max(1, round(sample_rate * seconds))
    t = np.arange(n) / sample_rate
    rows = []
    for _ in range(max(channels, 1)):
        base = rng.uniform(150.0, 600.0)
        freqs = np.concatenate([base * np.arange(1, 4), rng.uniform(700.0, 3500.0, 2)])
        amps = rng.uniform(0.2, 1.0, len(freqs)) / np.arange(1, len(freqs) + 1)
        tone = (
            amps[:, None]
            * np.sin(2 * np.pi * freqs[:, None] * t + rng.uniform(0, 6.3, (len(freqs), 1)))
        ).sum(0)
        onset = rng.uniform(0.1, 0.5) * seconds
        envelope = np.where(t >= onset, np.exp(-(t - onset) / (0.15 * seconds)), 0.0)
        burst = rng.standard_normal(n) * envelope
        mix = tone * (0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)) + 0.8 * burst
        rows.append(0.5 * mix / np.max(np.abs(mix)))
    audio = np.asarray(rows, dtype=np.float32)
    return audio[0] if channels == 0 else audio


@pytest.fixture
def make_content() -> ContentFactory:
    return real_ish_content
