"""Hum: the added signal is a mains harmonic series at exactly the configured level."""

from __future__ import annotations

import numpy as np
import pytest

import impairments
from impairments.audio.hum import ABSOLUTE_REFERENCE_DBFS, NYQUIST_MARGIN

SR = 32000


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(np.asarray(x, dtype=np.float64)))))


def _power_spectrum(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    window = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64) * window)) ** 2
    return np.fft.rfftfreq(len(x), 1.0 / sample_rate), spectrum


def _harmonic_powers(
    x: np.ndarray, sample_rate: int, frequency: float, count: int, half_width: float = 3.0
) -> np.ndarray:
    """Power within ``half_width`` Hz of each harmonic (wobble puts sidebands a few Hz away)."""
    freqs, spectrum = _power_spectrum(x, sample_rate)
    return np.array(
        [spectrum[np.abs(freqs - k * frequency) <= half_width].sum() for k in range(1, count + 1)]
    )


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_hum_rms_relative_to_content_is_the_level(severity: int, make_content) -> None:
    x = make_content(SR, seed=severity)
    impairment = impairments.get("hum", severity=severity)
    low, high = impairment.ranges["level_db"]
    for seed in range(4):
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        params = annotation.params
        hum = out.astype(np.float64) - x
        measured_db = 20 * np.log10(_rms(hum) / _rms(x))
        assert low <= params["level_db"] <= high
        assert measured_db == pytest.approx(params["level_db"], abs=0.5)
        assert params["reference"] == "content_rms"
        assert 20 * np.log10(params["hum_rms"]) == pytest.approx(params["hum_rms_db"])
        assert _rms(hum) == pytest.approx(params["hum_rms"], rel=1e-3)


def test_the_harmonic_bins_rise_even_at_severity_1(make_content) -> None:
    """At the quietest severity-1 level the harmonics still stand out of a 1 Hz spectrum.

    The content has a broadband noise burst, so a single draw can land a harmonic on a strong
    noise bin (or under a content tone); the lift is judged over draws, on the harmonics that
    carry the hum (relative amplitude >= 0.3), at their peak bins.
    """
    impairment = impairments.get("hum", severity=1)
    quietest = impairment.ranges["level_db"][0]
    impairment = impairments.get("hum", severity=1, level_db=quietest)
    lifts = []
    for seed in range(8):
        x = make_content(SR, seed=10 + seed)
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        params = annotation.params
        freqs, clean = _power_spectrum(x, SR)
        _, impaired = _power_spectrum(out, SR)
        amplitudes = np.asarray(params["harmonic_amplitudes"])
        clean_peaks, impaired_peaks = [], []
        for k in np.flatnonzero(amplitudes >= 0.3) + 1:
            near = np.abs(freqs - k * params["frequency_hz"]) <= 1.0
            clean_peaks.append(clean[near].max())
            impaired_peaks.append(impaired[near].max())
        lifts.append(10 * np.log10(sum(impaired_peaks) / sum(clean_peaks)))
    assert np.median(lifts) > 6.0
    assert np.mean(np.asarray(lifts) > 3.0) >= 0.75


@pytest.mark.parametrize("seed", range(6))
def test_added_power_sits_on_the_harmonics_with_the_recorded_profile(
    seed: int, make_content
) -> None:
    x = make_content(SR)
    out, annotation = impairments.get("hum", severity=3)(x, sample_rate=SR, seed=seed)
    params = annotation.params
    hum = out.astype(np.float64) - x
    _, spectrum = _power_spectrum(hum, SR)
    powers = _harmonic_powers(hum, SR, params["frequency_hz"], params["n_harmonics"])
    assert powers.sum() / spectrum.sum() > 0.99
    # Measured amplitude profile equals the recorded one (weak harmonics are lost in leakage).
    amplitudes = np.asarray(params["harmonic_amplitudes"])
    measured = np.sqrt(powers / powers.max())
    strong = amplitudes > 0.05
    np.testing.assert_allclose(measured[strong], amplitudes[strong], rtol=0.1, atol=0.01)


