"""Block-corruption map model: RGB frames in, a corruption-probability map and frame decisions out.

The published production design: ResNet18 whose classifier is replaced by a 1x1 convolution, so
the network is fully convolutional with stride 32 and returns one corruption probability per
32x32 region (224x224 -> 7x7, 1080x1920 -> 34x60). Two frame decisions are made from it:

- **v1** (published): binarize the map at ``map_threshold``; corrupted-area ratio = positive cells
  / all cells; the frame is corrupted when that ratio exceeds ``area_threshold`` (0.07).
- **v2**: a small head on the map statistics and the pooled trunk features gives a frame logit,
  trained jointly with the map. It exists because v1 cannot see a corruption smaller than 7% of
  the frame, while a single corrupted macroblock already makes a frame "corrupted".

Input normalisation is inside (uint8 or 0-255 RGB, channels last, as decoders return frames), so
an export takes raw frames and users need nothing else. Thresholds are buffers: checkpoints and
exports carry the decision rule with the weights.
"""

from __future__ import annotations

from typing import NamedTuple

import timm
import torch
from torch import nn

__all__ = ["BlockMapModel", "BlockMapOutputs", "build_block_map_model", "pool_mask_to_map"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STRIDE = 32


class BlockMapOutputs(NamedTuple):
    """Model outputs, named; the same names label the ONNX outputs.

    ``corruption_map_logits``/``corruption_map``: ``(batch, ceil(H/32), ceil(W/32))``;
    ``frame_logit``/``frame_score``: v2, ``(batch,)``; ``area_ratio``: v1, ``(batch,)``.
    """

    corruption_map_logits: torch.Tensor
    corruption_map: torch.Tensor
    frame_logit: torch.Tensor
    frame_score: torch.Tensor
    area_ratio: torch.Tensor


class FrameNormalizer(nn.Module):
    """``(batch, H, W, 3)`` RGB with values in ``[0, input_range]`` -> ImageNet-normalised NCHW."""

    def __init__(self, input_range: float = 255.0) -> None:
        super().__init__()
        if input_range <= 0:
            raise ValueError(f"input_range must be > 0 (255 for uint8 frames), got {input_range}")
        # Not persistent: derived from the config, so weights load whatever the input range.
        scale = torch.tensor(IMAGENET_STD) * float(input_range)
        mean = (torch.tensor(IMAGENET_MEAN) * input_range).view(1, 3, 1, 1)
        self.register_buffer("mean", mean, persistent=False)
        self.register_buffer("inverse_std", (1.0 / scale).view(1, 3, 1, 1), persistent=False)
        self.input_range = float(input_range)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.permute(0, 3, 1, 2).to(torch.float32)
        return (x - self.mean) * self.inverse_std


class FrameHead(nn.Module):
    """v2 decision: map statistics + mean- and max-pooled trunk features -> one frame logit.

    Max pooling matters: a corruption can cover one cell, which a mean over a 1080p frame
    (2040 cells) would dilute to nothing.
    """

    def __init__(self, channels: int, hidden: int = 128, dropout: float = 0.2) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(2 * channels + 3, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )

    def forward(self, features: torch.Tensor, map_logits: torch.Tensor) -> torch.Tensor:
        probabilities = torch.sigmoid(map_logits)
        stats = torch.stack(
            [
                probabilities.mean(dim=(1, 2)),
                probabilities.amax(dim=(1, 2)),
                map_logits.amax(dim=(1, 2)),
            ],
            dim=1,
        )
        pooled = torch.cat([features.mean(dim=(2, 3)), features.amax(dim=(2, 3)), stats], dim=1)
        return self.layers(pooled).squeeze(1)


class BlockMapModel(nn.Module):
    """Normaliser -> ResNet trunk (stride 32) -> 1x1 conv map head, plus the v2 frame head.

    Args:
        backbone: a timm model whose ``forward_features`` returns ``(batch, C, H/32, W/32)``.
        map_threshold: v1 cell binarisation threshold on map probabilities.
        area_threshold: v1 frame decision: corrupted when area ratio > this.
        frame_threshold: v2 frame decision: corrupted when frame score > this.
        input_range: 255 for uint8/0-255 frames, 1 for 0-1 floats.
    """

    def __init__(
        self,
        backbone: nn.Module,
        map_threshold: float = 0.5,
        area_threshold: float = 0.07,
        frame_threshold: float = 0.5,
        input_range: float = 255.0,
        head_hidden: int = 128,
        head_dropout: float = 0.2,
    ) -> None:
        super().__init__()
        for name, value in (
            ("map_threshold", map_threshold),
            ("area_threshold", area_threshold),
            ("frame_threshold", frame_threshold),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        channels = int(getattr(backbone, "num_features", 0))
        if channels <= 0:
            raise ValueError("backbone must expose num_features (a timm model)")
        self.normalizer = FrameNormalizer(input_range)
        self.backbone = backbone
        self.map_head = nn.Conv2d(channels, 1, kernel_size=1)
        self.frame_head = FrameHead(channels, head_hidden, head_dropout)
        self.register_buffer("map_threshold", torch.tensor(float(map_threshold)))
        self.register_buffer("area_threshold", torch.tensor(float(area_threshold)))
        self.register_buffer("frame_threshold", torch.tensor(float(frame_threshold)))
        self.stride = STRIDE

    def forward(self, frames: torch.Tensor) -> BlockMapOutputs:
        features = self.backbone.forward_features(self.normalizer(frames))
        map_logits = self.map_head(features).squeeze(1)
        corruption_map = torch.sigmoid(map_logits)
        positives = (corruption_map > self.map_threshold).to(corruption_map.dtype)
        frame_logit = self.frame_head(features, map_logits)
        return BlockMapOutputs(
            corruption_map_logits=map_logits,
            corruption_map=corruption_map,
            frame_logit=frame_logit,
            frame_score=torch.sigmoid(frame_logit),
            area_ratio=positives.mean(dim=(1, 2)),
        )

    def decisions(self, outputs: BlockMapOutputs) -> tuple[torch.Tensor, torch.Tensor]:
        """``(v1, v2)`` boolean frame decisions from this model's thresholds."""
        v1 = outputs.area_ratio > self.area_threshold
        v2 = outputs.frame_score > self.frame_threshold
        return v1, v2

    def settings(self) -> dict[str, float | int]:
        return {
            "stride": self.stride,
            "map_threshold": round(float(self.map_threshold), 6),
            "area_threshold": round(float(self.area_threshold), 6),
            "frame_threshold": round(float(self.frame_threshold), 6),
            "input_range": self.normalizer.input_range,
        }


def build_block_map_model(
    backbone: str = "resnet18",
    pretrained: bool = False,
    pretrained_path: str | None = None,
    map_threshold: float = 0.5,
    area_threshold: float = 0.07,
    frame_threshold: float = 0.5,
    input_range: float = 255.0,
    head_hidden: int = 128,
    head_dropout: float = 0.2,
) -> BlockMapModel:
    """Hydra target. ``pretrained=true`` loads timm's ImageNet weights (network needed, from the
    Hugging Face hub); ``pretrained_path`` loads them from a local timm/torchvision weights file
    instead (machines without network). The classifier is dropped (``num_classes=0``, no pooling).
    """
    kwargs: dict[str, object] = {"num_classes": 0, "global_pool": ""}
    if pretrained_path:
        kwargs["pretrained_cfg_overlay"] = {"file": str(pretrained_path)}
    trunk = timm.create_model(backbone, pretrained=bool(pretrained or pretrained_path), **kwargs)
    return BlockMapModel(
        trunk,
        map_threshold=map_threshold,
        area_threshold=area_threshold,
        frame_threshold=frame_threshold,
        input_range=input_range,
        head_hidden=head_hidden,
        head_dropout=head_dropout,
    )


def pool_mask_to_map(mask: torch.Tensor, map_shape: tuple[int, int]) -> torch.Tensor:
    """Per-pixel mask ``(batch, H, W)`` -> fraction of corrupted pixels per map cell.

    Cells are the trunk's 32x32 receptive-field tiles; edge cells of a size that is not a multiple
    of 32 average only the pixels they cover (``ceil_mode``), as the trunk's padding does.
    """
    pooled = nn.functional.avg_pool2d(
        mask.unsqueeze(1).to(torch.float32), kernel_size=STRIDE, stride=STRIDE, ceil_mode=True
    ).squeeze(1)
    if tuple(pooled.shape[-2:]) != tuple(map_shape):
        raise ValueError(
            f"mask {tuple(mask.shape[-2:])} pools to {tuple(pooled.shape[-2:])}, "
            f"but the map is {tuple(map_shape)}"
        )
    return pooled
