"""Log-mel features computed inside the model, from raw waveform, so exports need nothing else.

Two numerically equivalent paths (same values to ~1e-5 dB):

- ``method="stft"`` (training, eager PyTorch): ``torch.stft``, an FFT, the fastest in PyTorch.
- ``method="dft"`` (what ONNX/TorchScript exports contain): the 1024-point DFT split Cooley-Tukey
  style into 32 x 32. Stage 1 is one grouped strided ``Conv1d`` over the signal cut into 32-sample
  blocks (framing, Hann window and twiddle factors are folded into its weights), stage 2 a
  ``MatMul``, then power, a ``ReduceSum`` and the mel ``MatMul``. Only the bins some mel filter
  uses are computed. Why not the alternatives: ONNX's ``STFT`` operator runs ~3x slower in ONNX
  Runtime than this, and a direct DFT as one convolution (PANNs' torchlibrosa) costs ~185 MFLOP per
  1-second segment, 10x this path and more than the whole light network (measured: ~2 s per hour
  of audio for this front end in ONNX Runtime on 2 cores, ~4 s for the plain factorised DFT).

The settings and the scale match PANNs (torchlibrosa + librosa): periodic Hann window, centred
frames with reflect padding, power spectrum, Slaney mel filters, ``10 * log10(max(mel, amin))``.
That is what makes published CNN14 weights meaningful on these features.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["LogMel", "mel_filterbank"]


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney mel scale (librosa's default, ``htk=False``): linear below 1 kHz, log above."""
    freq = np.asarray(freq, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = freq / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    log_region = freq >= min_log_hz
    mels = np.where(
        log_region, min_log_mel + np.log(np.maximum(freq, 1e-9) / min_log_hz) / logstep, mels
    )
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.asarray(mels, dtype=np.float64)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(mels >= min_log_mel, min_log_hz * np.exp(logstep * (mels - min_log_mel)), freqs)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float
) -> np.ndarray:
    """Slaney-normalised triangular mel filters, ``(n_mels, n_fft // 2 + 1)``; equals librosa's."""
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(
            f"mel range must satisfy 0 <= f_min < f_max <= sample_rate/2, got {f_min}..{f_max} "
            f"at {sample_rate} Hz"
        )
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mel_freqs = _mel_to_hz(np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2))
    fdiff = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2 : n_mels + 2] - mel_freqs[:n_mels]))[:, None]
    return weights.astype(np.float32)


def _block_size(n_fft: int, hop_length: int) -> int:
    """Samples per block ``n2``: divides both ``n_fft`` and ``hop_length`` (frames then start on
    block boundaries), as close to ``sqrt(n_fft)`` as possible (fewest multiply-adds)."""
    common = math.gcd(n_fft, hop_length)
    divisors = [d for d in range(1, common + 1) if common % d == 0]
    return min(divisors, key=lambda d: abs(math.log(d) - 0.5 * math.log(n_fft)))


