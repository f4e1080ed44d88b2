"""Screening finds defects that "pristine" sources already carry, and leaves music alone."""

from __future__ import annotations

import numpy as np

from impairments.screening import ScreeningSettings, clipped_share, hum_prominence, screen
from tests.conftest import music_like

RATE = 32_000


def with_hum(audio: np.ndarray, mains: int, level_db: float) -> np.ndarray:
    t = np.arange(audio.shape[-1]) / RATE
    rms = np.sqrt(np.mean(audio**2))
    hum = np.sin(2 * np.pi * mains * t) + 0.5 * np.sin(2 * np.pi * 3 * mains * t)
    return (audio + hum * rms * 10 ** (level_db / 20) / np.sqrt(np.mean(hum**2))).astype(np.float32)


def test_real_style_mains_hum_is_flagged_with_its_frequency() -> None:
    clean = music_like(12.0, RATE, seed=1, channels=1)
    for mains in (50, 60):
        result = screen(with_hum(clean, mains, -20), RATE, ScreeningSettings())
        assert result.hum_hz == mains and result.problems, result
    assert screen(clean, RATE, ScreeningSettings()).problems == ()


def test_a_bass_note_near_mains_that_comes_and_goes_is_not_hum() -> None:
    t = np.arange(12 * RATE) / RATE
    gate = (np.floor(t / 4) % 3 == 0).astype(float)  # a low B (61.7 Hz), 4 s in every 12
    bass = 0.3 * gate * np.sin(2 * np.pi * 61.7 * t)
    audio = (music_like(12.0, RATE, seed=2, channels=1) + bass).astype(np.float32)
    assert hum_prominence(audio, RATE)[1] < ScreeningSettings().hum_prominence_db


def test_clipping_is_measured_as_pinned_runs() -> None:
    clean = music_like(4.0, RATE, seed=3, channels=1)
    clipped = np.clip(clean * 4, -0.5, 0.5)
    assert clipped_share(clean) < 0.001 < clipped_share(clipped)
    assert "clipping" in screen(clipped, RATE, ScreeningSettings()).problems[0]


def test_silence_and_short_input_are_clean() -> None:
    assert screen(np.zeros((1, 100), np.float32), RATE, ScreeningSettings()).problems == ()
    assert screen(np.zeros((2, 5 * RATE), np.float32), RATE, ScreeningSettings()).problems == ()
