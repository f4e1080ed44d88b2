"""Turn WebDataset frame samples into tensors: PNG decode, frame/mask/label fields, augmentation.

Shard schema (dataset ``block_corruption``): ``frame.png`` (RGB uint8), ``mask.png`` (uint8, 255 =
corrupted pixel), ``json`` (label, impairment / hard negative, severity, area ratio...).
``decode_png`` is a WebDataset handler that keeps a mask single-channel (the built-in image
handler would turn it into RGB). ``FrameMaskSample`` is the detector-facing view of a sample and
``RandomAlignedCrop`` the train-time augmentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import default_collate

MACROBLOCK = 16
CLEAN_GROUP = "clean"
OTHER_GROUP = "other"


def decode_png(key: str, data: bytes) -> np.ndarray | None:
    """WebDataset decode handler: ``*.png`` -> ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8.

    Returns ``None`` for other keys so later handlers (JSON, audio) get their turn.
    """
    if not key.lower().endswith(".png"):
        return None
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"{key}: not a decodable PNG ({len(data)} bytes)")
    if image.dtype != np.uint8:
        raise ValueError(f"{key}: expected 8-bit PNG, got {image.dtype}")
    if image.ndim == 3:
        if image.shape[2] == 4:
            raise ValueError(f"{key}: RGBA PNG; frames must be RGB, masks single-channel")
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def sample_group(meta: dict[str, Any], groups: Sequence[str]) -> int:
    """Index of the sample's evaluation group in ``groups``: its impairment (positives), its hard
    negative (clean look-alikes), else ``"clean"``; names not listed fall into ``"other"``."""
    name = meta.get("impairment") or meta.get("hard_negative") or CLEAN_GROUP
    if isinstance(name, dict):  # audio-style annotation dict
        name = name.get("kind", OTHER_GROUP)
    return groups.index(name) if name in groups else groups.index(OTHER_GROUP)


class FrameMaskSample:
    """Decoded sample -> ``{"frames": (H, W, 3) uint8, "mask": (H, W) bool, "label", "severity",
    "group", "hard_negative", "key"}``.

    ``groups``: evaluation group names (impairments and hard negatives of the build); it must
    contain ``"clean"`` and ``"other"``.
    """

    def __init__(
        self,
        groups: Sequence[str],
        frame_key: str = "frame.png",
        mask_key: str = "mask.png",
    ) -> None:
        self.groups = list(groups)
        missing = {CLEAN_GROUP, OTHER_GROUP} - set(self.groups)
        if missing:
            raise ValueError(f"groups must include {sorted(missing)}, got {self.groups}")
        self.frame_key = frame_key
        self.mask_key = mask_key

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        key = sample.get("__key__", "?")
        url = sample.get("__url__", "?")
        frame, mask, meta = (sample.get(k) for k in (self.frame_key, self.mask_key, "json"))
        if frame is None or mask is None or meta is None:
            raise KeyError(
                f"{url}: sample {key} needs .{self.frame_key}, .{self.mask_key} and .json, "
                f"has {sorted(k for k in sample if not k.startswith('__'))}"
            )
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"{url}: sample {key}: frame must be RGB (H, W, 3), got {frame.shape}")
        if mask.ndim != 2 or mask.shape != frame.shape[:2]:
            raise ValueError(
                f"{url}: sample {key}: mask {mask.shape} must be single-channel {frame.shape[:2]}"
            )
        return {
            "frames": torch.from_numpy(np.ascontiguousarray(frame)),
            "mask": torch.from_numpy(mask > 127),
            "label": int(meta["label_index"]),
            "severity": int(meta.get("severity") or 0),
            "group": sample_group(meta, self.groups),
            "hard_negative": bool(meta.get("hard_negative")),
            "key": key,
        }


class RandomAlignedCrop:
    """Train-time crop of ``size`` at an offset on the 16-px macroblock grid, plus flips.

    Why aligned: corruption follows the codec's macroblock grid, and so do the crops the builder
    stores; an unaligned crop would put block edges where the real ones never are. The label is
    recomputed from the cropped mask (a crop can cut the whole corruption away), which keeps the
    contract "corrupted iff the mask has a corrupted pixel". Randomness comes from torch's
    generator, which Lightning seeds per worker.
    """

    def __init__(
        self, size: int = 224, hflip_p: float = 0.5, vflip_p: float = 0.0, align: int = MACROBLOCK
    ) -> None:
        if size <= 0 or size % align:
            raise ValueError(f"crop size must be a positive multiple of {align}, got {size}")
        if not (0 <= hflip_p <= 1 and 0 <= vflip_p <= 1):
            raise ValueError("flip probabilities must be in [0, 1]")
        self.size, self.align = int(size), int(align)
        self.hflip_p, self.vflip_p = float(hflip_p), float(vflip_p)

    def _offset(self, length: int) -> int:
        positions = (length - self.size) // self.align + 1
        return int(torch.randint(positions, ())) * self.align

    def _offset_within(self, slack: int) -> int:
        return int(torch.randint(slack // self.align + 1, ())) * self.align

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        frames, mask = sample["frames"], sample["mask"]
        height, width = mask.shape
        if height < self.size or width < self.size:  # small sources (QCIF): letterbox first
            top = self._offset_within(self.size - height) if height < self.size else 0
            left = self._offset_within(self.size - width) if width < self.size else 0
            frames, mask = letterbox(
                frames, mask, max(height, self.size), max(width, self.size), top, left
            )
            height, width = mask.shape
        top, left = self._offset(height), self._offset(width)
        frames = frames[top : top + self.size, left : left + self.size]
        mask = mask[top : top + self.size, left : left + self.size]
        if float(torch.rand(())) < self.hflip_p:
            frames, mask = frames.flip(1), mask.flip(1)
        if float(torch.rand(())) < self.vflip_p:
            frames, mask = frames.flip(0), mask.flip(0)
        corrupted = bool(mask.any())
        return {
            **sample,
            "frames": frames.contiguous(),
            "mask": mask.contiguous(),
            "label": int(corrupted),
            "severity": sample["severity"] if corrupted else 0,
        }


def letterbox(
    frames: torch.Tensor, mask: torch.Tensor, height: int, width: int, top: int = 0, left: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Place a frame (H, W, 3) and its mask (H, W) on black bars of ``height x width``.

    Why black bars and not edge replication or a resize: letterboxing is what real pictures get,
    replicated edges look like the row smears the corrupted class holds, and a resize would move
    the macroblock grid the corruption follows. The bars are clean in the mask.
    """
    canvas = frames.new_zeros((height, width, frames.shape[-1]))
    canvas[top : top + frames.shape[0], left : left + frames.shape[1]] = frames
    bars = mask.new_zeros((height, width))
    bars[top : top + mask.shape[0], left : left + mask.shape[1]] = mask
    return canvas, bars


def letterbox_collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Collate frames of different sizes: letterbox each to the batch's largest (bottom/right
    bars, clean in the mask), then collate as usual. Stored crops are one size except from sources
    smaller than the crop (QCIF); the model is fully convolutional, so the bars cost only compute.
    """
    height = max(int(sample["mask"].shape[0]) for sample in samples)
    width = max(int(sample["mask"].shape[1]) for sample in samples)
    padded = []
    for sample in samples:
        if tuple(sample["mask"].shape) != (height, width):
            frames, mask = letterbox(sample["frames"], sample["mask"], height, width)
            sample = {**sample, "frames": frames, "mask": mask}
        padded.append(sample)
    return default_collate(padded)