class LogMel(nn.Module):
    """``(batch, samples)`` waveform in [-1, 1] -> ``(batch, 1, frames, n_mels)`` log-mel in dB.

    Frames = ``samples // hop_length + 1`` (centred). All constants are non-persistent buffers:
    they are a pure function of the settings, so checkpoints stay small and loading never depends
    on them.
    ``method`` picks the computation (see module docstring); exports switch it to ``"dft"``.
    """

    def __init__(
        self,
        sample_rate: int = 32000,
        n_fft: int = 1024,
        hop_length: int = 320,
        n_mels: int = 64,
        f_min: float = 50.0,
        f_max: float = 14000.0,
        amin: float = 1e-10,
        segment_samples: int = 32000,
        method: str = "stft",
    ) -> None:
        super().__init__()
        if segment_samples <= n_fft // 2:
            raise ValueError(
                f"segment_samples={segment_samples} must exceed n_fft/2={n_fft // 2} (reflect pad)"
            )
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_mels = int(n_mels)
        self.f_min = float(f_min)
        self.f_max = float(f_max)
        self.amin = float(amin)
        self.segment_samples = int(segment_samples)
        self.num_frames = segment_samples // hop_length + 1
        self.method = method
        self._log_scale = 10.0 / math.log(10.0)

        mel = mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max)  # (n_mels, bins)
        used = np.flatnonzero(mel.sum(axis=0) > 0)
        self.bin_lo, self.bin_hi = int(used.min()), int(used.max()) + 1
        self.register_buffer(
            "stft_window", torch.hann_window(n_fft, periodic=True), persistent=False
        )
        self.register_buffer(
            "stft_mel",
            torch.from_numpy(mel[:, self.bin_lo : self.bin_hi].T.copy()),
            persistent=False,
        )

        # Factorised DFT: sample n = n2 * i1 + i2 of a frame, bin k = k1 + n1 * k2.
        n2 = _block_size(n_fft, hop_length)
        n1 = n_fft // n2
        k2_count = (self.bin_hi - 1) // n1 + 1
        self.n1, self.n2, self.k2_count = n1, n2, k2_count
        self.padded_samples = segment_samples + 2 * (n_fft // 2)
        self.padded_samples += (-self.padded_samples) % n2
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
        # Stage 1, per block phase i2 (a conv group): sum over i1 of w[n] x[n] e^{-2pi i k1 n / N},
        # i.e. the n1-point DFT with window and twiddle folded in. Output channels (i2, re/im, k1).
        i2 = np.arange(n2)[:, None, None]
        k1 = np.arange(n1)[None, :, None]
        i1 = np.arange(n1)[None, None, :]
        n = n2 * i1 + i2
        angle = 2 * np.pi * k1 * n / n_fft  # (i2, k1, i1)
        stage1 = np.stack([window[n] * np.cos(angle), -window[n] * np.sin(angle)], axis=1)
        self.register_buffer(
            "dft_stage1",
            torch.from_numpy(stage1.reshape(n2 * 2 * n1, 1, n1).astype(np.float32)),
            persistent=False,
        )
        # Stage 2: n2-point DFT over i2 -> k2; rows (re/im out, k2), columns (i2, re/im in).
        angle2 = 2 * np.pi * np.arange(k2_count)[:, None] * np.arange(n2)[None, :] / n2
        c, s = np.cos(angle2), np.sin(angle2)
        stage2 = np.zeros((2, k2_count, n2, 2))
        stage2[0, :, :, 0], stage2[0, :, :, 1] = c, s
        stage2[1, :, :, 0], stage2[1, :, :, 1] = -s, c
        self.register_buffer(
            "dft_stage2",
            torch.from_numpy(stage2.reshape(2 * k2_count, 2 * n2).astype(np.float32)),
            persistent=False,
        )
        # Mel weights in the (k2, k1) bin layout of the power tensor; bins past Nyquist read zero.
        padded_mel = np.zeros((n_mels, n1 * k2_count + n_fft), dtype=np.float32)
        padded_mel[:, : mel.shape[1]] = mel
        bins = np.arange(n1)[None, :] + n1 * np.arange(k2_count)[:, None]  # (k2, k1) -> bin
        self.register_buffer(
            "dft_mel", torch.from_numpy(padded_mel[:, bins.reshape(-1)].copy()), persistent=False
        )

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, n_fft={self.n_fft}, hop_length={self.hop_length}, "
            f"n_mels={self.n_mels}, f_min={self.f_min}, f_max={self.f_max}, "
            f"method={self.method}, dft={self.n1}x{self.n2}"
        )

    def settings(self) -> dict[str, float | int | str]:
        """What a user needs to reproduce the features (goes into the model card)."""
        return {
            "sample_rate": self.sample_rate,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "n_mels": self.n_mels,
            "f_min": self.f_min,
            "f_max": self.f_max,
            "window": "hann (periodic)",
            "center": "reflect",
            "mel_scale": "slaney",
            "log": f"10*log10(max(mel_power, {self.amin}))",
            "num_frames": self.num_frames,
        }

    def _mel_power_stft(self, waveform: torch.Tensor) -> torch.Tensor:
        spectrum = torch.stft(
            waveform,
            self.n_fft,
            self.hop_length,
            window=self.stft_window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )[:, self.bin_lo : self.bin_hi]
        power = spectrum.real.square() + spectrum.imag.square()  # (B, bins, T)
        return torch.matmul(power.transpose(1, 2), self.stft_mel)  # (B, T, n_mels)

    def _mel_power_dft(self, waveform: torch.Tensor) -> torch.Tensor:
        pad = self.n_fft // 2
        padded = nn.functional.pad(waveform.unsqueeze(1), (pad, pad), mode="reflect")
        extra = self.padded_samples - self.segment_samples - 2 * pad
        if extra:
            padded = nn.functional.pad(padded, (0, extra))
        blocks = padded.reshape(-1, self.padded_samples // self.n2, self.n2).transpose(1, 2)
        z = nn.functional.conv1d(
            blocks, self.dft_stage1, stride=self.hop_length // self.n2, groups=self.n2
        )[..., : self.num_frames]  # (B, i2 * 2 * k1, T)
        z = z.reshape(-1, 2 * self.n2, self.n1 * self.num_frames)
        spectrum = torch.matmul(self.dft_stage2, z)  # (B, 2 * k2, k1 * T)
        power = (spectrum * spectrum).reshape(-1, 2, self.k2_count * self.n1 * self.num_frames)
        power = power.sum(dim=1).reshape(-1, self.k2_count * self.n1, self.num_frames)
        return torch.matmul(self.dft_mel, power).transpose(1, 2)  # (B, T, n_mels)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        if self.method == "stft":
            mel = self._mel_power_stft(waveform)
        elif self.method == "dft":
            mel = self._mel_power_dft(waveform)
        else:
            raise ValueError(f"LogMel method must be 'stft' or 'dft', got {self.method!r}")
        logmel = torch.log(torch.clamp(mel, min=self.amin)) * self._log_scale
        return logmel.unsqueeze(1)
