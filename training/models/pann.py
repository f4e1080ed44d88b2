"""PANN-style segment classifiers: waveform -> log-mel -> CNN -> class logits, all in one module.

The plain ``nn.Module`` here is what gets exported (ONNX / TorchScript); the Lightning wrapper in
``training.detectors`` only adds steps, losses and metrics. Feature extraction lives inside so an
export takes raw waveform and users need nothing else.

Two backbones share the same interface ``(batch, 1, frames, mels) -> (batch, features)``:

- ``Cnn14Backbone``: the published PANNs CNN14 (Kong et al. 2020), with the published attribute
  names (``bn0``, ``conv_block1..6``, ``fc1``) so AudioSet checkpoints load key for key.
- ``LightBackbone``: a temporal CNN over the same log-mel (mel bins as channels, four 1-D conv
  layers, mean+max over time). It trains in minutes on 2 CPU cores and analyses an hour of
  audio in about a second, where CNN14 would take minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from training.features.amplitude import AmplitudeBranch
from training.features.logmel import LogMel
from training.features.mains import MainsBranch

__all__ = [
    "Cnn14Backbone",
    "LightBackbone",
    "SegmentClassifier",
    "SegmentScores",
    "build_backbone",
    "build_segment_classifier",
]


class SegmentScores(NamedTuple):
    """Model outputs, named; the same names label the ONNX outputs."""

    logits: torch.Tensor
    probabilities: torch.Tensor


class ConvBlock(nn.Module):
    """PANNs' ConvBlock: two 3x3 conv-BN-ReLU then pooling (attribute names as published)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool_size: tuple[int, int] = (2, 2)) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        if pool_size != (1, 1):
            x = F.avg_pool2d(x, kernel_size=pool_size)
        return x


class Cnn14Backbone(nn.Module):
    """CNN14 up to its 2048-d embedding (``fc1``); input ``(batch, 1, time, mels)`` as in PANNs.

    ``widths`` exists so tests can build a small network with the published key names; the default
    is the published one (~80 M parameters).
    """

    published_prefixes = ("bn0.", "conv_block", "fc1.")

    def __init__(
        self,
        n_mels: int = 64,
        widths: Sequence[int] = (64, 128, 256, 512, 1024, 2048),
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if len(widths) != 6:
            raise ValueError(f"Cnn14Backbone needs 6 block widths, got {list(widths)}")
        self.bn0 = MelBatchNorm(n_mels)
        channels = [1, *widths]
        for index in range(6):
            setattr(self, f"conv_block{index + 1}", ConvBlock(channels[index], channels[index + 1]))
        self.fc1 = nn.Linear(widths[-1], widths[-1], bias=True)
        self.dropout = float(dropout)
        self.out_features = int(widths[-1])

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.bn0(logmel)
        blocks = [self.conv_block1, self.conv_block2, self.conv_block3]
        blocks += [self.conv_block4, self.conv_block5, self.conv_block6]
        for index, block in enumerate(blocks):
            x = block(x, pool_size=(2, 2) if index < 5 else (1, 1))
            x = F.dropout(x, p=self.dropout, training=self.training)
        x = torch.mean(x, dim=3)  # over mel
        x = torch.amax(x, dim=2) + torch.mean(x, dim=2)  # over time
        x = F.dropout(x, p=0.5, training=self.training)
        return F.relu(self.fc1(x))


class MelBatchNorm(nn.BatchNorm1d):
    """BatchNorm over mel bins of a ``(batch, 1, time, mels)`` log-mel, as PANNs' ``bn0``.

    Same parameters and state-dict keys as PANNs' ``BatchNorm2d(64)`` (so CNN14 weights load),
    but computed on a ``(batch * time, mels)`` view: no transposes in the exported graph.
    """

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        frames, mels = logmel.shape[-2], logmel.shape[-1]
        return super().forward(logmel.reshape(-1, mels)).reshape(-1, 1, frames, mels)


class LightBackbone(nn.Module):
    """Temporal CNN: mel bins are the input channels, 1-D convolutions run over time.

    Why this shape for the light model (in the spirit of TC-ResNet for on-device keyword
    spotting): every layer sees the whole spectrum at once, so a hum line, a hiss floor or the
    harmonics distortion adds are one learned channel each; the GEMMs are large and dense, so it
    runs ~4x faster per FLOP than a small 2-D CNN on 2 CPU cores in both PyTorch and ONNX Runtime.
    The head keeps mean and max over time of every channel: the mean for stationary defects (hum,
    hiss), the max for one-frame events (clicks).
    """

    def __init__(
        self,
        n_mels: int = 64,
        widths: Sequence[int] = (96, 96, 128, 128),
        pool_after: Sequence[int] = (1,),
        hidden: int = 128,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.bn0 = MelBatchNorm(n_mels)
        channels = [n_mels, *widths]
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(channels[i], channels[i + 1], 3, padding=1, bias=False),
                nn.BatchNorm1d(channels[i + 1]),
                nn.ReLU(inplace=True),
            )
            for i in range(len(widths))
        )
        self.pool_after = frozenset(int(i) for i in pool_after)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * widths[-1], hidden)
        self.out_features = int(hidden)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.bn0(logmel).squeeze(1).transpose(1, 2)  # (B, mels, time)
        for index, block in enumerate(self.blocks):
            x = block(x)
            if index in self.pool_after:
                x = F.avg_pool1d(x, 2) + F.max_pool1d(x, 2)
        stats = torch.cat([torch.mean(x, dim=2), torch.amax(x, dim=2)], dim=1)
        return F.relu(self.fc1(self.dropout(stats)))


