"""Amplitude statistics of a segment: what clipping and saturation do that a spectrum hides.

A log-mel sees distortion only through the harmonics it adds, which bright or noisy content
already has (a clipped drum loop and a clean one differ little in their mel bands). The sample
values tell more: hard clipping piles samples up just below the segment's peak, saturation
squeezes the crest factor, and both leave a flat-topped amplitude distribution. These features
read that directly and cost almost nothing (a few comparisons and means per sample).

Only thresholds at or below 0.99 of the peak are used: a detector meets files that were resampled
or transcoded after they were damaged, and the ringing that adds around flat tops spreads the
pile-up by about a percent; exact-value tests (flat runs, a bit-depth lattice) would be shortcuts
that only hold on the builder's own samples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["AmplitudeBranch", "AmplitudeStats"]


class AmplitudeStats(nn.Module):
    """``(batch, samples)`` -> ``(batch, features)``: log shares of samples near the peak, the
    crest factor, and the same near-peak shares over the quarter-second blocks' own peaks (so a
    loud transient in one block does not hide clipping in the others)."""

    def __init__(
        self,
        thresholds: Sequence[float] = (0.99, 0.97, 0.94, 0.9, 0.8, 0.6),
        blocks: int = 4,
        floor: float = 1e-5,
    ) -> None:
        super().__init__()
        if not all(0 < t < 1 for t in thresholds):
            raise ValueError(f"thresholds must lie in (0, 1), got {list(thresholds)}")
        self.register_buffer(
            "thresholds", torch.tensor(list(thresholds), dtype=torch.float32), persistent=False
        )
        self.blocks = int(blocks)
        self.floor = float(floor)
        self.num_features = 2 * len(thresholds) + 1

    def _near_peak(self, magnitude: torch.Tensor) -> torch.Tensor:
        """``(..., n)`` magnitudes -> ``(..., thresholds)`` log10 share of samples >= t * peak."""
        peak = torch.amax(magnitude, dim=-1, keepdim=True).clamp(min=1e-8)
        ratio = (magnitude / peak).unsqueeze(-2)  # (..., 1, n)
        share = (ratio >= self.thresholds.unsqueeze(-1)).float().mean(dim=-1)
        return torch.log10(share + self.floor)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        magnitude = waveform.abs()
        whole = self._near_peak(magnitude)  # (B, T)
        usable = (magnitude.shape[-1] // self.blocks) * self.blocks
        per_block = self._near_peak(
            magnitude[:, :usable].reshape(-1, self.blocks, usable // self.blocks)
        )
        # Crest factor from powers, floored with clamp: the ONNX exporter's optimiser drops an
        # ``x + 1e-10`` as adding zero, and digital silence then gives 0/0 = NaN in the export.
        peak_power = torch.amax(waveform.square(), dim=-1).clamp(min=1e-10)
        mean_power = torch.mean(waveform.square(), dim=-1).clamp(min=1e-10)
        crest_db = 10.0 / math.log(10.0) * torch.log(peak_power / mean_power)
        return torch.cat([whole, per_block.mean(dim=1), crest_db.unsqueeze(1) / 10.0], dim=1)


class AmplitudeBranch(nn.Module):
    """Amplitude statistics -> a small embedding, joined to the backbone's features."""

    def __init__(self, out_features: int = 32, **stats: object) -> None:
        super().__init__()
        self.stats = AmplitudeStats(**stats)  # type: ignore[arg-type]
        self.norm = nn.BatchNorm1d(self.stats.num_features)
        self.fc = nn.Linear(self.stats.num_features, out_features)
        self.out_features = int(out_features)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return F.relu(self.fc(self.norm(self.stats(waveform))))
