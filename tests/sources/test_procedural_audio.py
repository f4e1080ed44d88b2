"""The procedural clean-audio source: contract (shape, dtype, level, purity) and the properties
that make it a useful clean class (varied spectra, no accidental clicks, real hard negatives)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from impairments.sources.procedural_audio import KINDS, describe, generate

RATES = (8000, 16000, 32000, 48000)
SMOOTH_KINDS = ("tonal_music", "chords_pad", "speech_like", "organ_drone")
CLICK_RATIO = 15.0


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30)


def click_ratio(x: np.ndarray, sr: int) -> float:
    """Largest |second difference| relative to the RMS second difference in the +-10 ms around
    it (the sample's own +-1 ms excluded). An isolated step or impulse scores in the tens to
    thousands; tones, voices and noise stay under ~8."""
    d2 = np.diff(x.astype(np.float64), 2)
    energy = np.concatenate([[0.0], np.cumsum(d2 * d2)])
    n = len(d2)
    idx = np.arange(n)
    wide, guard = max(8, int(0.01 * sr)), max(2, int(0.001 * sr))

    def window(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b = np.clip(a, 0, n), np.clip(b, 0, n)
        return energy[b] - energy[a], b - a

    before, n_before = window(idx - wide, idx - guard)
    after, n_after = window(idx + guard + 1, idx + wide + 1)
    local = np.sqrt((before + after) / np.maximum(n_before + n_after, 1))
    floor = 1e-3 * np.sqrt(np.mean(d2 * d2)) + 1e-12
    return float(np.max(np.abs(d2) / (local + floor)))


def _spectrum(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x)))) ** 2
    return np.fft.rfftfreq(len(x), 1 / sr), power


def test_kinds_cover_the_hard_negatives_and_are_described() -> None:
    required = {
        "tonal_music",
        "chords_pad",
        "percussion",
        "drum_groove",
        "speech_like",
        "singing_like",
        "ambience_rain",
        "ambience_wind",
        "fire_crackle",
        "applause",
        "birdsong",
        "organ_drone",
        "bass_line",
        "distorted_guitar_like",
        "compressed_master",
        "lofi_bandlimited",
    }
    assert required <= set(KINDS)
    assert len(set(KINDS)) == len(KINDS)
    about = describe()
    assert list(about) == list(KINDS)
    assert all(isinstance(text, str) and len(text) > 20 for text in about.values())


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("kind", KINDS)
def test_contract_at_every_rate(kind: str, sr: int) -> None:
    x = generate(kind, seed=sr + 1, duration_s=1.0, sample_rate=sr)
    assert x.shape == (sr,)
    assert x.dtype == np.float32
    assert np.isfinite(x).all()
    assert float(np.abs(x).max()) <= 1.0
    assert _rms_db(x) > -60.0
    assert abs(float(x.mean())) < 1e-3


def test_same_seed_same_bytes_other_seed_other_audio() -> None:
    for kind in KINDS:
        a = generate(kind, 7, 0.5, 16000)
        assert a.tobytes() == generate(kind, 7, 0.5, 16000).tobytes(), kind
        assert not np.array_equal(a, generate(kind, 8, 0.5, 16000)), kind


DIGEST_CODE = """
import hashlib, sys
from impairments.sources.procedural_audio import generate
h = hashlib.sha256()
for kind in sys.argv[1:]:
    h.update(generate(kind, 3, 0.5, 22050).tobytes())
print(h.hexdigest())
"""


def test_identical_in_a_fresh_process() -> None:
    kinds = ["speech_like", "compressed_master", "fire_crackle", "tonal_music"]
    here = hashlib.sha256()
    for kind in kinds:
        here.update(generate(kind, 3, 0.5, 22050).tobytes())
    out = subprocess.run(
        [sys.executable, "-c", DIGEST_CODE, *kinds],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.strip() == here.hexdigest()


def test_kinds_have_clearly_different_spectra() -> None:
    sr = 16000
    centroid: dict[str, float] = {}
    flatness: dict[str, float] = {}
    for kind in KINDS:
        cents, flats = [], []
        for seed in range(2):
            freqs, power = _spectrum(generate(kind, seed, 2.0, sr), sr)
            band = (freqs > 50) & (freqs < 0.45 * sr)
            cents.append(float((power * freqs).sum() / power.sum()))
            flats.append(float(np.exp(np.mean(np.log(power[band] + 1e-20))) / power[band].mean()))
        centroid[kind], flatness[kind] = float(np.median(cents)), float(np.median(flats))
    assert max(centroid.values()) / min(centroid.values()) > 8
    assert max(flatness.values()) / min(flatness.values()) > 100
    noisy = ("ambience_wind", "applause", "fire_crackle", "drum_groove")
    tonal = ("tonal_music", "chords_pad", "organ_drone", "bass_line")
    assert min(flatness[k] for k in noisy) > 10 * max(flatness[k] for k in tonal)
    assert centroid["bass_line"] < centroid["tonal_music"] < centroid["birdsong"]
    assert centroid["organ_drone"] < centroid["applause"]


@pytest.mark.parametrize("kind", SMOOTH_KINDS)
def test_smooth_kinds_have_no_clicks(kind: str) -> None:
    for sr in RATES:
        for seed in range(3):
            ratio = click_ratio(generate(kind, seed, 3.0, sr), sr)
            assert ratio < CLICK_RATIO, (kind, sr, seed, ratio)


def test_click_detector_sees_a_click() -> None:
    sr = 16000
    ratios = []
    for seed in range(4):
        x = generate("tonal_music", seed, 2.0, sr).copy()
        x[sr] += 0.5 * float(np.abs(x).max())
        ratios.append(click_ratio(x, sr))
    assert np.median(ratios) > CLICK_RATIO, ratios
    assert max(ratios) > 3 * CLICK_RATIO, ratios


def test_fire_and_percussion_are_impulsive_hard_negatives() -> None:
    sr = 32000
    fire = [click_ratio(generate("fire_crackle", s, 3.0, sr), sr) for s in range(4)]
    assert min(fire) > 2 * CLICK_RATIO, fire
    hits = [click_ratio(generate("percussion", s, 3.0, sr), sr) for s in range(6)]
    assert sum(r > CLICK_RATIO for r in hits) >= 3, hits
    assert max(hits) > 5 * CLICK_RATIO, hits


@pytest.mark.parametrize("kind", ["organ_drone", "bass_line"])
def test_low_drones_and_bass_sit_below_120_hz(kind: str) -> None:
    sr = 16000
    for seed in range(5):
        freqs, power = _spectrum(generate(kind, seed, 2.0, sr), sr)
        low = power[(freqs > 20) & (freqs < 120)].sum() / power.sum()
        assert low > 0.1, (kind, seed, low)


def test_compressed_master_is_loud_dense_and_not_clipped() -> None:
    sr = 32000
    for seed in range(3):
        x = generate("compressed_master", seed, 3.0, sr)
        peak = float(np.abs(x).max())
        assert peak > 10 ** (-1.1 / 20)
        assert 20 * np.log10(peak) - _rms_db(x) < 14.0  # crest factor of a limited master
        flat = np.abs(x) >= 0.999 * peak
        assert not np.any(flat[:-2] & flat[1:-1] & flat[2:]), "flat-topped (clipped) peaks"


def test_bandwidth_varies_and_lofi_is_narrow() -> None:
    sr = 48000
    highs = []
    for seed in range(16):
        freqs, power = _spectrum(generate("tonal_music", seed, 1.0, sr), sr)
        highs.append(power[freqs > 12000].sum() / power.sum())
    assert min(highs) < 1e-7 < max(highs)
    for seed in range(4):
        freqs, power = _spectrum(generate("lofi_bandlimited", seed, 1.0, sr), sr)
        assert power[freqs > 6500].sum() / power.sum() < 1e-6


def test_unknown_kind_lists_the_kinds() -> None:
    with pytest.raises(ValueError, match="tonal_music") as err:
        generate("white_noise", 0, 1.0, 16000)
    assert all(kind in str(err.value) for kind in KINDS)


@pytest.mark.parametrize("sr", [8000, 48000])
def test_very_short_clips(sr: int) -> None:
    for kind in KINDS:
        x = generate(kind, 1, 0.01, sr)
        assert x.shape == (round(0.01 * sr),)
        assert x.dtype == np.float32
        assert np.isfinite(x).all()
        assert float(np.abs(x).max()) <= 1.0
    assert generate("tonal_music", 1, 0.0, sr).shape == (0,)
