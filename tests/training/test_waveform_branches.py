"""The waveform branches next to the log-mel: fine low-band spectrum (hum) and amplitude stats."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from training.features.amplitude import AmplitudeStats
from training.features.mains import MainsSpectrum, lowpass_taps
from training.models.pann import build_segment_classifier

RATE = 32000


def tone(freq: float, amplitude: float = 0.1, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(RATE * seconds)) / RATE
    return amplitude * np.sin(2 * np.pi * freq * t)


def spectrum_of(*signals: np.ndarray) -> tuple[torch.Tensor, MainsSpectrum]:
    module = MainsSpectrum(RATE, RATE)
    batch = torch.tensor(np.stack(signals), dtype=torch.float32)
    return module(batch), module


def test_polyphase_decimation_equals_a_strided_lowpass() -> None:
    module = MainsSpectrum(RATE, RATE)
    x = torch.randn(2, RATE)
    taps = torch.tensor(lowpass_taps(module.factor, module.taps), dtype=torch.float32)
    reference = F.conv1d(
        x.unsqueeze(1), taps.view(1, 1, -1), stride=module.factor, padding=module.taps // 2
    )[:, 0, : module.length]
    assert torch.allclose(module.decimate(x), reference, atol=1e-5)


def test_a_hum_line_stands_out_at_its_own_bin_and_a_bass_note_at_another() -> None:
    rng = np.random.default_rng(0)
    noise = 0.05 * rng.standard_normal(RATE)
    features, module = spectrum_of(noise + tone(50.1, 0.02), noise + tone(55.0, 0.02))
    freqs = module.band_hz[0] + np.arange(module.num_bins) * module.resolution_hz
    contrast = features[:, 0].numpy()
    assert abs(freqs[contrast[0].argmax()] - 50.0) <= 1.0
    assert abs(freqs[contrast[1].argmax()] - 55.0) <= 1.0
    assert contrast[0].max() > 15.0  # dB above its neighbours; noise alone stays near 0
    assert abs(float(np.median(contrast[0]))) < 3.0


def test_content_above_the_band_does_not_alias_into_it() -> None:
    # 1230 Hz would fold onto 230 Hz at the 1 kHz analysis rate without the low-pass.
    module = MainsSpectrum(RATE, RATE)
    x = torch.tensor(np.stack([tone(230.0, 0.5), tone(1230.0, 0.5)]), dtype=torch.float32)
    bin_230 = int(round((230.0 - module.band_hz[0]) / module.resolution_hz))
    level = module.power_db(x)[:, bin_230]
    assert float(level[0] - level[1]) > 60.0


def test_amplitude_stats_see_clipping_and_ignore_gain() -> None:
    stats = AmplitudeStats()
    rng = np.random.default_rng(1)
    clean = torch.tensor(0.1 * rng.standard_normal((1, RATE)), dtype=torch.float32)
    clipped = torch.clamp(clean * 4, -0.2, 0.2)
    base, louder, flat = stats(clean), stats(clean * 0.3), stats(clipped)
    assert torch.allclose(base, louder, atol=1e-4)  # a gain change is not a defect
    assert float(flat[0, 0]) > float(base[0, 0]) + 2.0  # 100x more samples near the peak


def test_branches_join_the_classifier_and_unknown_names_are_refused() -> None:
    features = {"sample_rate": RATE, "segment_samples": RATE}
    net = build_segment_classifier(
        ["none", "hum"], features, branches={"mains": {}, "amplitude": {}, "unused": None}
    )
    assert sorted(net.branches) == ["amplitude", "mains"]
    assert net(torch.zeros(2, RATE)).probabilities.shape == (2, 2)
    with pytest.raises(ValueError, match="unknown branch 'nope'"):
        build_segment_classifier(["none", "hum"], features, branches={"nope": {}})
