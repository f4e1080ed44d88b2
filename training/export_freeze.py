"""Export the freeze/stutter network: any clip length in, per-frame probabilities out.

Inputs are what ``impairments.video.frame_differences.clip_features`` computes from decoded
frames (``stats`` float32 (batch, frames, F), ``thumbs`` uint8 (batch, frames, 96, 128)), so
detect.py and any other runtime need only that module and ONNX Runtime. Parity is checked at
three clip lengths, since the frame axis is dynamic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from impairments.video.frame_differences import FEATURE_VERSION, STAT_NAMES, THUMB_SIZE
from training.export_common import (
    copy_checkpoint,
    graph_parity,
    provenance,
    write_card,
    write_graphs,
)
from training.models.freeze_net import FrameScores, FreezeNet

INPUT_NAMES = ["stats", "thumbs"]
OUTPUT_NAMES = list(FrameScores._fields)
PARITY_LENGTHS = (9, 75, 250)


def parity_inputs(frames: int, stat_dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Plausible features: mostly moving frames, a run of exact repeats, a noisy still part."""
    rng = np.random.default_rng(seed)
    stats = np.abs(rng.normal(2.0, 1.0, size=(1, frames, stat_dim))).astype(np.float32)
    stats[:, frames // 3 : frames // 2] = 0.0
    thumbs = rng.integers(0, 256, size=(1, frames, *THUMB_SIZE), dtype=np.uint8)
    thumbs[:, frames // 3 : frames // 2] = thumbs[:, frames // 3 : frames // 3 + 1]
    return stats, thumbs


def export_freeze(
    net: FreezeNet,
    meta: dict[str, Any],
    checkpoint: Path,
    output_dir: Path,
    metrics: dict[str, Any] | None,
    opset: int,
    tolerance: float,
) -> Path:
    """Write ONNX, TorchScript, the checkpoint and the card; fail on a parity difference."""
    net.eval()
    example = tuple(torch.from_numpy(a) for a in parity_inputs(32, net.stat_dim))
    axes = {name: {0: "batch", 1: "frames"} for name in INPUT_NAMES + OUTPUT_NAMES}
    write_graphs(net, example, output_dir, INPUT_NAMES, OUTPUT_NAMES, axes, opset)
    copy_checkpoint(checkpoint, output_dir)
    differences = graph_parity(
        net,
        output_dir,
        INPUT_NAMES,
        OUTPUT_NAMES,
        (parity_inputs(frames, net.stat_dim, seed=frames) for frames in PARITY_LENGTHS),
        compared=["probabilities"],
    )
    detector = meta["detector"]
    card = {
        "detector": detector.get("name"),
        "classes": list(detector.get("classes") or []),
        "groups": list(detector.get("groups") or []),
        "feature_version": FEATURE_VERSION,
        "inputs": {
            "stats": {
                "shape": ["batch", "frames", len(STAT_NAMES)],
                "dtype": "float32",
                "names": list(STAT_NAMES),
                "meaning": "frame_differences.difference_stats of the decoded frames",
            },
            "thumbs": {
                "shape": ["batch", "frames", *THUMB_SIZE],
                "dtype": "uint8",
                "meaning": "frame_differences.thumbnails (BT.601 luma, area-resized)",
            },
        },
        "outputs": OUTPUT_NAMES,
        "output_shapes": {name: ["batch", "frames", 3] for name in OUTPUT_NAMES},
        "receptive_field_frames": 1 + 2 * sum(net_dilations(net)),
        "parameters": sum(p.numel() for p in net.parameters()),
        "detect": detector.get("detect") or {},
        "parity": {**differences, "tolerance": tolerance, "lengths": list(PARITY_LENGTHS)},
        **provenance(meta, checkpoint, metrics, opset),
    }
    worst = max(differences.values())
    return write_card(output_dir, card, worst, tolerance, checkpoint)


def net_dilations(net: FreezeNet) -> list[int]:
    return [int(block.conv.dilation[0]) for block in net.temporal]
