"""Log-mel front end: the PANNs/librosa definition, and its two computations agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.features.logmel import LogMel, mel_filterbank


def signals() -> torch.Tensor:
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 32000
    rows = [
        np.sin(2 * np.pi * 50 * t) * 0.3 + rng.standard_normal(32000) * 0.01,
        rng.standard_normal(32000) * 0.2,
        np.zeros(32000),
    ]
    return torch.tensor(np.stack(rows), dtype=torch.float32)


def test_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    mel = mel_filterbank(32000, 1024, 64, 50, 14000)
    reference = librosa.filters.mel(sr=32000, n_fft=1024, n_mels=64, fmin=50, fmax=14000)
    np.testing.assert_allclose(mel, reference, atol=1e-7)
    x = signals().numpy().astype(np.float64)
    power = librosa.feature.melspectrogram(
        y=x,
        sr=32000,
        n_fft=1024,
        hop_length=320,
        n_mels=64,
        fmin=50,
        fmax=14000,
        center=True,
        pad_mode="reflect",
        power=2.0,
    )
    expected = 10 * np.log10(np.maximum(power, 1e-10)).transpose(0, 2, 1)
    ours = LogMel()(signals())[:, 0].numpy()
    assert ours.shape == (3, 101, 64)
    np.testing.assert_allclose(ours, expected, atol=2e-3)


def test_stft_and_factorised_dft_agree() -> None:
    frontend = LogMel()
    fast = frontend(signals())
    frontend.method = "dft"
    exported = frontend(signals())
    assert torch.allclose(fast, exported, atol=2e-3)
    assert exported[2].max() == pytest.approx(-100.0)  # digital silence sits on the floor


def test_other_settings_still_factorise() -> None:
    frontend = LogMel(
        sample_rate=16000,
        n_fft=512,
        hop_length=160,
        n_mels=40,
        f_min=0,
        f_max=8000,
        segment_samples=16000,
    )
    x = torch.randn(2, 16000) * 0.1
    fast = frontend(x)
    frontend.method = "dft"
    assert torch.allclose(fast, frontend(x), atol=2e-3)
    assert fast.shape == (2, 1, 101, 40)
