"""Freeze/stutter network: per-frame embeddings of frame differences, then temporal convolutions.

Input, per frame: the difference statistics (``frame_differences.STAT_NAMES``, measured at
analysis resolution: they carry the exact-zero / noise-floor distinction) and the 96x128 luma
thumbnails, from which the network takes |frame - previous| and |frame - two back| (where the
picture changes; a tiny CNN pools them into a vector). A stack of dilated, non-causal 1-D
convolutions then looks about 1.3 s each way (receptive field 63 frames), which is what tells a
freeze (motion, then nothing, then a jump) from a still shot (nothing throughout) and a stutter
(a cadence of repeats) from a frame drop. Output: per-frame logits over normal / freeze /
stutter. Fully convolutional in time, so any clip length works, and detect.py runs long files
in overlapping windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn


class FrameScores(NamedTuple):
    logits: torch.Tensor  # (B, T, classes)
    probabilities: torch.Tensor  # (B, T, classes)


def signed_log(x: torch.Tensor) -> torch.Tensor:
    """Compress heavy-tailed statistics (mean |difference| runs from 0 to ~100) sign-safely."""
    return torch.sign(x) * torch.log1p(x.abs() * 100.0)


class DifferenceCNN(nn.Module):
    """|thumb_t - thumb_{t-1}| and |thumb_t - thumb_{t-2}| at 48x64 -> a vector per frame."""

    def __init__(self, widths: Sequence[int] = (8, 16, 32), out: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 2
        for width in widths:
            layers += [
                nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.GELU(),
            ]
            channels = width
        self.features = nn.Sequential(*layers)
        self.project = nn.Linear(2 * channels, out)

    def forward(self, thumbs: torch.Tensor) -> torch.Tensor:
        """``thumbs`` (B, T, H, W) uint8 or float 0-255 -> (B, T, out)."""
        batch, frames = thumbs.shape[:2]
        x = thumbs.float() / 255.0
        x = nn.functional.avg_pool2d(x.reshape(batch * frames, 1, *x.shape[2:]), 2)
        x = x.reshape(batch, frames, *x.shape[2:])
        previous = torch.cat([x[:, :1], x[:, :-1]], dim=1)
        two_back = torch.cat([x[:, :1], x[:, :1], x[:, :-2]], dim=1)[:, :frames]
        diffs = torch.stack([(x - previous).abs(), (x - two_back).abs()], dim=2)
        # amplify small differences: a noise floor of 1/255 must not vanish next to a cut
        diffs = torch.sqrt(diffs * 255.0 + 1e-6) - 1e-3
        y = self.features(diffs.reshape(batch * frames, 2, *diffs.shape[3:]))
        pooled = torch.cat([y.mean(dim=(2, 3)), y.amax(dim=(2, 3))], dim=1)
        return self.project(pooled).reshape(batch, frames, -1)


class TemporalBlock(nn.Module):
    def __init__(self, channels: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation)
        self.norm = nn.BatchNorm1d(channels)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop(nn.functional.gelu(self.norm(self.conv(x))))


class FreezeNet(nn.Module):
    """(stats (B, T, F), thumbs (B, T, 96, 128)) -> :class:`FrameScores` (B, T, classes)."""

    def __init__(
        self,
        stat_dim: int,
        classes: int = 3,
        embed: int = 64,
        channels: int = 96,
        dilations: Sequence[int] = (1, 2, 4, 8, 16),
        thumb_widths: Sequence[int] = (8, 16, 32),
        dropout: float = 0.1,
        use_thumbs: bool = True,
    ) -> None:
        super().__init__()
        self.stat_dim = int(stat_dim)
        self.use_thumbs = bool(use_thumbs)
        self.stat_norm = nn.BatchNorm1d(stat_dim)
        self.stat_mlp = nn.Sequential(
            nn.Linear(stat_dim, embed), nn.GELU(), nn.Linear(embed, embed)
        )
        self.thumb_cnn = DifferenceCNN(thumb_widths, embed) if use_thumbs else None
        fused = embed * (2 if use_thumbs else 1)
        self.fuse = nn.Conv1d(fused, channels, 1)
        self.temporal = nn.Sequential(*(TemporalBlock(channels, d, dropout) for d in dilations))
        self.head = nn.Conv1d(channels, classes, 1)

    def forward(self, stats: torch.Tensor, thumbs: torch.Tensor) -> FrameScores:
        s = signed_log(stats.float())
        s = self.stat_norm(s.transpose(1, 2)).transpose(1, 2)
        parts = [self.stat_mlp(s)]
        if self.thumb_cnn is not None:
            parts.append(self.thumb_cnn(thumbs))
        x = self.fuse(torch.cat(parts, dim=2).transpose(1, 2))
        logits = self.head(self.temporal(x)).transpose(1, 2)
        return FrameScores(logits, logits.softmax(dim=-1))


def build_freeze_net(**kwargs: object) -> FreezeNet:
    """Hydra entry (``detector.model._target_``)."""
    return FreezeNet(**kwargs)  # type: ignore[arg-type]
