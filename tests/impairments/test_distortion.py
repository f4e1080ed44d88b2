"""Distortion: every family distorts (THD+N of a sine rises), clipping clips, loudness is kept.

Test tones are 997 Hz, not 1 kHz: a 1 kHz tone at 32 kHz repeats every 32 samples, so it only
ever visits 32 values and percentile clipping or quantisation can miss it entirely.
"""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.audio.distortion import TYPES

SR = 32000


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)))))


def _sine(frequency: float = 997.0, amplitude: float = 0.5, sample_rate: int = SR) -> np.ndarray:
    t = np.arange(sample_rate) / sample_rate
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _spectrum(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    window = np.blackman(len(x))
    return np.fft.rfftfreq(len(x), 1 / sample_rate), np.abs(
        np.fft.rfft(np.asarray(x, dtype=np.float64) * window)
    ) ** 2


def _thd_n_db(x: np.ndarray, frequency: float, sample_rate: int = SR) -> float:
    """Power away from the fundamental (harmonics, noise, aliasing) relative to the total."""
    freqs, spectrum = _spectrum(x, sample_rate)
    fundamental = np.abs(freqs - frequency) <= 6
    return float(10 * np.log10(spectrum[~fundamental].sum() / spectrum.sum() + 1e-30))


def _harmonic_db(x: np.ndarray, frequency: float, k: int, sample_rate: int = SR) -> float:
    freqs, spectrum = _spectrum(x, sample_rate)
    fundamental = spectrum[np.abs(freqs - frequency) <= 6].sum()
    return float(10 * np.log10(spectrum[np.abs(freqs - k * frequency) <= 6].sum() / fundamental))


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_every_type_raises_the_thd_of_a_sine(kind: str, severity: int) -> None:
    sine = _sine()
    clean = _thd_n_db(sine, 997.0)
    assert clean < -100
    impairment = impairments.get("distortion", severity=severity, types=(kind,))
    for seed in range(2):
        out, annotation = impairment(sine, sample_rate=SR, seed=seed)
        assert annotation.params["type"] == kind and annotation.params["changed"]
        assert _thd_n_db(out, 997.0) > clean + 30


@pytest.mark.parametrize(
    "kind", ["hard_clip", "clipping_distortion", "soft_saturation", "bitcrush"]
)
def test_thd_grows_with_severity(kind: str) -> None:
    sine = _sine()
    thd = []
    for severity in (1, 3, 5):
        impairment = impairments.get("distortion", severity=severity, types=(kind,))
        thd.append(
            np.mean(
                [_thd_n_db(impairment(sine, sample_rate=SR, seed=s)[0], 997.0) for s in range(3)]
            )
        )
    assert thd[0] < thd[1] < thd[2]


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_hard_clip_piles_samples_at_the_ceiling(severity: int, make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("distortion", severity=severity, types=("hard_clip",))
    for seed in range(3):
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        params = annotation.params
        ceiling = params["ceiling"]
        assert np.max(np.abs(out)) == pytest.approx(ceiling, rel=1e-5)
        at_ceiling = np.mean(np.abs(out) >= 0.99 * ceiling)
        clean_at_peak = np.mean(np.abs(x) >= 0.99 * np.max(np.abs(x)))
        assert at_ceiling > 5 * clean_at_peak
        assert at_ceiling >= params["clipped_fraction"]
        # The threshold is relative to the content peak, before the makeup gain.
        threshold = np.max(np.abs(x)) * 10 ** (params["threshold_db"] / 20)
        assert ceiling == pytest.approx(threshold * 10 ** (params["makeup_db"] / 20), rel=1e-6)
        assert params["clipped_fraction"] == pytest.approx(np.mean(np.abs(x) > threshold))


def test_clipping_distortion_clips_the_drawn_share_of_samples(make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("distortion", severity=4, types=("clipping_distortion",))
    for seed in range(3):
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        params = annotation.params
        at_rails = np.mean((out >= out.max() * (1 - 1e-6)) | (out <= out.min() * (1 - 1e-6)))
        assert at_rails == pytest.approx(params["percentile"] / 100, abs=0.01)


@pytest.mark.parametrize("kind", TYPES)
def test_loudness_is_kept(kind: str, make_content) -> None:
    x = make_content(SR, channels=2)
    for severity in (1, 5):
        impairment = impairments.get("distortion", severity=severity, types=(kind,))
        for seed in range(2):
            out, _ = impairment(x, sample_rate=SR, seed=seed)
            assert abs(20 * np.log10(_rms(out) / _rms(x))) < 1.0
            assert np.max(np.abs(out)) <= max(1.0, np.max(np.abs(x))) + 1e-6


def test_soft_saturation_asymmetry_adds_even_harmonics() -> None:
    sine = _sine()
    symmetric = impairments.get(
        "distortion", severity=3, types=("soft_saturation",), asymmetry=(0, 0)
    )(sine, sample_rate=SR, seed=0)[0]
    biased = impairments.get(
        "distortion", severity=3, types=("soft_saturation",), asymmetry=(0.3, 0.3)
    )(sine, sample_rate=SR, seed=0)[0]
    assert _harmonic_db(symmetric, 997.0, 3) > -40  # tanh: odd harmonics
    assert _harmonic_db(symmetric, 997.0, 2) < -80
    assert _harmonic_db(biased, 997.0, 2) > -40


def test_bitcrush_quantises_to_the_drawn_depth(make_content) -> None:
    x = make_content(SR)
    out, annotation = impairments.get("distortion", severity=5, types=("bitcrush",))(
        x, sample_rate=SR, seed=0
    )
    bits = annotation.params["bit_depth"]
    # Levels are 2**-bits of the content peak apart: at most 2 * 2**bits + 1 of them.
    assert len(np.unique(out)) <= 2 * 2**bits + 1
    assert len(np.unique(out)) >= 2**bits


@pytest.mark.parametrize("codec", ["mp3", "opus"])
@pytest.mark.parametrize("severity", [1, 5])
def test_lossy_is_aligned_with_the_input(codec: str, severity: int, make_content) -> None:
    """The codec delay is compensated: the decoded signal correlates best at lag 0."""
    x = make_content(SR)
    impairment = impairments.get("distortion", severity=severity, types=("lossy",))
    seeds = [
        s for s in range(40) if impairment.draw(np.random.default_rng(s), SR, SR)["codec"] == codec
    ][:2]
    for seed in seeds:
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        assert annotation.params["codec"] == codec
        lags = np.arange(-40, 41)
        core = slice(100, SR - 100)
        scores = [np.dot(out[core], np.roll(x, lag)[core]) for lag in lags]
        assert abs(lags[int(np.argmax(scores))]) <= 1


def test_low_bitrate_mp3_removes_the_top_of_the_spectrum(make_content) -> None:
    x = make_content(SR)
    x = (x + 0.05 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    impairment = impairments.get("distortion", severity=5, types=("lossy",), mp3_kbps=(8, 8))
    seed = next(
        s for s in range(40) if impairment.draw(np.random.default_rng(s), SR, SR)["codec"] == "mp3"
    )
    out, annotation = impairment(x, sample_rate=SR, seed=seed)
    assert annotation.params["codec_rate"] == 8000
    freqs, clean = _spectrum(x, SR)
    _, coded = _spectrum(out, SR)
    high = freqs > 4500
    assert coded[high].sum() < 1e-3 * clean[high].sum()


@pytest.mark.parametrize("sample_rate", [8000, 44100, 96000])
def test_lossy_resamples_for_any_rate(sample_rate: int, make_content) -> None:
    x = make_content(sample_rate, seconds=0.3, channels=2)
    impairment = impairments.get("distortion", severity=3, types=("lossy",))
    for seed in range(2):
        out, annotation = impairment(x, sample_rate=sample_rate, seed=seed)
        assert out.shape == x.shape
        assert annotation.params["codec_rate"] in (8000, 16000, 24000, 48000)
        # Still the same signal, just coded: strongly correlated with the input.
        assert np.corrcoef(out.reshape(-1), x.reshape(-1))[0, 1] > 0.5


def test_silence_is_passed_through() -> None:
    silence = np.zeros((2, SR), dtype=np.float32)
    for kind in TYPES:
        out, annotation = impairments.get("distortion", types=(kind,))(
            silence, sample_rate=SR, seed=0
        )
        assert not np.any(out)
        assert annotation.params["changed"] is False


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="distortion"):
        impairments.get("distortion", types=("fuzz",))
    with pytest.raises(ValueError, match="distortion"):
        impairments.get("distortion", types=())