class Light2dBlock(nn.Module):
    """3x3 conv-BN-ReLU then (avg + max) 2x2 pooling."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.conv(x)))
        return F.avg_pool2d(x, 2) + F.max_pool2d(x, 2)


class Light2dBackbone(nn.Module):
    """A small CNN14-shaped 2-D network (one conv per block) whose head keeps per-frequency-band
    statistics (mean and max over time per band) instead of CNN14's mean over frequency."""

    def __init__(
        self,
        n_mels: int = 64,
        widths: Sequence[int] = (16, 32, 64, 128),
        hidden: int = 128,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        self.bn0 = MelBatchNorm(n_mels)
        channels = [1, *widths]
        self.blocks = nn.Sequential(
            *(Light2dBlock(channels[i], channels[i + 1]) for i in range(len(widths)))
        )
        bands = n_mels // 2 ** len(widths)
        if bands < 1:
            raise ValueError(f"{len(widths)} blocks halve {n_mels} mel bins below one band")
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(2 * widths[-1] * bands, hidden)
        self.out_features = int(hidden)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.bn0(logmel))  # (B, C, time, bands)
        stats = torch.cat([torch.mean(x, dim=2), torch.amax(x, dim=2)], dim=1)
        return F.relu(self.fc1(self.dropout(stats.flatten(1))))


class SegmentClassifier(nn.Module):
    """Raw waveform segments ``(batch, samples)`` -> :class:`SegmentScores`.

    ``backbone`` is exposed by name so fine-tuning can freeze it (see the Lightning wrapper).
    ``branches`` are optional waveform-feature networks whose embeddings join the backbone's
    (:data:`BRANCHES`); they are not part of the backbone, so they train with the classifier
    while a pretrained backbone is frozen.
    """

    def __init__(
        self,
        frontend: LogMel,
        backbone: nn.Module,
        num_classes: int,
        dropout: float = 0.2,
        branches: dict[str, nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.frontend = frontend
        self.backbone = backbone
        self.branches = nn.ModuleDict(branches or {})
        self.dropout = nn.Dropout(dropout)
        width = backbone.out_features + sum(b.out_features for b in self.branches.values())
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, waveform: torch.Tensor) -> SegmentScores:
        features = self.backbone(self.frontend(waveform))
        if len(self.branches):
            extra = [branch(waveform) for branch in self.branches.values()]
            features = torch.cat([features, *extra], dim=1)
        logits = self.classifier(self.dropout(features))
        return SegmentScores(logits=logits, probabilities=torch.softmax(logits, dim=-1))


# Waveform branches next to the log-mel backbone: name -> builder(frontend, **config kwargs).
BRANCHES: dict[str, Callable[..., nn.Module]] = {
    "mains": lambda frontend, **kw: MainsBranch(
        sample_rate=frontend.sample_rate, segment_samples=frontend.segment_samples, **kw
    ),
    "amplitude": lambda frontend, **kw: AmplitudeBranch(**kw),
}


def build_backbone(name: str, n_mels: int, **kwargs: object) -> nn.Module:
    """``light`` or ``cnn14``; extra keyword arguments go to the backbone (widths, dropout...)."""
    builders: dict[str, type[nn.Module]] = {
        "light": LightBackbone,
        "light2d": Light2dBackbone,
        "cnn14": Cnn14Backbone,
    }
    if name not in builders:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(builders)}")
    return builders[name](n_mels=n_mels, **kwargs)


def build_segment_classifier(
    classes: Sequence[str],
    features: dict,
    backbone: str = "light",
    backbone_kwargs: dict | None = None,
    dropout: float = 0.2,
    pretrained_path: str | None = None,
    branches: dict[str, dict | None] | None = None,
) -> SegmentClassifier:
    """What the Hydra config instantiates (``detector.model``); loads PANN weights if asked.

    ``branches``: name in :data:`BRANCHES` -> keyword arguments (``{}`` for the defaults, None to
    leave that branch out). None or ``{}`` gives the log-mel network alone (the published shape).
    """
    frontend = LogMel(**features)
    built: dict[str, nn.Module] = {}
    for name, kwargs in (branches or {}).items():
        if kwargs is None:
            continue
        if name not in BRANCHES:
            raise ValueError(f"unknown branch {name!r}; choose from {sorted(BRANCHES)}")
        built[name] = BRANCHES[name](frontend, **kwargs)
    net = SegmentClassifier(
        frontend,
        build_backbone(backbone, frontend.n_mels, **(backbone_kwargs or {})),
        num_classes=len(classes),
        dropout=dropout,
        branches=built,
    )
    if pretrained_path:
        from training.models.pretrained import load_pann_weights

        load_pann_weights(net.backbone, pretrained_path)
    return net
