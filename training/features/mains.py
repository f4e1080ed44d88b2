"""A 1 Hz-resolution spectrum of the low band, for telling mains hum from bass, drones and wind.

Why the log-mel is not enough: with a 1024-point FFT at 32 kHz its bins are 31 Hz wide, so a
50 Hz hum line, a 55 Hz bass note, an organ pedal at 41 Hz and wind rumble all land in the same
one or two mel bands. What marks hum is *where* its energy sits: narrow, steady lines within a
fraction of a hertz of 50 or 60 Hz and their multiples. Only a spectrum of the whole 1-second
segment resolves that (1 Hz bins), and only the low band is needed: the hum impairment and real
mains leakage put their strongest harmonics below a few hundred hertz.

How it is computed, all as plain convolutions and matrix products so ONNX and TorchScript export
it as they do the log-mel:

1. decimate to about 1 kHz with one strided ``Conv1d`` (a Blackman-windowed sinc low-pass, cut
   at 45% of the new rate: what aliases lands above the analysed band);
2. Hann window and DFT of the decimated segment at the bins of ``band_hz`` (one ``MatMul``);
3. power in dB, and the *line contrast*: each bin's level minus the mean of its neighbours within
   ``contrast_hz`` (a line stands out, a broad bass hump or rumble does not).

The output ``(batch, 2, bins)`` stacks the contrast and the level relative to the segment's mean
level in the band; the network on top (:class:`MainsBranch`) keeps bin positions, because the
positions of mains harmonics are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["MainsBranch", "MainsSpectrum"]


def lowpass_taps(factor: int, taps: int) -> np.ndarray:
    """Blackman-windowed sinc for decimation by ``factor``: cut-off at 0.45 x the new rate."""
    if taps % 2 == 0:
        raise ValueError(f"decimation filter needs an odd number of taps, got {taps}")
    cutoff = 0.45 / factor  # in cycles per input sample
    n = np.arange(taps) - (taps - 1) / 2
    kernel = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(taps)
    return kernel / kernel.sum()


class MainsSpectrum(nn.Module):
    """``(batch, samples)`` waveform -> ``(batch, 2, bins)`` fine low-band features in dB."""

    def __init__(
        self,
        sample_rate: int = 32000,
        segment_samples: int = 32000,
        band_hz: tuple[float, float] = (20.0, 420.0),
        decimated_rate: int = 1000,
        taps: int = 1023,
        contrast_hz: float = 6.0,
        amin: float = 1e-10,
    ) -> None:
        super().__init__()
        self.factor = max(1, int(round(sample_rate / decimated_rate)))
        rate = sample_rate / self.factor
        low, high = float(band_hz[0]), float(band_hz[1])
        if not 0 < low < high < 0.45 * rate:
            raise ValueError(
                f"band_hz must satisfy 0 < low < high < {0.45 * rate:.0f} Hz (45% of the "
                f"decimated rate), got {band_hz}"
            )
        self.sample_rate = int(sample_rate)
        self.segment_samples = int(segment_samples)
        self.band_hz = (low, high)
        self.amin = float(amin)
        self.taps = int(taps)
        self.length = -(-self.segment_samples // self.factor)  # decimated samples, ceil
        resolution = rate / self.length
        bins = np.arange(math.ceil(low / resolution), math.floor(high / resolution) + 1)
        self.num_bins = int(bins.size)
        self.resolution_hz = float(resolution)
        self.contrast_bins = max(1, int(round(contrast_hz / resolution)))
        self._log_scale = 10.0 / math.log(10.0)

        # Polyphase form of the strided low-pass (a strided 1-channel Conv1d is ~10x slower on CPU):
        # cut the padded signal into blocks of ``factor`` samples, B[i, p] = x[factor * i + p], and
        # the taps into H[j, p] = h[factor * j + p]. Then y[m] = sum_j Z[j, m + j] with Z = H B^T,
        # one dense GEMM; the diagonal sum is a reshape ("skew") and a ReduceSum.
        kernel = lowpass_taps(self.factor, self.taps)
        self.phase_taps = -(-self.taps // self.factor)
        kernel = np.pad(kernel, (0, self.phase_taps * self.factor - self.taps))
        polyphase = kernel.reshape(self.phase_taps, self.factor)  # (j, p)
        self.register_buffer(
            "decimator", torch.from_numpy(polyphase.astype(np.float32)), persistent=False
        )
        self.pad_left = self.taps // 2
        self.blocks = self.length + self.phase_taps - 1
        self.pad_right = self.blocks * self.factor - self.segment_samples - self.pad_left
        if self.pad_right < 0:
            raise ValueError("segment too long for its decimated length (internal error)")
        t = np.arange(self.length)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * t / self.length)  # periodic Hann
        angle = 2 * np.pi * t[:, None] * bins[None, :] / self.length
        basis = np.concatenate(
            [window[:, None] * np.cos(angle), -window[:, None] * np.sin(angle)], 1
        )
        self.register_buffer("dft", torch.from_numpy(basis.astype(np.float32)), persistent=False)

    def extra_repr(self) -> str:
        return (
            f"band_hz={self.band_hz}, resolution_hz={self.resolution_hz:.3f}, "
            f"bins={self.num_bins}, decimation={self.factor}, taps={self.taps}"
        )

    def settings(self) -> dict[str, float | int | list[float]]:
        """What a user needs to reproduce the features (goes into the model card)."""
        return {
            "band_hz": list(self.band_hz),
            "resolution_hz": self.resolution_hz,
            "bins": self.num_bins,
            "decimation": self.factor,
            "taps": self.taps,
            "contrast_bins": self.contrast_bins,
        }

    def decimate(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(B, samples)`` -> ``(B, length)``: low-passed and decimated to about 1 kHz."""
        padded = F.pad(waveform, (self.pad_left, self.pad_right))
        blocks = padded.reshape(-1, self.blocks, self.factor)  # (B, i, p)
        z = torch.matmul(self.decimator, blocks.transpose(1, 2))  # (B, j, i)
        # Row j shifted left by j: read (B, j, i) with a row stride one longer than a row.
        z = F.pad(z.reshape(-1, self.phase_taps * self.blocks), (0, self.phase_taps))
        z = z.reshape(-1, self.phase_taps, self.blocks + 1)[:, :, : self.length]
        return z.sum(dim=1)

    def power_db(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(B, samples)`` -> ``(B, bins)`` power at 1 Hz bins across ``band_hz``, in dB."""
        spectrum = torch.matmul(self.decimate(waveform), self.dft)  # (B, 2 * bins): re, then im
        power = spectrum[:, : self.num_bins].square() + spectrum[:, self.num_bins :].square()
        return torch.log(torch.clamp(power, min=self.amin)) * self._log_scale

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        level = self.power_db(waveform)
        width = 2 * self.contrast_bins + 1
        # Neighbourhood mean without the bin itself: a lone line is not averaged into its baseline.
        around = F.avg_pool1d(
            level.unsqueeze(1), width, stride=1, padding=self.contrast_bins, count_include_pad=False
        )[:, 0]
        counts = (
            F.avg_pool1d(
                torch.ones_like(level[:1]).unsqueeze(1),
                width,
                stride=1,
                padding=self.contrast_bins,
                count_include_pad=True,
            )[:, 0]
            * width
        )
        neighbours = (around * counts - level) / (counts - 1)
        contrast = level - neighbours
        relative = level - level.mean(dim=1, keepdim=True)
        return torch.stack([contrast, relative], dim=1)


class MainsBranch(nn.Module):
    """Fine low-band spectrum -> ``out_features`` embedding, joined to the backbone's.

    A small 1-D CNN finds line shapes (peak width, contrast); the linear layer after it keeps bin
    positions, so it can weigh 50/60 Hz multiples differently from other frequencies.
    """

    def __init__(
        self,
        sample_rate: int = 32000,
        segment_samples: int = 32000,
        band_hz: tuple[float, float] = (20.0, 420.0),
        channels: int = 16,
        out_features: int = 64,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.spectrum = MainsSpectrum(sample_rate, segment_samples, band_hz=tuple(band_hz))
        self.norm = nn.BatchNorm1d(2)
        self.conv = nn.Sequential(
            nn.Conv1d(2, channels, 5, padding=2, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
            nn.Conv1d(channels, channels, 5, padding=2, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(inplace=True),
        )
        pooled = self.spectrum.num_bins // 2
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels * pooled, out_features)
        self.out_features = int(out_features)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.norm(self.spectrum(waveform)))
        x = F.max_pool1d(x, 2)  # 2 Hz cells: tolerant of the mains drift (about +-0.3 Hz)
        return F.relu(self.fc(self.dropout(x.flatten(1))))
