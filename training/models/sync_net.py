"""SyncNet-style two-stream network: mouth motion and speech mapped into one embedding space.

Both streams are fully convolutional in time and produce one embedding per **5-frame window**
(0.2 s, SyncNet's and Wav2Lip's unit), so a whole track is embedded in one pass and the offset
search (``training.sync.offsets``) compares every video window with the audio windows up to
+-15 frames away. Window ``t`` of either stream covers video frames ``t .. t + 4``.

- Visual: per frame, a small CNN over the 32x64 mouth motion (``sync_inputs.visual_input``) and
  its change since the previous frame, then temporal convolutions (kernel 5 = the window, then
  1x1). Small on purpose: the training data are a few dozen speakers at best.
- Landmarks (``visual="landmarks"``, instead of pixels): per frame the 80 lip-shape features
  (``sync_inputs.lip_shape_input``: 40 FaceMesh lip points, normalised, the track's mean shape
  removed) and their change since the previous frame, two 1-D convolutions, the same temporal
  head. Lip points carry far less identity than pixels, the hard part with few speakers.
- Audio: a CNN over the 40-band log-mel (4 mel frames per video frame), pooled over frequency
  and to one vector per video frame, then the same temporal head.

Embeddings are L2-normalised; similarity is the cosine. Training (``detectors.lip_sync``) treats
the offset search itself as the task: for every video window, a softmax over the 31 candidate
audio windows at -15..+15 frames must pick the true one (multi-way matching, as in "Perfect
match", Chung et al. 2019), a contrastive loss with in-clip shifted negatives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from training.features.sync_inputs import LIP_FEATURES, check_visual_kind

WINDOW = 5  # video frames per embedding window (0.2 s at 25 fps)


def _conv_block(cin: int, cout: int, pool: tuple[int, int] | int) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(pool),
    ]


class TemporalHead(nn.Module):
    """(B, C, T) per-frame features -> (B, D, T - 4) L2-normalised window embeddings."""

    def __init__(self, channels: int, hidden: int, embedding: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(channels, hidden, WINDOW, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Conv1d(hidden, embedding, 1),
        )

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(features), dim=1)


class VisualStream(nn.Module):
    """``mouths`` (B, T, 32, 64) motion frames -> (B, D, T - 4)."""

    def __init__(self, widths: Sequence[int], hidden: int, embedding: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 2
        for width in widths:
            layers += _conv_block(channels, width, 2)
            channels = width
        self.frames = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = TemporalHead(channels, hidden, embedding, dropout)

    def forward(self, mouths: torch.Tensor) -> torch.Tensor:
        batch, steps = mouths.shape[:2]
        previous = torch.cat([mouths[:, :1], mouths[:, :-1]], dim=1)
        pairs = torch.stack([mouths, mouths - previous], dim=2)  # (B, T, 2, h, w)
        per_frame = self.frames(pairs.reshape(batch * steps, 2, *mouths.shape[2:]))
        return self.head(per_frame.reshape(batch, steps, -1).transpose(1, 2))


class LandmarkStream(nn.Module):
    """``lips`` (B, T, 80) lip-shape features -> (B, D, T - 4)."""

    def __init__(
        self, features: int, widths: Sequence[int], hidden: int, embedding: int, dropout: float
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 2 * features
        for index, width in enumerate(widths):
            kernel = 1 if index == 0 else 3  # per frame first, then a little local context
            layers += [
                nn.Conv1d(channels, width, kernel, padding=kernel // 2, bias=False),
                nn.BatchNorm1d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.frames = nn.Sequential(*layers)
        self.head = TemporalHead(channels, hidden, embedding, dropout)

    def forward(self, lips: torch.Tensor) -> torch.Tensor:
        previous = torch.cat([lips[:, :1], lips[:, :-1]], dim=1)
        pairs = torch.cat([lips, lips - previous], dim=2).transpose(1, 2)  # (B, 2F, T)
        return self.head(self.frames(pairs))


class AudioStream(nn.Module):
    """``mel`` (B, 40, 4 * T) normalised log-mel -> (B, D, T - 4). Needs >= 2 blocks (the two
    time-halving ones that bring 4 mel frames per video frame down to one)."""

    def __init__(self, widths: Sequence[int], hidden: int, embedding: int, dropout: float) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"AudioStream needs at least 2 blocks, got widths {list(widths)}")
        layers: list[nn.Module] = []
        channels = 1
        for index, width in enumerate(widths):
            # The first two blocks also halve time: 4 mel frames -> 1 vector per video frame.
            layers += _conv_block(channels, width, (2, 2) if index < 2 else (2, 1))
            channels = width
        self.bands = nn.Sequential(*layers)
        self.head = TemporalHead(channels, hidden, embedding, dropout)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.bands(mel.unsqueeze(1))  # (B, C, F', T)
        return self.head(x.mean(dim=2))


VISUAL_INPUT_NAMES = {"pixels": "mouths", "landmarks": "lips"}


class SyncNet(nn.Module):
    """The two streams; ``forward`` returns (video windows, audio windows) embeddings.

    ``visual`` picks what the visual stream sees: ``pixels`` (mouth motion crops, input
    ``mouths``) or ``landmarks`` (lip shapes, input ``lips``); ``visual_input_name`` says which.
    """

    def __init__(
        self,
        visual: str = "pixels",
        visual_widths: Sequence[int] = (16, 32, 48, 64),
        landmark_widths: Sequence[int] = (96, 96),
        audio_widths: Sequence[int] = (32, 48, 64, 96),
        hidden: int = 128,
        embedding: int = 64,
        dropout: float = 0.2,
        logit_scale: float = 10.0,
    ) -> None:
        super().__init__()
        self.visual_kind = check_visual_kind(visual)
        self.visual_input_name = VISUAL_INPUT_NAMES[visual]
        self.visual: nn.Module = (
            VisualStream(visual_widths, hidden, embedding, dropout)
            if visual == "pixels"
            else LandmarkStream(LIP_FEATURES, landmark_widths, hidden, embedding, dropout)
        )
        self.audio = AudioStream(audio_widths, hidden, embedding, dropout)
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale)).log())

    def forward(self, visual: torch.Tensor, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.visual(visual), self.audio(mel)


def offset_logits(
    video: torch.Tensor, audio: torch.Tensor, context: int, search: int, scale: torch.Tensor
) -> torch.Tensor:
    """Cosine similarity of every video window with the audio windows at -search..+search.

    ``video`` (B, D, W) windows of the track; ``audio`` (B, D, W + 2 * context) windows of the
    track's audio with ``context`` frames before and after. Column ``search + k`` compares video
    window ``t`` with audio window ``t + k`` (audio late by k frames). -> (B, W, 2 * search + 1).
    """
    if search > context:
        raise ValueError(f"search ({search}) cannot exceed the audio context ({context})")
    windows = video.shape[2]
    columns = []
    for k in range(-search, search + 1):
        start = context + k
        columns.append((video * audio[:, :, start : start + windows]).sum(dim=1))
    return torch.stack(columns, dim=2) * scale
