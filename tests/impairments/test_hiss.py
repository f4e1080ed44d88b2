"""Hiss: noise at exactly the drawn SNR, with the drawn spectral tilt, independent per channel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

import impairments
from impairments.audio.hiss import ABSOLUTE_REFERENCE_DBFS

SR = 32000


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.square(np.asarray(x, dtype=np.float64))))


def _slope_db_per_octave(noise: np.ndarray, sample_rate: int) -> float:
    freqs, psd = welch(noise, fs=sample_rate, nperseg=1024)
    band = (freqs >= 200) & (freqs <= 0.4 * sample_rate)
    return float(np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)[0])


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_snr_is_exact(severity: int, make_content) -> None:
    x = make_content(SR, seed=severity)
    impairment = impairments.get("hiss", severity=severity)
    low, high = impairment.ranges["snr_db"]
    for seed in range(4):
        out, annotation = impairment(x, sample_rate=SR, seed=seed)
        snr = annotation.params["snr_db"]
        measured = 10 * np.log10(_power(x) / _power(out.astype(np.float64) - x))
        assert low <= snr <= high
        assert measured == pytest.approx(snr, abs=0.5)
        assert annotation.params["reference"] == "content_rms"


@pytest.mark.parametrize("tilt", [-6.0, -3.0, 0.0, 3.0, 6.0])
def test_spectral_tilt_is_the_drawn_one(tilt: float, make_content) -> None:
    x = make_content(SR)
    out, annotation = impairments.get("hiss", severity=3, tilt_db_per_octave=tilt)(
        x, sample_rate=SR, seed=1
    )
    assert annotation.params["tilt_db_per_octave"] == tilt
    slope = _slope_db_per_octave(out.astype(np.float64) - x, SR)
    assert slope == pytest.approx(tilt, abs=0.5)


def test_noise_has_no_dc_and_brown_noise_does_not_drift(make_content) -> None:
    x = make_content(SR)
    out, _ = impairments.get("hiss", severity=5, tilt_db_per_octave=(-6, -6))(
        x, sample_rate=SR, seed=2
    )
    noise = out.astype(np.float64) - x
    assert abs(noise.mean()) < 1e-3 * np.sqrt(_power(noise))


def test_noise_is_independent_per_channel(make_content) -> None:
    x = make_content(SR, channels=2)
    out, annotation = impairments.get("hiss", severity=3)(x, sample_rate=SR, seed=4)
    noise = out.astype(np.float64) - x
    assert abs(np.corrcoef(noise)[0, 1]) < 0.05
    # Same noise power on every channel, and the SNR holds over all channels together.
    powers = np.mean(noise**2, axis=1)
    np.testing.assert_allclose(powers[0], powers[1], rtol=1e-3)
    measured = 10 * np.log10(_power(x) / _power(noise))
    assert measured == pytest.approx(annotation.params["snr_db"], abs=0.05)


def test_snr_holds_for_six_channels_and_other_rates(make_content) -> None:
    for sample_rate, channels in ((8000, 6), (44100, 2), (96000, 0)):
        x = make_content(sample_rate, seconds=0.5, channels=channels)
        out, annotation = impairments.get("hiss", severity=2)(x, sample_rate=sample_rate, seed=3)
        measured = 10 * np.log10(_power(x) / _power(out.astype(np.float64) - x))
        assert measured == pytest.approx(annotation.params["snr_db"], abs=0.05)


def test_silence_gets_hiss_at_the_absolute_reference() -> None:
    silence = np.zeros(SR, dtype=np.float32)
    out, annotation = impairments.get("hiss", severity=1)(silence, sample_rate=SR, seed=0)
    params = annotation.params
    assert params["reference"] == "absolute"
    expected_db = ABSOLUTE_REFERENCE_DBFS - params["snr_db"]
    assert 10 * np.log10(_power(out)) == pytest.approx(expected_db, abs=0.01)
    assert params["noise_rms_db"] == pytest.approx(expected_db, abs=0.01)


def test_quiet_content_is_floored_at_the_absolute_reference(make_content) -> None:
    """Below -40 dBFS RMS the hiss level stops following the content down."""
    x = (make_content(SR) * 10 ** (-50 / 20)).astype(np.float32)
    out, annotation = impairments.get("hiss", severity=3)(x, sample_rate=SR, seed=0)
    noise_db = 10 * np.log10(_power(out.astype(np.float64) - x))
    assert annotation.params["reference"] == "absolute"
    assert noise_db == pytest.approx(
        ABSOLUTE_REFERENCE_DBFS - annotation.params["snr_db"], abs=0.05
    )