def test_mains_frequency_is_50_or_60_with_a_small_offset(make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("hum", severity=3)
    seen = set()
    for seed in range(20):
        params = impairment(x, sample_rate=SR, seed=seed)[1].params
        seen.add(params["mains_hz"])
        assert abs(params["frequency_hz"] / params["mains_hz"] - 1) <= 0.005
        assert params["frequency_hz"] == pytest.approx(
            params["mains_hz"] * (1 + params["offset_pct"] / 100)
        )
    assert seen == {50, 60}
    for mains in (50, 60):
        restricted = impairments.get("hum", mains=(mains,))
        assert {restricted(x, sample_rate=SR, seed=s)[1].params["mains_hz"] for s in range(5)} == {
            mains
        }


def test_spectral_peak_is_at_the_recorded_frequency(make_content) -> None:
    x = make_content(SR)
    for seed in range(4):
        out, annotation = impairments.get("hum", severity=4)(x, sample_rate=SR, seed=seed)
        params = annotation.params
        freqs, spectrum = _power_spectrum(out.astype(np.float64) - x, SR)
        k = int(np.argmax(params["harmonic_amplitudes"])) + 1
        near = np.abs(freqs - k * params["frequency_hz"]) <= 5
        assert abs(freqs[near][np.argmax(spectrum[near])] - k * params["frequency_hz"]) <= 1.0


def test_buzz_emphasises_odd_harmonics(make_content) -> None:
    x = make_content(SR)
    impairment = impairments.get("hum", severity=3)
    buzzes = [
        params
        for params in (impairment(x, sample_rate=SR, seed=s)[1].params for s in range(30))
        if params["buzz"]
    ]
    assert buzzes, "no buzz drawn in 30 seeds"
    for params in buzzes:
        amplitudes = np.asarray(params["harmonic_amplitudes"])
        assert params["n_harmonics"] >= 12
        assert amplitudes[0::2].sum() > 2 * amplitudes[1::2].sum()


@pytest.mark.parametrize("sample_rate", [8000, 16000])
def test_no_harmonic_at_or_above_nyquist(sample_rate: int, make_content) -> None:
    x = make_content(sample_rate)
    impairment = impairments.get("hum", severity=5, harmonics=(40, 40), buzz_harmonics=(40, 40))
    for seed in range(4):
        out, annotation = impairment(x, sample_rate=sample_rate, seed=seed)
        params = annotation.params
        assert params["n_harmonics"] * params["frequency_hz"] < NYQUIST_MARGIN * sample_rate
        freqs, spectrum = _power_spectrum(out.astype(np.float64) - x, sample_rate)
        high = freqs > (NYQUIST_MARGIN + 0.01) * sample_rate
        assert spectrum[high].sum() < 1e-6 * spectrum.sum()


def test_silence_gets_hum_at_the_absolute_reference() -> None:
    silence = np.zeros((2, SR), dtype=np.float32)
    out, annotation = impairments.get("hum", severity=2)(silence, sample_rate=SR, seed=3)
    params = annotation.params
    assert params["reference"] == "absolute"
    expected_db = ABSOLUTE_REFERENCE_DBFS + params["level_db"]
    assert 20 * np.log10(_rms(out)) == pytest.approx(expected_db, abs=0.01)


def test_same_hum_on_every_channel(make_content) -> None:
    x = make_content(SR, channels=6)
    out, annotation = impairments.get("hum", severity=3)(x, sample_rate=SR, seed=8)
    hum = out.astype(np.float64) - x
    np.testing.assert_allclose(hum, np.broadcast_to(hum[0], hum.shape), atol=1e-6)
    assert 20 * np.log10(_rms(hum) / _rms(x)) == pytest.approx(
        annotation.params["level_db"], abs=0.01
    )


def test_unknown_mains_is_refused() -> None:
    with pytest.raises(ValueError, match="hum"):
        impairments.get("hum", mains=(55,))
